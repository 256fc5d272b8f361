"""Applying events to projections with exactly-once effect.

A delivery is an event plus where it was read (source, position). For each
projection, a batch of deliveries is folded in one transaction together with
the stream versions and source positions it reached; an event whose version
that projection has already applied is dropped. So any number of redeliveries,
and any interleaving of streams that keeps each stream's own order, give the
same read model.

An event that a projection cannot apply is dead-lettered with its position, and
the rest of the batch goes on without it.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, NamedTuple, Sequence

from projections.base import Projection
from projections.facts import Fact
from projections.rows import IN_CHUNK, write_rows
from projections.stores import ReadStore, Tx

DEAD_LETTERS = "projection_dead_letters"
log = logging.getLogger(__name__)
STREAM_COLUMNS = {"stream_id": "TEXT", "version": "BIGINT"}


class Delivery(NamedTuple):
    fact: Fact
    source: str  # "log", or "topic/partition" for Kafka
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
    # A letter met again (a rebuild, a redelivery) is stamped anew, so a rebuild can
    # tell the letters it met from those the events it re-applied no longer earn.
    tx.execute(f"INSERT INTO {DEAD_LETTERS} VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (projection, source, position) "
               "DO UPDATE SET error = excluded.error, at = excluded.at",
               (projection, source, position, stream_id, version, event_type, error[-4000:],
                datetime.now(timezone.utc).isoformat()))


def clear_dead_letters(tx: Tx, projections: Sequence[str], before: str) -> None:
    """Drop the letters of `projections` last met before `before` (a rebuild's start)."""
    tx.execute(f"DELETE FROM {DEAD_LETTERS} WHERE at < ? AND projection IN ({', '.join('?' * len(projections))})",
               (before, *projections))


@dataclass(frozen=True)
class DeadLetter:
    projection: str
    source: str
    position: int
    stream_id: str | None
    version: int | None
    event_type: str | None
    error: str


def dead_letters(store: ReadStore, projections: Sequence[str] | None = None,
                 limit: int = 20) -> tuple[dict[str, int], list[DeadLetter]]:
    """How many events each read model could not apply ("*": could not even be
    read from the log), and the first `limit` of them, oldest position first."""
    try:
        counts = dict(store.read(f"SELECT projection, COUNT(*) FROM {DEAD_LETTERS} GROUP BY projection"))
    except Exception:  # the table is made with the first read model; none yet, no letters
        return {}, []
    if projections is not None:
        counts = {name: n for name, n in counts.items() if name in projections or name == "*"}
    if not counts:
        return {}, []
    names = sorted(counts)
    rows = store.read(f"SELECT projection, source, position, stream_id, version, event_type, error FROM "
                      f"{DEAD_LETTERS} WHERE projection IN ({', '.join('?' * len(names))}) "
                      "ORDER BY position, projection LIMIT ?", (*names, limit))
    return {name: int(n) for name, n in counts.items()}, [DeadLetter(*row) for row in rows]


class Projector:
    def __init__(self, store: ReadStore, projections: Sequence[Projection], *, fresh: bool = False) -> None:
        self.store = store
        self.projections = list(projections)
        # Filling an empty copy from the ordered log: no event can be a duplicate,
        # so skip looking up stream versions (the rebuild's hot path).
        self.fresh = fresh

    def create_tables(self) -> None:
        with self.store.transaction() as tx:
            self.store.lock_tables(tx)
            create_dead_letters(tx)
            existing = self._tables(tx)
            for projection in self.projections:
                if projection.t["positions"] not in existing:
                    projection.create(tx)
                    continue
                # A read model made by an earlier version: a table this version added is
                # made empty, so events still apply, and the operator is told to refill it.
                missing = projection.create_missing(tx, existing)
                if missing:
                    log.warning("%s: %s new in this version, made empty; run `gridgov projections rebuild %s` "
                                "to fill it from the log", projection.name, ", ".join(missing), projection.name)

    def _tables(self, tx: Tx) -> set[str]:
        if self.store.dialect == "sqlite":
            return {r[0] for r in tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {r[0] for r in tx.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}

    def apply(self, deliveries: Sequence[Delivery], read_to: Iterable[tuple[str, int]] = (), *,
              new_streams: bool = False) -> Applied:
        if new_streams and self.fresh:
            # Nothing to look up and nothing seen before: fold the batch first, then
            # write it, so the write lock is held only while writing (the helpers of
            # a SQLite rebuild share one file, and take turns).
            pending = Pending(self.store.dialect)
            try:
                result = self.apply_in(pending, deliveries, read_to, new_streams=True)
                with self.store.transaction() as tx:
                    pending.replay(tx)
                return result
            except Exception:  # refused by the database, or a batch to refold: in a transaction
                log.info("a batch of new streams did not go through as a whole; folding it again to find why")
        with self.store.transaction() as tx:
            return self.apply_in(tx, deliveries, read_to, new_streams=new_streams)

    def apply_in(self, tx: Tx, deliveries: Sequence[Delivery], read_to: Iterable[tuple[str, int]] = (), *,
                 new_streams: bool = False) -> Applied:
        """Apply a batch; `read_to` says how far sources were read to get it, which
        may be past its last delivery (the rest was of no interest, or poison).
        `new_streams`: no earlier batch had events of these streams, so (projections
        being `by_stream`) no row they touch exists yet, and none is looked up."""
        result = Applied()
        furthest: dict[str, int] = {}
        for source, position in [*read_to, *((d.source, d.position) for d in deliveries)]:
            furthest[source] = max(furthest.get(source, position), position)  # a Kafka offset may be 0
        facts = [d.fact for d in deliveries]
        streams = {fact.stream for fact in facts}
        others: dict[tuple[int, int], set[str]] = {}  # per share: the streams not its own, asked once
        for projection in self.projections:
            types = projection.types
            mine = [d for d, fact in zip(deliveries, facts) if fact.type in types]
            if projection.parts > 1:
                share = (projection.part, projection.parts)
                if share not in others:
                    others[share] = {s for s in streams if not projection.owns(s)}
                if others[share]:  # none, when the log was read for this share only
                    mine = [d for d in mine if d.fact.stream not in others[share]]
            result.add(self.fold(tx, projection, mine, new_streams))
        # Last, just before the commit: in PostgreSQL the shares of a rebuild write the
        # same positions rows, and each holds their lock until it commits.
        for projection in self.projections:
            self.track_positions(tx, projection, furthest.items())
        return result

    def positions(self, source: str = "log") -> dict[str, int]:
        with self.store.transaction() as tx:
            return {p.name: self.position_in(tx, p, source) for p in self.projections}

    def position_in(self, tx: Tx, projection: Projection, source: str = "log") -> int:
        row = tx.fetchone(projection.sql("SELECT position FROM {positions} WHERE source = ?"), (source,))
        return int(row[0]) if row else 0

    # --- inside one transaction -----------------------------------------------------------

    def fold(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery],
             new_streams: bool = False) -> Applied:
        """Fold the deliveries a projection handles; drop those it has seen."""
        result = Applied()
        if not deliveries:
            return result
        if self.fresh:  # the log, read once into an empty copy: nothing was seen before
            new = list(deliveries)
        else:
            new = []
            seen = self._versions(tx, projection, {d.fact.stream for d in deliveries})
            for delivery in deliveries:
                fact = delivery.fact
                if fact.version <= seen.get(fact.stream, 0):
                    result.duplicates += 1
                else:
                    seen[fact.stream] = fact.version
                    new.append(delivery)
        tx.execute("SAVEPOINT batch")
        try:
            result.add(self._fold_new(tx, projection, new, new_streams))
            tx.execute("RELEASE SAVEPOINT batch")
        except Exception:
            # The database refused the batch's writes: find the culprit one event at a time.
            tx.execute("ROLLBACK TO SAVEPOINT batch")
            tx.execute("RELEASE SAVEPOINT batch")
            # Each event's rows are then in the copy, where the one before it wrote
            # them, not in memory: looked up, even for streams new to this batch.
            for delivery in new:
                tx.execute("SAVEPOINT one")
                try:
                    result.add(self._fold_new(tx, projection, [delivery]))
                    tx.execute("RELEASE SAVEPOINT one")
                except Exception as e:
                    tx.execute("ROLLBACK TO SAVEPOINT one")
                    tx.execute("RELEASE SAVEPOINT one")
                    result.dead.append(self._dead(tx, projection, delivery, e))
        self._track_versions(tx, projection, {d.fact.stream: d.fact.version for d in new}, new_streams)
        return result

    def _fold_new(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery],
                  new_streams: bool = False) -> Applied:
        result = Applied()
        rows = projection.rows(new=new_streams)
        foldable: Sequence[Delivery] = deliveries
        if not new_streams:  # else there is nothing to look up
            wanted = []
            foldable = []
            for delivery in deliveries:
                try:
                    wanted += projection.touches(delivery.fact)
                    foldable.append(delivery)
                except Exception as e:
                    result.dead.append(self._dead(tx, projection, delivery, e))
            rows.prefetch(tx, wanted, self.store.dialect)
        for delivery in foldable:
            rows.begin()
            try:
                projection.apply(rows, delivery.fact)
                result.applied += 1
            except Exception as e:
                rows.undo()
                result.dead.append(self._dead(tx, projection, delivery, e))
        rows.flush(tx, self.store.dialect, fresh=self.fresh)
        return result

    def _dead(self, tx: Tx, projection: Projection, delivery: Delivery, e: Exception) -> tuple[str, Delivery, str]:
        error = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"
        fact = delivery.fact
        dead_letter(tx, projection.name, delivery.source, delivery.position, fact.stream, fact.version, fact.type,
                    error)
        return projection.name, delivery, error

    def _versions(self, tx: Tx, projection: Projection, streams: Iterable[str]) -> dict[str, int]:
        streams = list(streams)
        versions: dict[str, int] = {}
        for i in range(0, len(streams), IN_CHUNK):
            chunk = streams[i:i + IN_CHUNK]
            rows = tx.fetchall(projection.sql(f"SELECT stream_id, version FROM {{streams}} WHERE stream_id IN "
                                              f"({', '.join('?' * len(chunk))})"), chunk)
            versions.update((stream, int(version)) for stream, version in rows)
        return versions

    def _track_versions(self, tx: Tx, projection: Projection, versions: dict[str, int],
                        new_streams: bool = False) -> None:
        if new_streams and self.fresh and self.store.dialect == "postgres":
            tx.copy(projection.t["streams"], STREAM_COLUMNS, list(versions.items()))  # none is there yet
            return
        write_rows(tx, self.store.dialect, projection.t["streams"], STREAM_COLUMNS, list(versions.items()),
                   "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version")

    def track_positions(self, tx: Tx, projection: Projection, marks: Iterable[tuple[str, int]]) -> None:
        furthest: dict[str, int] = {}
        for source, position in marks:
            furthest[source] = max(furthest.get(source, 0), position)
        if furthest:
            # A position never goes back, whatever order batches commit in.
            tx.executemany(projection.sql(
                "INSERT INTO {positions} VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET position = "
                "CASE WHEN excluded.position > {positions}.position THEN excluded.position "
                "ELSE {positions}.position END"), list(furthest.items()))


class Pending:
    """A transaction's writes, kept to be made later (`replay`): for folding a batch
    that reads nothing from the database before taking its write lock."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.writes: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if sql.startswith("ROLLBACK"):  # a batch to fold again event by event, looking rows up
            raise RuntimeError("a pending transaction cannot roll back")
        self.writes.append(("execute", (sql, params)))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.writes.append(("executemany", (sql, list(rows))))

    def copy(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        self.writes.append(("copy", (table, columns, rows)))

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise RuntimeError("a pending transaction cannot read")

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        raise RuntimeError("a pending transaction cannot read")

    def replay(self, tx: Tx) -> None:
        for method, args in self.writes:
            getattr(tx, method)(*args)
