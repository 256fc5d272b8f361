"""Pages of the notification log as plain tuples, for projections.

The library's `select_notifications` makes a Notification and a UUID for every
row, and a projection at once turns the UUID back into text: together a third
of a rebuild helper's time. For the two recorders we run on, this asks the
same query, of the same table on the recorder's own connection, for just the
columns projections use, with the stream id as text. Any other recorder (the
in-memory one of some tests) goes through `select_notifications`.

A rebuild helper filling one share of the streams (projections.base.share_of:
a range of the id's first byte) asks for that share in SQL too, so it neither
fetches nor skips the other shares' events. It may also read in stream order
(`read_streams`), along the store's (stream id, version) key.
"""

from __future__ import annotations

import uuid
from typing import Any, Sequence

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

Raw = tuple[int, str, int, str, bytes]  # position, stream id, version, topic, state
Share = tuple[int, int]  # (part, parts): the streams with share_of(id, parts) == part
EVERY = (0, 1)
Cursor = tuple[str, int]  # (stream id, version): the last event read in stream order


def share_range(share: Share) -> tuple[uuid.UUID, uuid.UUID]:
    """The lowest and highest UUID of a share: the first bytes b with b * parts // 256 == part."""
    part, parts = share
    low, high = -(-256 * part // parts), -(-256 * (part + 1) // parts)
    return uuid.UUID(int=low << 120), uuid.UUID(int=(high << 120) - 1)


def first_cursor(share: Share) -> Cursor:
    """Before the first event of a share, in stream order."""
    return str(share_range(share)[0]), 0


def read_page(recorder: ApplicationRecorder, after: int, stop: int, topics: Sequence[str], limit: int,
              share: Share = EVERY) -> list[Raw]:
    """Up to `limit` notifications after `after` and up to `stop`, of `topics`, in
    log order; of the streams of `share` only, where the query can say so (the
    caller still checks: other recorders return every stream)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, "rowid > ?", (after,), "rowid", stop, topics, limit, share, from_low=True)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder, "notification_id > %s", (after,), "notification_id", stop, topics, limit, share,
                         from_low=True)
    return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in recorder.select_notifications(start=after, limit=limit, stop=stop, topics=topics,
                                                   inclusive_of_start=False)]


def reads_streams(recorder: ApplicationRecorder) -> bool:
    """Whether this recorder's log can be read in stream order (`read_streams`),
    and by share: a UUID-keyed SQLite recorder, or PostgreSQL's."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return recorder.datastore.originator_id_type == "uuid"
    return isinstance(recorder, PostgresApplicationRecorder)


def read_streams(recorder: ApplicationRecorder, after: Cursor, stop: int, topics: Sequence[str], limit: int,
                 share: Share = EVERY) -> list[Raw]:
    """Up to `limit` notifications up to `stop`, of `topics` and of the streams of
    `share`, in (stream id, version) order after `after` (see `reads_streams`)."""
    # The share's lower bound is the first cursor's: saying it again, the query would
    # walk the index from there for every page (SQLite takes that range, not the cursor's).
    stream, version = after
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, "(originator_id, originator_version) > (?, ?)", (uuid.UUID(stream).hex, version),
                       "originator_id, originator_version", stop, topics, limit, share, from_low=False)
    return _postgres(recorder, "(originator_id, originator_version) > (%s::uuid, %s)", (stream, version),
                     "originator_id, originator_version", stop, topics, limit, share, from_low=False)


def _bounds(share: Share, from_low: bool) -> tuple[uuid.UUID, ...]:
    """The share's range; in stream order only its top, the cursor being the bottom."""
    low, high = share_range(share)
    return (low, high) if from_low else (high,)


def _sqlite(recorder: Any, after_sql: str, after: tuple[Any, ...], order: str, stop: int, topics: Sequence[str],
            limit: int, share: Share, from_low: bool) -> list[Raw]:
    uuids = recorder.datastore.originator_id_type == "uuid"
    of_share = uuids and share != EVERY
    in_share = "BETWEEN ? AND ?" if from_low else "<= ?"
    sql = (f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
           f"WHERE {after_sql} AND rowid <= ? AND topic IN ({', '.join('?' * len(topics))})"
           f"{f' AND originator_id {in_share}' if of_share else ''} ORDER BY {order} LIMIT ?")
    # The recorder keeps a UUID as UUID.hex (32 lower-case digits), which sorts as the UUID does.
    bounds = tuple(bound.hex for bound in _bounds(share, from_low)) if of_share else ()
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, (*after, stop, *topics, *bounds, limit))
        rows = cursor.fetchall()  # sqlite3.Row unpacks like a tuple
    if not uuids:
        return rows
    # As text a stream id is the hyphenated form str(UUID) and PostgreSQL's uuid::text
    # give. Done here rather than by string functions in SQL: half the cost; and
    # once per stream of the page (in stream order, a page is a few events per stream).
    text = {h: f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" if len(h) == 32 else h for h in {r[1] for r in rows}}
    return [(position, text[h], version, topic, state) for position, h, version, topic, state in rows]


def _postgres(recorder: Any, after_sql: str, after: tuple[Any, ...], order: str, stop: int,
              topics: Sequence[str], limit: int, share: Share, from_low: bool) -> list[Raw]:
    sql = (f'SELECT notification_id, originator_id::text AS stream_id, originator_version, topic, state '
           f'FROM "{recorder.datastore.schema}"."{recorder.events_table_name}" '
           f"WHERE {after_sql} AND notification_id <= %s AND topic = ANY(%s) "
           f"AND originator_id {'BETWEEN %s AND %s' if from_low else '<= %s'} ORDER BY {order} LIMIT %s")
    bounds = _bounds(share, from_low)
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(sql, (*after, stop, list(topics), *bounds, limit), prepare=True, binary=True)
        return cursor.fetchall()
