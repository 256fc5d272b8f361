"""Pages of the notification log as plain tuples, for projections.

The library's `select_notifications` makes a Notification and a UUID for every
row, and a projection at once turns the UUID back into text: together a third
of a rebuild helper's time. For the two recorders we run on, this asks the
same query, of the same table on the recorder's own connection, for just the
columns projections use, with the stream id as text. Any other recorder (the
in-memory one of some tests) goes through `select_notifications`.

A rebuild helper filling one share of the streams (projections.base.share_of:
the id's last byte) asks for that share in SQL too, so it neither fetches
nor skips the other shares' events.
"""

from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

Raw = tuple[int, str, int, str, bytes]  # position, stream id, version, topic, state
Share = tuple[int, int]  # (part, parts): the streams whose id's last byte % parts == part
EVERY = (0, 1)


def read_page(recorder: ApplicationRecorder, after: int, stop: int, topics: Sequence[str], limit: int,
              share: Share = EVERY) -> list[Raw]:
    """Up to `limit` notifications after `after` and up to `stop`, of `topics`, in
    log order; of the streams of `share` only, where the query can say so (the
    caller still checks: other recorders return every stream)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, after, stop, topics, limit, share)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder, after, stop, topics, limit, share)
    return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(start=after, limit=limit, stop=stop, topics=topics,
                                                   inclusive_of_start=False)]


def _sqlite(recorder: Any, after: int, stop: int, topics: Sequence[str], limit: int, share: Share) -> list[Raw]:
    uuids = recorder.datastore.originator_id_type == "uuid"
    # A UUID is kept as 32 hex digits: its last byte is the last two.
    last_bytes = [f"{byte:02x}" for byte in range(256) if byte % share[1] == share[0]]
    of_share = f" AND substr(originator_id, -2) IN ({', '.join('?' * len(last_bytes))})" \
        if uuids and share != EVERY else ""
    sql = (f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
           f"WHERE rowid > ? AND rowid <= ? AND topic IN ({', '.join('?' * len(topics))}){of_share} "
           "ORDER BY rowid LIMIT ?")
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, (after, stop, *topics, *(last_bytes if of_share else ()), limit))
        rows = cursor.fetchall()  # sqlite3.Row unpacks like a tuple
    if not uuids:
        return rows
    # The recorder keeps a UUID as UUID.hex (32 lower-case digits); as text a stream id is
    # the hyphenated form str(UUID) and PostgreSQL's uuid::text give. Done here rather
    # than by string functions in SQL: half the cost.
    return [(position, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" if len(h) == 32 else h, version, topic,
             state) for position, h, version, topic, state in rows]


def _postgres(recorder: Any, after: int, stop: int, topics: Sequence[str], limit: int, share: Share) -> list[Raw]:
    sql = (f'SELECT notification_id, originator_id::text, originator_version, topic, state '
           f'FROM "{recorder.datastore.schema}"."{recorder.events_table_name}" '
           "WHERE notification_id > %s AND notification_id <= %s AND topic = ANY(%s) "
           "AND get_byte(uuid_send(originator_id), 15) %% %s = %s "
           "ORDER BY notification_id LIMIT %s")
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(sql, (after, stop, list(topics), share[1], share[0], limit), prepare=True)
        return cursor.fetchall()
