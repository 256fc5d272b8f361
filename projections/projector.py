"""Applying events to projections with exactly-once effect.

A delivery is an event plus where it was read (source, position). The projector
applies a batch of deliveries to each projection copy in one transaction,
together with the stream versions and source positions it reached; an event
whose version that projection has already applied is dropped. So any number of
redeliveries, and any interleaving of streams that keeps each stream's own
order, give the same read model.

An event that a projection cannot apply is dead-lettered with its position, and
the rest of the batch goes on without it.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Sequence

from domain.events import Event
from projections.base import Projection
from projections.store import ReadStore, Tx

DEAD_LETTERS = "projection_dead_letters"
DEAD_LETTER_COLUMNS = ("projection", "source", "position", "stream_id", "version", "event_type", "error", "at")
IN_CHUNK = 400  # parameters per IN (…) list, under SQLite's limit


@dataclass(frozen=True)
class Delivery:
    event: Event
    source: str  # "log", or "topic/partition" for Kafka
    position: int


@dataclass(frozen=True)
class _Mark:
    """A position read past with nothing in it for these projections."""

    source: str
    position: int


@dataclass
class Applied:
    applied: int = 0
    duplicates: int = 0
    dead: list[tuple[str, Delivery, str]] = field(default_factory=list)

    def add(self, other: Applied) -> None:
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.dead += other.dead


def create_dead_letters(tx: Tx) -> None:
    tx.execute(f"CREATE TABLE IF NOT EXISTS {DEAD_LETTERS} (projection TEXT NOT NULL, source TEXT NOT NULL, "
               "position BIGINT NOT NULL, stream_id TEXT, version BIGINT, event_type TEXT, error TEXT NOT NULL, "
               "at TEXT NOT NULL, PRIMARY KEY (projection, source, position))")


def dead_letter(tx: Tx, projection: str, source: str, position: int, stream_id: str | None, version: int | None,
                event_type: str | None, error: str) -> None:
    tx.execute(f"INSERT INTO {DEAD_LETTERS} VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
               (projection, source, position, stream_id, version, event_type, error[-4000:],
                datetime.now(timezone.utc).isoformat()))


class Projector:
    def __init__(self, store: ReadStore, projections: Sequence[Projection], *, fresh: bool = False) -> None:
        self.store = store
        self.projections = list(projections)
        # Filling an empty copy from the ordered log: no event can be a duplicate,
        # so skip looking up stream versions (the rebuild's hot path).
        self.fresh = fresh

    def create_tables(self) -> None:
        with self.store.transaction() as tx:
            create_dead_letters(tx)
            existing = self.store_tables(tx)
            for projection in self.projections:
                if projection.t["positions"] not in existing:
                    projection.create(tx)

    def store_tables(self, tx: Tx) -> set[str]:
        if self.store.dialect == "sqlite":
            return {r[0] for r in tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {r[0] for r in tx.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}

    def apply(self, deliveries: Sequence[Delivery], read_to: tuple[str, int] | None = None) -> Applied:
        with self.store.transaction() as tx:
            return self.apply_in(tx, deliveries, read_to)

    def apply_in(self, tx: Tx, deliveries: Sequence[Delivery], read_to: tuple[str, int] | None = None) -> Applied:
        """Apply a batch; `read_to` is how far the source was read to get it, which
        may be past its last delivery when the rest was of no interest."""
        result = Applied()
        for projection in self.projections:
            result.add(self._apply_one_projection(tx, projection, deliveries))
            if read_to is not None:
                self._track(tx, projection, {}, [_Mark(*read_to)])
        return result

    def positions(self, source: str = "log") -> dict[str, int]:
        with self.store.transaction() as tx:
            return {p.name: self.position_in(tx, p, source) for p in self.projections}

    def position_in(self, tx: Tx, projection: Projection, source: str = "log") -> int:
        row = tx.fetchone(projection.sql("SELECT position FROM {positions} WHERE source = ?"), (source,))
        return int(row[0]) if row else 0

    # --- inside one transaction -----------------------------------------------------------

    def _apply_one_projection(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery]) -> Applied:
        mine = [d for d in deliveries if isinstance(d.event, projection.handles)]
        tx.execute("SAVEPOINT batch")
        try:
            result = self._apply_all(tx, projection, mine)
            tx.execute("RELEASE SAVEPOINT batch")
        except Exception:
            # Find the culprit one event at a time; the others still count.
            tx.execute("ROLLBACK TO SAVEPOINT batch")
            tx.execute("RELEASE SAVEPOINT batch")
            projection.reset()
            result = Applied()
            for delivery in mine:
                tx.execute("SAVEPOINT one")
                try:
                    result.add(self._apply_all(tx, projection, [delivery]))
                    tx.execute("RELEASE SAVEPOINT one")
                except Exception as e:
                    tx.execute("ROLLBACK TO SAVEPOINT one")
                    tx.execute("RELEASE SAVEPOINT one")
                    projection.reset()
                    error = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
                    event = delivery.event
                    dead_letter(tx, projection.name, delivery.source, delivery.position, str(event.originator_id),
                                event.originator_version, type(event).__name__, error)
                    self._track(tx, projection, {str(event.originator_id): event.originator_version}, [delivery])
                    result.dead.append((projection.name, delivery, error))
        self._track(tx, projection, {}, deliveries)
        return result

    def _apply_all(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery]) -> Applied:
        result = Applied()
        if not deliveries:
            return result
        seen = {} if self.fresh else self._versions(tx, projection, {str(d.event.originator_id) for d in deliveries})
        reached: dict[str, int] = {}
        for delivery in deliveries:
            event = delivery.event
            stream = str(event.originator_id)
            if event.originator_version <= reached.get(stream, seen.get(stream, 0)):
                result.duplicates += 1
                continue
            projection.apply(tx, event)
            reached[stream] = event.originator_version
            result.applied += 1
        self._track(tx, projection, reached, ())
        return result

    def _versions(self, tx: Tx, projection: Projection, streams: Iterable[str]) -> dict[str, int]:
        streams = list(streams)
        versions: dict[str, int] = {}
        for i in range(0, len(streams), IN_CHUNK):
            chunk = streams[i:i + IN_CHUNK]
            rows = tx.fetchall(projection.sql(f"SELECT stream_id, version FROM {{streams}} WHERE stream_id IN "
                                              f"({', '.join('?' * len(chunk))})"), chunk)
            versions.update((stream, int(version)) for stream, version in rows)
        return versions

    def _track(self, tx: Tx, projection: Projection, versions: dict[str, int],
               deliveries: Iterable[Delivery | _Mark]) -> None:
        if versions:
            tx.executemany(projection.sql("INSERT INTO {streams} VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE "
                                          "SET version = excluded.version"), list(versions.items()))
        furthest: dict[str, int] = {}
        for d in deliveries:
            furthest[d.source] = max(furthest.get(d.source, 0), d.position)
        if furthest:
            # A position never goes back, whatever order batches commit in.
            tx.executemany(projection.sql(
                "INSERT INTO {positions} VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET position = "
                "CASE WHEN excluded.position > {positions}.position THEN excluded.position "
                "ELSE {positions}.position END"), list(furthest.items()))
