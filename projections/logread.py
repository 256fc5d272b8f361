"""Pages of the notification log as plain tuples, for projections.

The library's `select_notifications` makes a Notification and a UUID for every
row, and a projection at once turns the UUID back into text: together a third
of a rebuild helper's time. For the two recorders we run on, this asks the
same query, of the same table on the recorder's own connection, for just the
columns projections use, with the stream id as text. Any other recorder (the
in-memory one of some tests) goes through `select_notifications`.
"""

from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

Raw = tuple[int, str, int, str, bytes]  # position, stream id, version, topic, state


def read_page(recorder: ApplicationRecorder, after: int, stop: int, topics: Sequence[str], limit: int) -> list[Raw]:
    """Up to `limit` notifications after `after` and up to `stop`, of `topics`, in log order."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, after, stop, topics, limit)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder, after, stop, topics, limit)
    return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(start=after, limit=limit, stop=stop, topics=topics,
                                                   inclusive_of_start=False)]


# The SQLite recorder keeps a UUID as its 32 hex digits; as text a stream id is
# the usual hyphenated form (what str(UUID) gives, and PostgreSQL's uuid::text).
SQLITE_STREAM_ID = ("CASE WHEN length(originator_id) = 32 THEN lower(substr(originator_id, 1, 8) || '-' || "
                    "substr(originator_id, 9, 4) || '-' || substr(originator_id, 13, 4) || '-' || "
                    "substr(originator_id, 17, 4) || '-' || substr(originator_id, 21)) ELSE originator_id END")


def _sqlite(recorder: Any, after: int, stop: int, topics: Sequence[str], limit: int) -> list[Raw]:
    stream = SQLITE_STREAM_ID if recorder.datastore.originator_id_type == "uuid" else "originator_id"
    sql = (f"SELECT rowid, {stream}, originator_version, topic, state FROM {recorder.events_table_name} "
           f"WHERE rowid > ? AND rowid <= ? AND topic IN ({', '.join('?' * len(topics))}) ORDER BY rowid LIMIT ?")
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, (after, stop, *topics, limit))
        return cursor.fetchall()  # sqlite3.Row unpacks like a tuple


def _postgres(recorder: Any, after: int, stop: int, topics: Sequence[str], limit: int) -> list[Raw]:
    sql = (f'SELECT notification_id, originator_id::text, originator_version, topic, state '
           f'FROM "{recorder.datastore.schema}"."{recorder.events_table_name}" '
           "WHERE notification_id > %s AND notification_id <= %s AND topic = ANY(%s) "
           "ORDER BY notification_id LIMIT %s")
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(sql, (after, stop, list(topics), limit), prepare=True)
        return cursor.fetchall()
