"""How far a read model has got: the two tracking tables every copy of it has.

  <name>_streams    stream id -> last version applied (drops redelivered events)
  <name>_positions  source -> last position read: "log" (the event store's
                    notification id) or "topic/partition" (a Kafka offset)

They are written in the same transaction as the rows they describe (projector.py),
so a read model and what it says it has seen never disagree. Everyone who asks
how far a read model has got asks here: read-your-writes (`wait`), /readyz and
/metrics, the Kafka consumers seeking to their stored offsets, a rebuild's swap.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Iterable, Mapping

from projections.stores import IN_CHUNK, ReadStore, Tx

if TYPE_CHECKING:
    from projections.base import Projection

LOG = "log"  # the source name of the event store's own log
TABLES = {
    "streams": {"stream_id": "TEXT PRIMARY KEY", "version": "BIGINT NOT NULL"},
    "positions": {"source": "TEXT PRIMARY KEY", "position": "BIGINT NOT NULL"},
}
STREAM_COLUMNS = {"stream_id": "TEXT", "version": "BIGINT"}


def create(tx: Tx, projection: Projection) -> None:
    # A key and a number: in SQLite, one B-tree rather than a table and its key's
    # index; each batch upserts a row per stream it touched (3% of a rebuild, measured).
    for table, columns in TABLES.items():
        spec = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
        tx.execute(f"CREATE TABLE IF NOT EXISTS {projection.table_names[table]} ({spec}){tx.compact_table}")


# --- stream versions ---------------------------------------------------------------------

def versions(tx: Tx, projection: Projection, streams: Iterable[str]) -> dict[str, int]:
    """The version each of `streams` is applied to (absent: none of its events)."""
    rows = tx.select_by_keys(projection.table_names["streams"], ("stream_id", "version"), "stream_id", "TEXT", sorted(streams))
    return {stream: int(version) for stream, version in rows}


def all_versions(tx: Tx, projection: Projection) -> dict[str, int]:
    return {stream: int(version) for stream, version in tx.fetchall(
        projection.sql("SELECT stream_id, version FROM {streams}"))}


def record_versions(tx: Tx, projection: Projection, reached: Mapping[str, int], first_time: bool = False) -> None:
    """`first_time`: no version of these streams is recorded yet (a copy being filled)."""
    rows = list(reached.items())
    if first_time:
        tx.append_many(projection.table_names["streams"], STREAM_COLUMNS, rows)
    else:
        tx.upsert_many(projection.table_names["streams"], STREAM_COLUMNS, rows, ("stream_id",))


def applied(store: ReadStore, projection: Projection, events: list[tuple[str, int]]) -> bool:
    """Whether every (stream, version) of `events` is in the read model."""
    if not events:
        return True
    # Outside any write transaction: read-your-writes polls this while writers work
    # (SQLite's write transaction would take the lock on every look).
    streams = sorted({stream for stream, _ in events})
    have: dict[str, int] = {}
    for i in range(0, len(streams), IN_CHUNK):
        chunk = streams[i:i + IN_CHUNK]
        rows = store.read(projection.sql(f"SELECT stream_id, version FROM {{streams}} WHERE stream_id IN "
                                         f"({', '.join('?' * len(chunk))})"), chunk)
        have.update((stream, int(version)) for stream, version in rows)
    return all(have.get(stream, 0) >= version for stream, version in events)


# --- source positions ---------------------------------------------------------------------

def record_positions(tx: Tx, projection: Projection, marks: Iterable[tuple[str, int]]) -> None:
    furthest: dict[str, int] = {}
    for source, position in marks:
        furthest[source] = max(furthest.get(source, 0), position)
    if furthest:
        # A position never goes back, whatever order batches commit in.
        tx.executemany(projection.sql(
            "INSERT INTO {positions} VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET position = "
            "CASE WHEN excluded.position > {positions}.position THEN excluded.position "
            "ELSE {positions}.position END"), list(furthest.items()))


def position_in(tx: Tx, projection: Projection, source: str = LOG) -> int:
    row = tx.fetchone(projection.sql("SELECT position FROM {positions} WHERE source = ?"), (source,))
    return int(row[0]) if row else 0


def positions_in(tx: Tx, projection: Projection) -> dict[str, int]:
    """Every source's position (Kafka: one per topic partition)."""
    return {source: int(position) for source, position in
            tx.fetchall(projection.sql("SELECT source, position FROM {positions}"))}


def positions(store: ReadStore, projection: Projection) -> dict[str, int]:
    return {source: int(position) for source, position in
            store.read(projection.sql("SELECT source, position FROM {positions}"))}


def replace_positions(tx: Tx, projection: Projection, marks: Mapping[str, int]) -> None:
    """Set the positions to exactly `marks` (a consumer group reset to a time)."""
    tx.execute(projection.sql("DELETE FROM {positions}"))
    tx.executemany(projection.sql("INSERT INTO {positions} VALUES (?, ?)"), list(marks.items()))


def log_position(store: ReadStore, projection: Projection) -> int:
    """Where the read model stands in the event store's log; 0 if fed from Kafka
    only, or not made yet."""
    try:
        rows = store.read(projection.sql("SELECT position FROM {positions} WHERE source = ?"), (LOG,))
    except Exception:  # its tables are made by whoever feeds it first
        return 0
    return int(rows[0][0]) if rows else 0


def wait(store: ReadStore, projection: Projection, position: int, timeout_s: float, interval_s: float = 0.01) -> bool:
    """Block until the read model has read the log up to `position` (as the
    library's TrackingRecorder.wait); False if it has not within `timeout_s`.
    The HTTP API waits without holding a thread (api/http/operations.wait_for)."""
    deadline = time.monotonic() + timeout_s
    while log_position(store, projection) < position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
    return True

