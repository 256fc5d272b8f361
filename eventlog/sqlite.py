"""The log and key store of the library's SQLite recorder, on its own connection.

The recorder keeps a stream id as UUID.hex (32 lower-case digits, which sorts as
the UUID does) when its ids are UUIDs, and a row's position is its rowid.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterable, Sequence

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from eventlog.keys import KeyKind, NewKey
from eventlog.base import EVERY, Cursor, EventLog, Raw, Share, TableKeyStore, bounds


CHUNK = 500  # ids per `IN` list: SQLite allows 999 parameters by default


class SQLiteRecorder(SQLiteApplicationRecorder):
    """The library's recorder, writing a command's new keys in its events' transaction (eventlog/keys.py)."""
    WRITES_KEYS = True

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], *, keys: Sequence[NewKey] = (),
                       **kwargs: Any) -> Sequence[int] | None:
        for new in keys:
            new.store.insert(c, new.owner, new.key)
        return super()._insert_events(c, stored_events, **kwargs)


class SQLiteLog(EventLog):
    recorder: SQLiteApplicationRecorder

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        super().__init__(recorder)
        self.datastore = recorder.datastore
        self.table = recorder.events_table_name
        self.uuids = self.datastore.originator_id_type == "uuid"
        self.reads_streams = self.uuids

    def page(self, after: int, limit: int, topics: Sequence[str] = (), stop: int | None = None,
             share: Share = EVERY) -> list[Raw]:
        return self._select("rowid > ?", (after,), "rowid", stop, topics, limit, share, from_low=True)

    def streams_page(self, after: Cursor, stop: int, topics: Sequence[str], limit: int,
                     share: Share = EVERY) -> list[Raw]:
        # The share's lower bound is the first cursor's: saying it again, the query would
        # walk the index from there for every page (SQLite takes that range, not the cursor's).
        stream, version = after
        return self._select("(originator_id, originator_version) > (?, ?)", (uuid.UUID(stream).hex, version),
                            "originator_id, originator_version", stop, topics, limit, share, from_low=False)

    def changes_after(self, after: int, limit: int) -> list[tuple[int, uuid.UUID, int]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT rowid, originator_id, originator_version FROM {self.table} "
                           "WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, limit))
            rows = cursor.fetchall()
        return [(position, uuid.UUID(stream), version) for position, stream, version in rows]

    def position_of(self, stream: uuid.UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT rowid FROM {self.table} WHERE originator_id = ? AND originator_version = ?",
                           (stream.hex if self.uuids else str(stream), version))
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def positions_of(self, events: Iterable[tuple[uuid.UUID, int]]) -> dict[tuple[uuid.UUID, int], int]:
        wanted = set(events)
        found = {}
        streams = {stream.hex if self.uuids else str(stream): stream for stream, _ in wanted}
        ids = sorted(streams)
        with self.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                # A stream's rows by the (stream, version) key; those not asked for are left.
                cursor.execute(f"SELECT originator_id, originator_version, rowid FROM {self.table} "
                               f"WHERE originator_id IN ({', '.join('?' * len(chunk))})", chunk)
                for stream, version, position in cursor.fetchall():
                    key = (streams[stream], int(version))
                    if key in wanted:
                        found[key] = int(position)
        return found

    def streams(self, streams: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[StoredEvent]]:
        asked = {stream.hex if self.uuids else str(stream): stream for stream in streams}
        ids = sorted(asked)
        found: dict[uuid.UUID, list[StoredEvent]] = {}
        with self.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
                               f"WHERE originator_id IN ({', '.join('?' * len(chunk))}) "
                               "ORDER BY originator_id, originator_version", chunk)
                for stream, version, topic, state in cursor.fetchall():
                    id = asked[stream]
                    found.setdefault(id, []).append(StoredEvent(id, int(version), topic, state))
        return found

    def make_key_store(self, kind: KeyKind) -> TableKeyStore:
        return TableKeyStore(self.datastore, kind, "", "blob", "?")

    def _select(self, after_sql: str, after: tuple[Any, ...], order: str, stop: int | None,
                topics: Sequence[str], limit: int, share: Share, from_low: bool) -> list[Raw]:
        of_share = self.uuids and share != EVERY
        in_share = "BETWEEN ? AND ?" if from_low else "<= ?"
        where = [after_sql]
        params: list[Any] = [*after]
        if stop is not None:
            where.append("rowid <= ?")
            params.append(stop)
        if topics:
            where.append(f"topic IN ({', '.join('?' * len(topics))})")
            params += topics
        if of_share:
            where.append(f"originator_id {in_share}")
            params += [bound.hex for bound in bounds(share, from_low)]
        sql = (f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.table} "
               f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?")
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, (*params, limit))
            rows = cursor.fetchall()  # sqlite3.Row unpacks like a tuple
        if not self.uuids:
            return [tuple(row) for row in rows]  # type: ignore[misc]
        # As text a stream id is the hyphenated form str(UUID) and PostgreSQL's uuid::text
        # give. Done here rather than by string functions in SQL: half the cost; and
        # once per stream of the page (in stream order, a page is a few events per stream).
        text = {h: f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" if len(h) == 32 else h
                for h in {r[1] for r in rows}}
        return [(position, text[h], version, topic, state) for position, h, version, topic, state in rows]

