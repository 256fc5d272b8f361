"""Who is calling (api/http/callers.py): `known`, the answer given on the event loop for a
token verified before, never differs from `caller`'s, and knows nothing `caller` has not
verified — whatever the header, the token, or how long ago it was verified."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st
from starlette.requests import Request

from api.http import callers
from api.http.auth import EitherOf, Principal, SharedSecret, Unauthenticated, bearer, mint
from domain.events import Role

SECRET = "a-secret-of-at-least-thirty-two-bytes-long"


def request_with(header: str | None) -> Request:
    headers = [] if header is None else [(b"authorization", header.encode("latin-1"))]
    return Request({"type": "http", "method": "POST", "path": "/v1/commands/x", "headers": headers,
                    "query_string": b""})


def outcome(authenticator: Any, header: str | None) -> Principal | str:
    try:
        return callers.caller(request_with(header), authenticator, None)
    except Unauthenticated as e:
        return e.code


tokens = st.one_of(
    st.builds(lambda sub, role, ttl: mint(SECRET, sub, role, ["温江"], ttl_s=ttl),
              st.text(min_size=1, max_size=20), st.sampled_from(list(Role)), st.integers(-100, 3600)),
    st.builds(lambda sub: mint("another-secret-of-at-least-thirty-two-bytes", sub, Role.RIDER), st.text(max_size=5)),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=40))
headers = st.one_of(st.none(), st.builds(lambda scheme, token: f"{scheme}{token}",
                                         st.sampled_from(["Bearer ", "bearer ", "Basic ", ""]), tokens))


def token_of(header: str | None) -> str | None:
    try:
        return bearer(header)
    except Unauthenticated:
        return None


@settings(max_examples=300, deadline=None)
@given(asked=st.lists(headers, min_size=1, max_size=6), again=st.integers(0, 5))
def test_known_is_none_or_what_caller_answers(asked: list[str | None], again: int) -> None:
    for authenticator in (SharedSecret(SECRET), EitherOf(SharedSecret(SECRET), SharedSecret(SECRET))):
        verified: dict[str, Principal] = {}  # by token: what `caller` answered for it
        for header in asked + [asked[again % len(asked)]]:
            who = callers.known(request_with(header), authenticator)
            answer = outcome(authenticator, header)
            if who is not None:
                assert token_of(header) in verified and who == verified[token_of(header)] == answer
            if isinstance(answer, Principal):
                verified[token_of(header)] = answer  # type: ignore[index]


def test_a_token_is_known_until_it_expires() -> None:
    now = [1000.0]
    authenticator = SharedSecret(SECRET)
    authenticator.verified.clock = lambda: now[0]
    token = mint(SECRET, "officer-1", Role.GRID_OFFICER, ttl_s=60)
    assert callers.known(request_with(f"Bearer {token}"), authenticator) is None  # not verified yet
    who = authenticator.verify(token)
    assert callers.known(request_with(f"Bearer {token}"), authenticator) == who
    now[0] = 10.0**10  # past its exp: verified again (by the signature's clock), not known
    assert callers.known(request_with(f"Bearer {token}"), authenticator) is None
