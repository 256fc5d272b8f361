"""What every backend's log adapter offers; the library's recorder interface
does the generic part, each backend module the rest (and the fast paths).

Rows come back as plain tuples, `Raw`: the library's `select_notifications`
makes a Notification and a UUID for every row, and a projection at once turns
the UUID back into text — a third of a rebuild helper's time. Backends that can
ask their database for just these columns do (sqlite.py, postgres.py).

A `Share` is one of `parts` ranges of stream ids (by the id's first byte), so a
rebuild helper can read only the streams it fills (projections.engine.parallel).
"""

from __future__ import annotations

import threading
import uuid
import zlib
from abc import ABC, abstractmethod
from typing import Any, Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from eventlog.keys import KeyKind, KeyStore

Raw = tuple[int, str, int, str, bytes]  # position, stream id (text), version, topic, state
Share = tuple[int, int]  # (part, parts): the streams with share_of(id, parts) == part
EVERY: Share = (0, 1)
Cursor = tuple[str, int]  # (stream id, version): the last event read in stream order


class EventLog(ABC):
    # Whether `streams_page` works: the log can be read in (stream id, version) order.
    reads_streams = False

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder
        self._key_stores: dict[KeyKind, KeyStore] = {}
        self._keys_lock = threading.Lock()

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def page(self, after: int, limit: int, topics: Sequence[str] = (), stop: int | None = None,
             share: Share = EVERY) -> list[Raw]:
        """Up to `limit` rows after position `after` (and up to `stop`), of `topics`
        (all, if none), in log order. Of the streams of `share` where the backend can
        ask for them; the caller still checks, others return every stream."""
        return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
                for n in self.recorder.select_notifications(start=after, limit=limit, stop=stop, topics=topics,
                                                            inclusive_of_start=False)]

    def changes_after(self, after: int, limit: int) -> list[tuple[int, uuid.UUID, int]]:
        """(position, stream, version) of up to `limit` events after position `after`, in log order:
        which streams moved, without their events (application/current.py)."""
        return [(n.id, n.originator_id, n.originator_version)
                for n in self.recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)]

    def stream(self, stream: uuid.UUID, through: int | None = None) -> Sequence[StoredEvent]:
        """A stream's events in version order, up to version `through`."""
        return self.recorder.select_events(stream, lte=through)

    def streams(self, streams: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[StoredEvent]]:
        """Many streams' events, each in version order (a batch's aggregates read ahead,
        application/current.py: `prefetch`); streams with no events are left out."""
        found = {}
        for stream in set(streams):
            events = list(self.stream(stream))
            if events:
                found[stream] = events
        return found

    def streams_page(self, after: Cursor, stop: int, topics: Sequence[str], limit: int,
                     share: Share = EVERY) -> list[Raw]:
        """Up to `limit` rows up to position `stop`, of `topics` and of the streams
        of `share`, in (stream id, version) order after `after` (if `reads_streams`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot read the log in stream order")

    @abstractmethod
    def position_of(self, stream: uuid.UUID, version: int) -> int | None:
        """The log position of a stream's event, or None if there is none."""

    def positions_of(self, events: Iterable[tuple[uuid.UUID, int]]) -> dict[tuple[uuid.UUID, int], int]:
        """`position_of` of many events (an export's thousands): those that exist."""
        found = {}
        for stream, version in set(events):
            position = self.position_of(stream, version)
            if position is not None:
                found[(stream, version)] = position
        return found

    def keys(self, kind: KeyKind = "rider") -> KeyStore:
        """A key store (the riders' or the redemptions'), made (its table too) on
        first use, once."""
        with self._keys_lock:
            if kind not in self._key_stores:
                self._key_stores[kind] = self.make_key_store(kind)
            return self._key_stores[kind]

    @abstractmethod
    def make_key_store(self, kind: KeyKind) -> KeyStore: ...


class TableKeyStore(KeyStore):
    """Keys in a table beside the event store's (`<kind>_keys`, keyed by `<kind>_id`),
    through the library's datastore (so both share its connections). `schema` is
    the table's qualifier, if any; `param` is the driver's placeholder; `ddl_lock`, a
    statement run first in the transaction that makes the table (PostgreSQL's
    creation lock, eventlog/postgres_schema.py)."""

    def __init__(self, datastore: Any, kind: KeyKind, schema: str, blob: str, param: str, ddl_lock: str = "") -> None:
        self.datastore = datastore
        self.table = f"{schema}{kind}_keys"
        self.id = f"{kind}_id"
        self.p = param
        with self.datastore.transaction(commit=True) as cursor:
            if ddl_lock:
                cursor.execute(ddl_lock)
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({self.id} text PRIMARY KEY, key {blob} NOT NULL)")

    def get_or_create(self, owner: uuid.UUID) -> bytes:
        # One round trip for a new owner (RETURNING gives the key made); a second only
        # when one was there already. Registering the city's riders is mostly the first.
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"INSERT INTO {self.table} ({self.id}, key) VALUES ({self.p}, {self.p}) "
                           "ON CONFLICT DO NOTHING RETURNING key", (str(owner), AESGCM.generate_key(bit_length=256)))
            row = cursor.fetchone()
        key = bytes(row["key"] if isinstance(row, dict) else row[0]) if row is not None else self.get(owner)
        assert key is not None
        return key

    def insert(self, cursor: Any, owner: uuid.UUID, key: bytes) -> None:
        cursor.execute(f"INSERT INTO {self.table} ({self.id}, key) VALUES ({self.p}, {self.p})", (str(owner), key))

    def get(self, owner: uuid.UUID) -> bytes | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT key FROM {self.table} WHERE {self.id} = {self.p}", (str(owner),))
            row = cursor.fetchone()
        if row is None:
            return None
        return bytes(row["key"] if isinstance(row, dict) else row[0])

    def delete(self, owner: uuid.UUID) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE {self.id} = {self.p}", (str(owner),))


def stored_event(row: Raw) -> StoredEvent:
    """A row as the library's mapper takes it, to become a domain event."""
    _, stream, version, topic, state = row
    return StoredEvent(uuid.UUID(stream), version, topic, state)


def share_of(stream: str, parts: int) -> int:
    """Which of `parts` shares a stream belongs to, the same in every process: a
    range of the first byte of its id, which for a UUID the log reader can ask
    for in SQL as well, in key order (`share_range`); a
    crc32 of the id if it does not start with two hex digits."""
    try:
        byte = int(stream[:2], 16)
    except ValueError:
        byte = -1  # not hex ("-1" parses, but is no byte either)
    return byte * parts // 256 if 0 <= byte < 256 else zlib.crc32(stream.encode()) % parts


def share_range(share: Share) -> tuple[uuid.UUID, uuid.UUID]:
    """The lowest and highest UUID of a share: the first bytes b with b * parts // 256 == part."""
    part, parts = share
    low, high = -(-256 * part // parts), -(-256 * (part + 1) // parts)
    return uuid.UUID(int=low << 120), uuid.UUID(int=(high << 120) - 1)


def first_cursor(share: Share) -> Cursor:
    """Before the first event of a share, in stream order."""
    return str(share_range(share)[0]), 0


def bounds(share: Share, from_low: bool) -> tuple[uuid.UUID, ...]:
    """The share's range; in stream order only its top, the cursor being the bottom."""
    low, high = share_range(share)
    return (low, high) if from_low else (high,)
