"""What a leaf of the transparency log is: one stored event, as bytes an outsider
can recompute from the stored row alone (docs/audit.md):

    gridgov-leaf-v1 LF
    <position> LF <stream id> LF <version> LF <event type> LF <recorded at> LF
    <payload length> LF <payload bytes>

- position: the event's place in the log (the store's notification id), decimal;
- stream id: the UUID, lower-case with hyphens; version: decimal;
- event type: its declared name, `gridgov.<Name>` (a legacy module-path topic is
  read as its name, so a store written before names were declared hashes the same);
- recorded at: the event's `timestamp` as stored in its payload (UTC, ISO 8601),
  empty if the payload does not decode (a damaged row still has a leaf);
- payload: the stored state bytes, exactly as the store holds them.

The leaves are hashed in log order (transparency/merkle.py), so the tree's size
is the log's length and leaf i is the event at position i + 1 of a gap-free log.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Iterator

import orjson

from domain.events import PREFIX, type_of_topic
from eventlog import EventLog, Raw
from transparency.merkle import leaf_hash

MAGIC = b"gridgov-leaf-v1\n"
PAGE = 5000


def leaf_data(row: Raw, decode: Callable[[bytes], Any] = orjson.loads) -> bytes:
    """A stored row's leaf bytes. `decode`: the store's payload decoder (the mapper's,
    when it compresses or encrypts), to read the recorded time from."""
    position, stream, version, topic, state = row
    state = bytes(state)
    recorded = recorded_at(state, decode)
    head = f"{position}\n{stream}\n{version}\n{PREFIX}{type_of_topic(topic)}\n{recorded}\n{len(state)}\n"
    return MAGIC + head.encode() + state


def recorded_at(state: bytes, decode: Callable[[bytes], Any]) -> str:
    """The payload's `timestamp`; empty when the bytes do not decode to an object with
    one. A damaged payload must still make a leaf (a different one), not stop a verify."""
    try:
        payload = decode(state)
    except Exception:
        return ""
    return str(payload.get("timestamp", "")) if isinstance(payload, dict) else ""


def hash_rows(rows: list[Raw], decode: Callable[[bytes], Any] = orjson.loads) -> list[bytes]:
    """The leaf hashes of a page of rows: `leaf_hash(leaf_data(row))` for each, with the
    calls a million rows would notice folded in (the sequencer and verify use this)."""
    sha256, prefix, names = hashlib.sha256, b"\x00" + MAGIC, {}
    hashes: list[bytes] = []
    keep = hashes.append
    for position, stream, version, topic, state in rows:
        if state.__class__ is not bytes:
            state = bytes(state)
        try:
            recorded = decode(state).get("timestamp", "")  # not an object: no .get
        except Exception:
            recorded = ""
        if recorded.__class__ is not str:
            recorded = str(recorded)
        name = names.get(topic) or names.setdefault(topic, PREFIX + type_of_topic(topic))
        keep(sha256(prefix + f"{position}\n{stream}\n{version}\n{name}\n{recorded}\n{len(state)}\n".encode()
                    + state).digest())
    return hashes


def leaf_hashes(log: EventLog, after: int = 0, stop: int | None = None,
                decode: Callable[[bytes], Any] = orjson.loads) -> Iterator[tuple[int, bytes]]:
    """(position, leaf hash) of every stored event after `after`, in log order, a page at a time."""
    while True:
        page = log.page(after, PAGE, stop=stop)
        for row in page:
            yield row[0], leaf_hash(leaf_data(row, decode))
        if len(page) < PAGE:
            return
        after = page[-1][0]
