"""Applying events to projections with exactly-once effect.

A delivery is an event plus where it was read (source, position). For each
projection, a batch of deliveries is folded in one transaction together with
the stream versions and source positions it reached; an event whose version
that projection has already applied is dropped. So any number of redeliveries,
and any interleaving of streams that keeps each stream's own order, give the
same read model. Any number of appliers may write one store at once (API
instances following the log, a topic's consumers, a rebuild's swap): each batch's
transaction first claims its read models (ReadStore.claim), so the version check
and the apply are one step that no second applier passes meanwhile.

An event that a projection cannot apply is dead-lettered with its position, and
the rest of the batch goes on without it.

`Projector` is the live path (the embedded follower, the Kafka consumers).
`Filler` fills empty copies from the ordered log (a rebuild, a verify): nothing
can have been seen before, so it looks nothing up, and folds a batch of streams
new to the copy before it takes the write lock.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, NamedTuple, Sequence

from projections.base import Projection
from projections.engine import tracking
from projections.facts import Fact
from projections.stores import ReadStore, Tx

DEAD_LETTERS = "projection_dead_letters"
log = logging.getLogger(__name__)


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
    def __init__(self, store: ReadStore, projections: Sequence[Projection]) -> None:
        self.store = store
        self.projections = list(projections)

    def create_tables(self) -> None:
        with self.store.transaction() as tx:
            self.store.lock_tables(tx)
            create_dead_letters(tx)
            existing = tx.table_names()
            for projection in self.projections:
                if projection.table_names["positions"] not in existing:
                    projection.create(tx)
                    continue
                # A read model made by an earlier version: a table this version added is
                # made empty, so events still apply, and the operator is told to refill it.
                missing = projection.create_missing(tx, existing)
                if missing:
                    log.warning("%s: %s new in this version, made empty; run `gridgov projections rebuild %s` "
                                "to fill it from the log", projection.name, ", ".join(missing), projection.name)

    def apply(self, deliveries: Sequence[Delivery], read_to: Iterable[tuple[str, int]] = ()) -> Applied:
        with self.store.transaction() as tx:
            return self.apply_in(tx, deliveries, read_to)

    def apply_in(self, tx: Tx, deliveries: Sequence[Delivery], read_to: Iterable[tuple[str, int]] = (), *,
                 new_streams: bool = False) -> Applied:
        """Apply a batch; `read_to` says how far sources were read to get it, which
        may be past its last delivery (the rest was of no interest, or poison).
        `new_streams` (a Filler's): no earlier batch had events of these streams."""
        furthest: dict[str, int] = {}
        for source, position in [*read_to, *((d.source, d.position) for d in deliveries)]:
            furthest[source] = max(furthest.get(source, position), position)  # a Kafka offset may be 0
        self.claim(tx, furthest)
        result = Applied()
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
            tracking.record_positions(tx, projection, furthest.items())
        return result

    def claim(self, tx: Tx, sources: Iterable[str] = ()) -> None:
        """Before any stream version is read: no other applier writes what this
        transaction does until it ends (any number of processes may follow the log
        or a topic into one store; each event changes each copy once).

        A batch read from the log claims each copy whole. One read from Kafka
        partitions claims, of a copy whose rows are each one stream's
        (`by_stream`), only those partitions: a stream is on one partition, so the
        consumers of other partitions write other rows and go on beside it, while
        a partition's old and new owner in a rebalance take turns. They share the
        copy's own claim, which a log follower or a rebuild's swap takes whole."""
        partitions = sorted(set(sources))
        whole: list[str] = []
        shared: list[str] = []
        for p in self.projections:
            copy = p.prefix + p.name
            if p.by_stream and partitions and tracking.LOG not in partitions:
                shared.append(copy)
                whole += [f"{copy}@{source}" for source in partitions]
            else:
                whole.append(copy)
        self.store.claim(tx, whole, shared)

    def positions(self, source: str = tracking.LOG) -> dict[str, int]:
        with self.store.transaction() as tx:
            return {p.name: tracking.position_in(tx, p, source) for p in self.projections}

    # --- inside one transaction -----------------------------------------------------------

    def fold(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery],
             new_streams: bool = False) -> Applied:
        """Fold the deliveries a projection handles; drop those it has seen."""
        result = Applied()
        if not deliveries:
            return result
        new = self.unseen(tx, projection, deliveries, result)
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
        tracking.record_versions(tx, projection, {d.fact.stream: d.fact.version for d in new},
                                 first_time=new_streams)
        return result

    def unseen(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery],
               result: Applied) -> list[Delivery]:
        """The deliveries past the version each stream is applied to; counts the rest."""
        new = []
        seen = tracking.versions(tx, projection, {d.fact.stream for d in deliveries})
        for delivery in deliveries:
            fact = delivery.fact
            if fact.version <= seen.get(fact.stream, 0):
                result.duplicates += 1
            else:
                seen[fact.stream] = fact.version
                new.append(delivery)
        return new

    def _fold_new(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery],
                  new_streams: bool = False) -> Applied:
        result = Applied()
        rows = projection.rows(new_streams)
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
            rows.prefetch(tx, wanted)
        for delivery in foldable:
            rows.begin()
            try:
                projection.apply(rows, delivery.fact)
                result.applied += 1
            except Exception as e:
                rows.undo()
                result.dead.append(self._dead(tx, projection, delivery, e))
        rows.flush(tx, into_empty=self.into_empty)
        return result

    # The copies this projector writes are empty but for what it wrote itself.
    into_empty = False

    def _dead(self, tx: Tx, projection: Projection, delivery: Delivery, e: Exception) -> tuple[str, Delivery, str]:
        error = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"
        fact = delivery.fact
        dead_letter(tx, projection.name, delivery.source, delivery.position, fact.stream, fact.version, fact.type,
                    error)
        return projection.name, delivery, error


