"""The witness service (`gridgov witness serve`): C2SP tlog-witness over HTTP.

    POST /add-checkpoint            cosign a checkpoint that extends the last one cosigned
    GET  /<sha256(origin), hex>/checkpoint   the latest cosigned checkpoint of a log

`Witness.add_checkpoint` decides, with the spec's status codes in the spec's order:
400 a malformed body or an old size above the new; 404 an origin not configured;
403 no valid signature of the log's keys (or one of them that fails); 409 an old size other
than the one held (the body says which, as text/x.tlog.size); 422 a proof that does not
verify, a non-empty proof from 0, another root for the held size, an empty tree whose root
is not the empty hash. A log-signed checkpoint that contradicts the held one is kept as
evidence (state.py) whatever the answer.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from transparency.checkpoints import BadNote, Checkpoint, Verifier, key_id, parse_checkpoint
from transparency.cosignature import CosignatureSigner
from transparency.merkle import EMPTY_ROOT, verify_consistency
from transparency.witness.protocol import SIZE_TYPE, AddCheckpoint, Malformed, format_cosignatures, format_size, \
    parse_request, split_note
from transparency.witness.state import Evidence, Held, Transaction, WitnessState

log = logging.getLogger("gridgov.witness")
MAX_BODY = 64 * 1024  # 63 hashes and a note with a few signatures fit many times over
TEXT = "text/plain; charset=utf-8"
MAX_SIZE = 2**63 - 1  # SQLite's largest integer; no log comes near it


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def _say(status: int, why: str) -> Answer:
    return Answer(status, TEXT, (why + "\n").encode())


class Witness:
    def __init__(self, signer: CosignatureSigner, logs: Mapping[str, Sequence[Verifier]], state: WitnessState,
                 clock: Callable[[], float] = time.time) -> None:
        self.signer, self.logs, self.state, self.clock = signer, dict(logs), state, clock

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            request = parse_request(body)
            text, signatures = split_note(request.note)
            checkpoint = parse_checkpoint(text)
        except (Malformed, BadNote) as e:
            return _say(400, str(e))
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            return _say(404, f"this witness does not follow {checkpoint.origin!r}")
        try:
            signed_by_log = _log_signatures(text, signatures, keys)
        except BadNote as e:
            return _say(403, str(e))
        if checkpoint.size > MAX_SIZE:
            return _say(400, "a tree larger than 2^63 - 1 leaves is more than this witness keeps")
        note = text + "\n" + "".join(line + "\n" for line in signed_by_log)
        with self.state.transaction() as tx:
            before = tx.cosigned_at(checkpoint.origin, checkpoint.size)
            if before is not None and before.root != checkpoint.root:  # whatever else is wrong with the request
                self._keep(tx, before, request, checkpoint, note, "same-size-other-root")
            if request.old_size > checkpoint.size:
                return _say(400, "the old size is above the checkpoint's size")
            held = tx.held(checkpoint.origin)
            refusal = self._check(tx, held, request, checkpoint, note)
            if refusal is not None:
                return refusal
            now = max(int(self.clock()), 1)
            line = self.signer.cosign(text, now)
            tx.cosigned(checkpoint.origin, Held(checkpoint.size, checkpoint.root, note + line + "\n", now))
        return Answer(200, TEXT, format_cosignatures([line]))

    def _check(self, tx: Transaction, held: Held | None, request: AddCheckpoint, checkpoint: Checkpoint,
               note: str) -> Answer | None:
        held_size = held.size if held else 0
        if request.old_size != held_size:
            return Answer(409, SIZE_TYPE, format_size(held_size))
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            return _say(422, "a tree of size 0 has the empty tree's root")
        if request.old_size == 0:  # the empty tree is a prefix of every tree: nothing to prove
            return _say(422, "from size 0 the consistency proof is empty") if request.proof else None
        assert held is not None  # held_size == old_size > 0
        if checkpoint.size == held.size:
            if checkpoint.root != held.root:
                return _say(422, "another root for the size this witness cosigned")
            return None if not request.proof else _say(422, "between equal sizes the proof is empty")
        if not verify_consistency(held.size, checkpoint.size, held.root, checkpoint.root, request.proof):
            self._keep(tx, held, request, checkpoint, note, "proof-fails")
            return _say(422, "the consistency proof does not verify from the checkpoint this witness cosigned")
        return None

    def _keep(self, tx: Transaction, held: Held, request: AddCheckpoint, checkpoint: Checkpoint, note: str,
              kind: str) -> None:
        log.warning("%s: a log-signed checkpoint of size %d does not extend the cosigned one of size %d (%s)",
                    checkpoint.origin, checkpoint.size, held.size, kind)
        proof = "".join(base64.b64encode(h).decode() + "\n" for h in request.proof)
        tx.keep_evidence(Evidence(checkpoint.origin, kind, held.note, note, proof, int(self.clock())))

    def latest(self, origin_hash: str) -> Answer:
        for origin in self.logs:
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                held = self.state.held(origin)
                if held is not None:
                    return Answer(200, TEXT, held.note.encode())
        return _say(404, "no checkpoint cosigned for that log")


def _log_signatures(text: str, signatures: Sequence[str], keys: Sequence[Verifier]) -> list[str]:
    """The signature lines of the log's trusted keys, each verified; others are ignored, as the spec says."""
    good = []
    for line in signatures:
        _, name, blob64 = line.split(" ")
        blob = base64.b64decode(blob64)
        for key in keys:
            if key.name == name and blob[:4] == key_id(key.name, key.public):
                try:
                    Ed25519PublicKey.from_public_bytes(key.public).verify(blob[4:], text.encode())
                except InvalidSignature:
                    raise BadNote(f"the signature of {name} does not verify") from None
                good.append(line)
    if not good:
        raise BadNote("no signature of this log's keys")
    return good


def http_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the spec asks of witnesses
        server_version = "gridgov-witness"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

        def do_POST(self) -> None:  # noqa: N802
            if self.path.split("?")[0] != "/add-checkpoint":
                return self._send(_say(404, "POST /add-checkpoint"))
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                return self._send(_say(411, "a Content-Length is needed"), close=True)
            if int(length) > MAX_BODY:
                return self._send(_say(413, "the body is too large for an add-checkpoint"), close=True)
            body = self.rfile.read(int(length))
            try:
                answer = witness.add_checkpoint(body)
            except Exception:  # a bug, or the disk: never a cosignature, and the log will try again
                log.exception("add-checkpoint failed")
                answer = _say(500, "the witness could not record the checkpoint; nothing was cosigned")
            self._send(answer)

        def do_GET(self) -> None:  # noqa: N802
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) == 2 and parts[1] == "checkpoint":
                return self._send(witness.latest(parts[0]))
            self._send(_say(404, "GET /<sha256 of the origin, hex>/checkpoint"))

        def _send(self, answer: Answer, close: bool = False) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.info("%s %s", self.address_string(), format % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(witness: Witness, host: str, port: int, ready: Callable[[int], None] = lambda port: None) -> None:
    """Answer until SIGTERM/SIGINT stops it (the caller's signal handler calls `stop`)."""
    server = http_server(witness, host, port)
    _servers.append(server)
    ready(server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        witness.state.close()


_servers: list[ThreadingHTTPServer] = []


def stop() -> None:
    for server in _servers:
        threading.Thread(target=server.shutdown, daemon=True).start()
