"""Rebuild a read model from the event store without readers ever seeing half of
it, and verify a read model against a fresh fold.

Rebuild: fill a shadow copy from the log while the live copy keeps serving and
new events keep arriving; then, in one transaction that holds the live copy's
lock, apply what arrived meanwhile and swap the shadow in. The live feed then
goes on from the positions that came in with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Sequence

from projections.base import Projection
from projections.engine import tracking
from projections.engine.feed import LogFeed
from projections.engine.tracking import LOG
from projections.engine.parallel import (Filled, few_collections, fill_in_parallel, groups_of, summary,
                                  workers_wanted)
from projections.engine.projector import Applied, Filler, Projector, clear_dead_letters
from projections.stores import ReadStore, Tx

Progress = Callable[[int, int], None]  # (position, head)
# Events per transaction while filling a shadow copy. Each SQLite commit may
# checkpoint the WAL (an fsync); at 2,000 that was a quarter of the rebuild.
REBUILD_PAGE = 5000


@dataclass
class RebuildReport:
    names: list[str]
    events: int
    position: int
    dead: list[tuple[str, int, str]] = field(default_factory=list)  # (projection, position, error)


def rebuild(app: Any, store: ReadStore, classes: Sequence[type[Projection]],
            progress: Progress | None = None, workers: int | None = None) -> RebuildReport:
    """`workers`: helper processes to fill in (REBUILD_WORKERS); default one per core."""
    started = datetime.now(timezone.utc).isoformat()
    live = [cls() for cls in classes]
    shadows = [cls(prefix="shadow_") for cls in classes]
    Projector(store, live).create_tables()
    with store.transaction() as tx:
        store.lock_tables(tx)
        for shadow in shadows:
            shadow.drop(tx)
            shadow.create(tx, indexes=False)
    feed = LogFeed(app.eventlog, app.mapper, Filler(store, shadows), page=REBUILD_PAGE)
    stop = feed.head()
    filled = _fill(app, store, classes, feed, stop, (lambda pos: progress(pos, feed.head())) if progress else None,
                   workers)
    with store.transaction() as tx:
        # Keep the live feed out until the swap commits: its appliers wait at their
        # claim (taken first, so none of them holds a table the lock below waits for).
        Projector(store, live).claim(tx)
        tx.lock([p.table_names[t] for p in live for t in p.table_names])
        # Whatever arrived while we were filling the shadow, applied under the lock,
        # on the live path: the shadow's rows are there now to be looked up.
        caught_up = _catch_up_in(tx, LogFeed(app.eventlog, app.mapper, Projector(store, shadows)))
        for old, new in zip(live, shadows):
            old.drop(tx)
            for table in new.table_names:
                tx.execute(f"ALTER TABLE {new.table_names[table]} RENAME TO {old.table_names[table]}")
        # The old copy's dead letters go with it; the new copy's own (met again) stay.
        clear_dead_letters(tx, [cls.name for cls in classes], started)
        position = min(tracking.position_in(tx, p) for p in live)
    return RebuildReport([cls.name for cls in classes], filled.applied + caught_up.applied, position,
                         filled.dead + summary(caught_up))


def _fill(app: Any, store: ReadStore, classes: Sequence[type[Projection]], feed: LogFeed, stop: int,
          progress: Callable[[int], None] | None, workers: int | None) -> Filled:
    """The shadow copies, up to `stop`, then indexed (cheaper than indexing as
    they fill): split among helper processes when there are cores and
    projections to share out (and they can open the stores), else here."""
    groups = groups_of(classes, workers_wanted(classes, workers))
    if len(groups) > 1:
        filled = fill_in_parallel(app, store, groups, stop, REBUILD_PAGE, progress)
        if filled is not None:
            return filled
    with few_collections():
        total = feed.fill(stop, progress=progress)
    with store.transaction() as tx:
        for shadow in feed.projector.projections:
            shadow.create_indexes(tx)
    return Filled(total.applied, summary(total))


def _catch_up_in(tx: Tx, feed: LogFeed) -> Applied:
    total = Applied()
    position = min(tracking.position_in(tx, p, LOG) for p in feed.projector.projections)
    stop = feed.head()
    while position < stop:
        deliveries, position = feed.read(position, stop)
        total.add(feed.projector.apply_in(tx, deliveries, read_to=[(LOG, position)]))
    return total


# --- verify --------------------------------------------------------------------------

@dataclass
class Difference:
    projection: str
    table: str
    key: tuple[Any, ...]
    live: tuple[Any, ...] | None
    fresh: tuple[Any, ...] | None


def verify(app: Any, store: ReadStore, classes: Sequence[type[Projection]], limit: int = 20) -> list[Difference]:
    """Fold the event store afresh up to exactly the versions the live copy has
    applied, stream by stream, and compare table by table. Any source of the live
    copy (the log, Kafka partitions in any interleaving) compares the same way."""
    live = [cls() for cls in classes]
    fresh = [cls(prefix="verify_") for cls in classes]
    Projector(store, live).create_tables()
    with store.transaction() as tx:
        store.lock_tables(tx)
        upto = {p.name: tracking.all_versions(tx, p) for p in live}
        for copy in fresh:
            copy.drop(tx)
            copy.create(tx)
    projector = Filler(store, fresh)
    feed = LogFeed(app.eventlog, app.mapper, projector)
    position, stop = 0, feed.head()
    while position < stop:
        deliveries, position = feed.read(position, stop)
        for copy in fresh:
            wanted = [d for d in deliveries
                      if d.fact.type in copy.types and d.fact.version <= upto[copy.name].get(d.fact.stream, 0)]
            with store.transaction() as tx:
                projector.fold(tx, copy, wanted)
    differences: list[Difference] = []
    try:
        for old, new in zip(live, fresh):
            for table, spec in old.tables.items():
                differences += _compare(store, old, new, table, spec.key, limit)
    finally:
        with store.transaction() as tx:
            for copy in fresh:
                copy.drop(tx)
    return differences


def _compare(store: ReadStore, live: Projection, fresh: Projection, table: str, key: tuple[str, ...],
             limit: int) -> list[Difference]:
    columns = list(key)
    width = len(columns)
    # Text in byte order, as Python compares the keys.
    order = "ORDER BY " + ", ".join(c if c == "version" else store.byte_order(c) for c in columns)
    a = store.rows(f"SELECT * FROM {live.table_names[table]} {order}")
    b = store.rows(f"SELECT * FROM {fresh.table_names[table]} {order}")
    out: list[Difference] = []
    try:
        for key_value, left, right in _merge(a, b, width):
            if left != right:
                out.append(Difference(live.name, table, key_value, left, right))
                if len(out) >= limit:
                    break
    finally:
        # Each holds a connection in a transaction reading its table (PostgreSQL): left open by an
        # error's traceback, it would hold off the DROP of the fresh copy after, on a connection
        # of this same process, which no deadlock detection sees.
        a.close()
        b.close()
    return out


def _merge(a: Iterator[tuple[Any, ...]], b: Iterator[tuple[Any, ...]], width: int
           ) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None, tuple[Any, ...] | None]]:
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        kx = tuple(x[:width]) if x is not None else None
        ky = tuple(y[:width]) if y is not None else None
        if ky is None or (kx is not None and kx < ky):
            yield kx, x, None  # type: ignore[misc]
            x = next(a, None)
        elif kx is None or ky < kx:
            yield ky, None, y
            y = next(b, None)
        else:
            yield kx, tuple(x), tuple(y)  # type: ignore[arg-type]
            x, y = next(a, None), next(b, None)
