"""Asking a witness to cosign (C2SP tlog-witness add-checkpoint), for the sequencer.

`url` is the witness's submission prefix (`http://host:port`); `/add-checkpoint` is
appended unless it is already there. The answer is the witness's signature lines, not
yet checked: the caller keeps those of the witnesses it trusts (CosignatureVerifier).
One keep-alive connection pool per process, as the spec asks of clients, made (and
httpx imported) at the first submission: every engine process imports this module,
few of them submit.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from transparency.witness.protocol import SIZE_TYPE, AddCheckpoint, Malformed, format_request, parse_cosignatures, \
    parse_size_body

if TYPE_CHECKING:
    import httpx

_pool: httpx.Client | None = None
_pool_lock = threading.Lock()


class WitnessError(Exception):
    """The witness did not cosign."""


class Conflict(WitnessError):
    """409: the witness's latest cosigned checkpoint is of another size; submit again from `size`."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness holds a checkpoint of size {size}")
        self.size = size


class Refused(WitnessError):
    """Any other answer than 200 or a well-formed 409 (or a 200 that is not signature lines)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"the witness answered {status}: {text[:200]}")
        self.status, self.text = status, text


class Unreachable(WitnessError):
    """No answer: refused connection, timeout, a connection cut mid-answer."""


def endpoint(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/add-checkpoint") else url + "/add-checkpoint"


def add_checkpoint(url: str, request: AddCheckpoint, timeout_s: float) -> list[str]:
    import httpx

    try:
        answer = _client().post(endpoint(url), content=format_request(request), timeout=timeout_s,
                                headers={"Content-Type": "text/plain; charset=utf-8"})
    except (httpx.HTTPError, httpx.InvalidURL) as e:  # transport errors, timeouts, bad URLs alike: the witness said nothing
        raise Unreachable(f"{url}: {type(e).__name__}: {e}") from None
    if answer.status_code == 200:
        try:
            return parse_cosignatures(answer.content)
        except Malformed as e:
            raise Refused(200, str(e)) from None
    if answer.status_code == 409 and answer.headers.get("content-type", "").split(";")[0].strip() == SIZE_TYPE:
        try:
            raise Conflict(parse_size_body(answer.content))
        except Malformed:
            pass
    raise Refused(answer.status_code, answer.text)


def _client() -> httpx.Client:
    import httpx

    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = httpx.Client(http1=True)
        return _pool
