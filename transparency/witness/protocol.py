"""The words of C2SP tlog-witness's add-checkpoint, both ways (the server and the client share them).

    request    old <size> LF  <base64 hash> LF …(at most 63)  LF  <signed checkpoint note>
    200        — <witness> <base64 cosignature> LF …           (text/plain)
    409        <the witness's latest cosigned size> LF         (text/x.tlog.size)

Sizes are ASCII decimals with no leading zero; every line ends in LF. Parsing is strict:
a body another client would not have sent is refused (Malformed → 400), never guessed at.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from transparency.checkpoints import DASH

SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF = 63  # the spec's bound on consistency proof lines
HASH_BYTES = 32


class Malformed(ValueError):
    """A body that is not what the protocol says."""


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str  # the signed checkpoint: its text, a blank line, its signature lines


def parse_size(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or (text != "0" and text.startswith("0")):
        raise Malformed(f"not a tree size: {text[:40]!r}")
    return int(text)


def format_request(request: AddCheckpoint) -> bytes:
    lines = [f"old {request.old_size}"] + [base64.b64encode(h).decode() for h in request.proof]
    return ("\n".join(lines) + "\n\n" + request.note).encode()


def parse_request(body: bytes) -> AddCheckpoint:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Malformed("no blank line between the old size and proof and the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise Malformed("the body starts with 'old <size>'")
    old_size = parse_size(lines[0][4:])
    if len(lines) - 1 > MAX_PROOF:
        raise Malformed(f"more than {MAX_PROOF} consistency proof lines")
    proof = [_hash(line) for line in lines[1:]]
    split_note(note)  # malformed notes are refused here, before any key is looked at
    return AddCheckpoint(old_size, proof, note)


def _hash(line: str) -> bytes:
    try:
        raw = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed("a consistency proof line is not base64") from None
    if len(raw) != HASH_BYTES:
        raise Malformed("a consistency proof line is not a 32-byte hash")
    return raw


def split_note(note: str) -> tuple[str, list[str]]:
    """A signed note's text (with its final newline) and its signature lines (without)."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not note.endswith("\n") or not text:
        raise Malformed("a signed note is its text, a blank line, and signature lines, each ending in a newline")
    lines = signatures[:-1].split("\n")
    for line in lines:
        if not is_signature_line(line):
            raise Malformed(f"not a signature line: {line[:60]!r}")
    return text + "\n", lines


def is_signature_line(line: str) -> bool:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != DASH or not parts[1]:
        return False
    try:
        return len(base64.b64decode(parts[2], validate=True)) > 4
    except (binascii.Error, ValueError):
        return False


def format_cosignatures(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def parse_cosignatures(body: bytes) -> list[str]:
    """A 200's signature lines (without their newlines)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the cosignatures are not UTF-8") from None
    if not text.endswith("\n"):
        raise Malformed("the cosignatures do not end in a newline")
    lines = text[:-1].split("\n")
    if not all(is_signature_line(line) for line in lines):
        raise Malformed("an answer line is not a note signature line")
    return lines


def format_size(size: int) -> bytes:
    return f"{size}\n".encode()


def parse_size_body(body: bytes) -> int:
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n"):
        raise Malformed("a size answer ends in a newline")
    return parse_size(text[:-1])