class Filler(Projector):
    """Fills empty copies from the log, read once in order: no event can be a
    duplicate, so no stream version is looked up (the rebuild's hot path); and a
    batch of streams new to the copy (`new_streams`: the feed read the log in stream
    order) is folded before the write lock is taken, then written — the helpers of
    a SQLite rebuild share one file, and take turns only for the writes."""

    into_empty = True

    def apply(self, deliveries: Sequence[Delivery], read_to: Iterable[tuple[str, int]] = (), *,
              new_streams: bool = False) -> Applied:
        if new_streams:
            pending = Pending()
            try:
                result = self.apply_in(pending, deliveries, read_to, new_streams=True)
                with self.store.transaction() as tx:
                    pending.replay(tx)
                return result
            except Exception:  # refused by the database, or a batch to refold: in a transaction
                log.info("a batch of new streams did not go through as a whole; folding it again to find why")
        with self.store.transaction() as tx:
            return self.apply_in(tx, deliveries, read_to, new_streams=new_streams)

    def unseen(self, tx: Tx, projection: Projection, deliveries: Sequence[Delivery],
               result: Applied) -> list[Delivery]:
        return list(deliveries)

    def claim(self, tx: Tx, sources: Iterable[str] = ()) -> None:
        pass  # the copies being filled are no live feed's, and helpers fill disjoint shares of them


class Pending:
    """A transaction's writes, kept to be made later (`replay`): for folding a batch
    that reads nothing from the database before taking its write lock."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if sql.startswith("ROLLBACK"):  # a batch to fold again event by event, looking rows up
            raise RuntimeError("a pending transaction cannot roll back")
        self.writes.append(("execute", (sql, params)))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.writes.append(("executemany", (sql, list(rows))))

    def upsert_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]],
                    key: Sequence[str]) -> None:
        self.writes.append(("upsert_many", (table, columns, rows, key)))

    def insert_new(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        self.writes.append(("insert_new", (table, columns, rows)))

    def append_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        self.writes.append(("append_many", (table, columns, rows)))

    def replay(self, tx: Tx) -> None:
        for method, args in self.writes:
            getattr(tx, method)(*args)
