"""The aggregates this process last saw, kept current by reading what the log added since.

The library's cache fast-forwards an aggregate on every use: one query per aggregate a
command touches, found empty nearly every time. A batch of two hundred commands paid two
hundred of them (a rider's grid, a task, a month's account), more than half of a city
day's writing on PostgreSQL. Here a unit of work asks once, on its first read, what the
log holds after the last position this cache has taken in (`sync`): nothing, nearly every
time, and then every aggregate held is current without a query; else the streams the log
names are marked behind, and fast-forwarded when next asked for.

This rests on the log's positions: every write has one, the store hands them out in commit
order (the library's table lock on PostgreSQL, SQLite's one writer), so what lies after
`seen` is all that anyone wrote since. `seen` moves on only by reading the log or by a
write of this process's own that comes right after it (nothing of anyone else's can lie
between); an aggregate is kept only when nothing was taken in while it was being read.
Where a stale copy slipped through anyway, the write that relies on it is refused by the
store's (stream, version) key as a conflict, and the command decided again after a sync:
the cache can cost a retry, never a wrong write.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Iterable, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.aggregate import Aggregate, WrongStream

if TYPE_CHECKING:
    from eventlog.base import EventLog

A = TypeVar("A", bound=Aggregate)

# More new rows than this since the last sync: forget everything rather than read them all.
SYNC_LIMIT = 2_000


class CurrentAggregates:
    def __init__(self, repository: Repository, log: EventLog, maxsize: int) -> None:
        self.repository, self.log, self.maxsize = repository, log, maxsize
        self._held: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._behind: set[UUID] = set()  # held, but the log has more of their streams
        # Read ahead and found empty as of `seen` (a rider's first award of the month): `get` says
        # so without asking; any event of theirs the log takes in, or written here, ends that.
        self._absent: set[UUID] = set()
        self._lock = threading.Lock()
        self.seen = log.head()

    def sync(self) -> None:
        """Take in what the log added since `seen`: its streams' copies are behind."""
        if not self.maxsize:  # nothing held: only where the log is
            head = self.log.head()
            with self._lock:
                self.seen = max(self.seen, head)
            return
        with self._lock:
            after = self.seen
        changes = self.log.changes_after(after, SYNC_LIMIT)
        if len(changes) >= SYNC_LIMIT:  # far behind (other writers were busy): start again from the head
            head = self.log.head()
            with self._lock:
                self._held.clear()
                self._behind.clear()
                self._absent.clear()
                self.seen = max(self.seen, head)
            return
        with self._lock:
            for _, stream, version in changes:
                self._absent.discard(stream)
                held = self._held.get(stream)
                if held is not None and held.version < version:
                    self._behind.add(stream)
            if changes:
                self.seen = max(self.seen, changes[-1][0])

    def get(self, cls: type[A], id: UUID) -> A:
        """A copy of the aggregate, current as of the last sync (raises AggregateNotFoundError
        for a stream with no events)."""
        with self._lock:
            if id in self._absent:
                raise AggregateNotFoundError(id)
            held, behind, seen = self._held.get(id), id in self._behind, self.seen
            if held is not None:
                self._held.move_to_end(id)
                if not behind:
                    return copy.deepcopy(held)  # type: ignore[return-value]
                held = copy.deepcopy(held)
        if held is not None:
            aggregate = type(held).project(held, self.repository.event_store.get(originator_id=id, gt=held.version))
        else:
            aggregate = self.repository.get(id, projector_func=cls.project)
        assert aggregate is not None
        with self._lock:
            if self.maxsize and self.seen == seen:  # nothing taken in meanwhile: it is current as of `seen`
                self._keep(aggregate)
                self._behind.discard(id)
                aggregate = copy.deepcopy(aggregate)
        return aggregate  # type: ignore[return-value]

    def prefetch(self, cls: type[A], ids: Iterable[UUID]) -> None:
        """Hold `ids` current (those not held, or behind), read in one query, where each would
        cost a round trip of its own when first asked for: a city day's writer spent 38 % of its
        time loading riders it met for the first time that day, one by one. Kept as `get` keeps
        (nothing taken in meanwhile); ids of another kind, or with no events, are left to `get`."""
        if not self.maxsize:
            return
        with self._lock:
            seen = self.seen
            wanted = [id for id in dict.fromkeys(ids)
                      if (id not in self._held or id in self._behind) and id not in self._absent]
        wanted = wanted[:self.maxsize // 2]  # never so many that they push each other out
        if not wanted:
            return
        mapper = self.repository.event_store.mapper
        streams, read = self.log.streams(wanted), []
        for events in streams.values():
            try:
                read.append(cls.project(None, map(mapper.to_domain_event, events)))
            except WrongStream:
                continue
        with self._lock:
            if self.seen != seen:
                return
            for aggregate in read:
                if aggregate is not None:
                    self._keep(aggregate)
                    self._behind.discard(aggregate.id)
            if len(self._absent) > self.maxsize:
                self._absent.clear()
            self._absent.update(id for id in wanted if id not in streams)

    def written(self, positions: list[int], aggregates: Iterable[Aggregate]) -> None:
        """This process wrote at `positions`; `aggregates` are as they are now, nothing
        pending (the unit of work's, handed over: the caller keeps no reference)."""
        if not self.maxsize or not positions:
            return
        with self._lock:
            if positions[0] != self.seen + 1:
                # Someone's write may lie between: the next sync reads ours with it.
                for aggregate in aggregates:
                    self._forget(aggregate.id)
                return
            for aggregate in aggregates:
                self._keep(aggregate)
                self._behind.discard(aggregate.id)
                self._absent.discard(aggregate.id)
            self.seen = positions[-1]

    def forget(self, ids: Iterable[UUID]) -> None:
        """A write refused as a conflict: what it decided on is not trusted again."""
        with self._lock:
            for id in ids:
                self._forget(id)

    def _keep(self, aggregate: Aggregate) -> None:
        held = self._held.get(aggregate.id)
        if held is not None and held.version > aggregate.version:
            return
        self._held[aggregate.id] = aggregate
        self._held.move_to_end(aggregate.id)
        while len(self._held) > self.maxsize:
            gone, _ = self._held.popitem(last=False)
            self._behind.discard(gone)

    def _forget(self, id: UUID) -> None:
        self._held.pop(id, None)
        self._behind.discard(id)
        self._absent.discard(id)
