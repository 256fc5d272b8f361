"""The log and key store of the library's PostgreSQL recorder, on its pool.

Pages are asked for in binary, with the stream id as text, prepared: the log's
readers page through millions of rows (a rebuild).
"""

from __future__ import annotations

import uuid
from typing import Any, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row

from domain.personal import KeyStore
from eventlog.base import EVERY, Cursor, EventLog, Raw, Share, bounds


class PostgresLog(EventLog):
    recorder: PostgresApplicationRecorder
    reads_streams = True

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        super().__init__(recorder)
        self.datastore = recorder.datastore
        self.table = f'"{self.datastore.schema}"."{recorder.events_table_name}"'
        self._keys: PostgresKeyStore | None = None

    def page(self, after: int, limit: int, topics: Sequence[str] = (), stop: int | None = None,
             share: Share = EVERY) -> list[Raw]:
        return self._select("notification_id > %s", (after,), "notification_id", stop, topics, limit, share,
                            from_low=True)

    def streams_page(self, after: Cursor, stop: int, topics: Sequence[str], limit: int,
                     share: Share = EVERY) -> list[Raw]:
        stream, version = after
        return self._select("(originator_id, originator_version) > (%s::uuid, %s)", (stream, version),
                            "originator_id, originator_version", stop, topics, limit, share, from_low=False)

    def position_of(self, stream: uuid.UUID, version: int) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(f"SELECT notification_id FROM {self.table} "
                           "WHERE originator_id = %s AND originator_version = %s", (stream, version))
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def keys(self) -> PostgresKeyStore:
        if self._keys is None:
            self._keys = PostgresKeyStore(self.datastore)
        return self._keys

    def _select(self, after_sql: str, after: tuple[Any, ...], order: str, stop: int | None,
                topics: Sequence[str], limit: int, share: Share, from_low: bool) -> list[Raw]:
        where = [after_sql]
        params: list[Any] = [*after]
        if stop is not None:
            where.append("notification_id <= %s")
            params.append(stop)
        if topics:
            where.append("topic = ANY(%s)")
            params.append(list(topics))
        if share != EVERY or not from_low:
            where.append(f"originator_id {'BETWEEN %s AND %s' if from_low else '<= %s'}")
            params += bounds(share, from_low)
        sql = (f"SELECT notification_id, originator_id::text AS stream_id, originator_version, topic, state "
               f"FROM {self.table} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT %s")
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(sql, (*params, limit), prepare=True, binary=True)
            return cursor.fetchall()


class PostgresKeyStore(KeyStore):
    """Rider keys in a table of the event store's own schema."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore
        self.table = f'"{datastore.schema}".rider_keys'
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (rider_id text PRIMARY KEY, key bytea NOT NULL)")

    def get_or_create(self, rider_id: uuid.UUID) -> bytes:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"INSERT INTO {self.table} (rider_id, key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                           (str(rider_id), AESGCM.generate_key(bit_length=256)))
        key = self.get(rider_id)
        assert key is not None
        return key

    def get(self, rider_id: uuid.UUID) -> bytes | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT key FROM {self.table} WHERE rider_id = %s", (str(rider_id),))
            row = cursor.fetchone()
        if row is None:
            return None
        return bytes(row["key"] if isinstance(row, dict) else row[0])

    def delete(self, rider_id: uuid.UUID) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE rider_id = %s", (str(rider_id),))
