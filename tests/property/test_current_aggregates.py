"""The aggregates an instance keeps (application/current.py) change no decision.

Each instance keeps the aggregates it read and wrote, and takes in only the log's new
positions before a command, trusting the rest. The demo's day is told on one instance that
keeps nothing, and again with every command (and every read and read-ahead the story makes)
sent to one of two instances on the same store, picked at random, now and then in batches:
whatever one instance wrote, the other must decide on. The logs and the answers must be the same.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from domain import commands as c
from domain.clock import ManualClock
from domain.clues import Category
from domain.events import Actor
from domain.grids import Grid
from domain.riders import Rider
from application.current import SYNC_LIMIT
from application.service import GridGovernance
from application.unit_of_work import UnitOfWork
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.told import Told, tell
from tests.fixtures.world import START, WENJIANG_CENTRE, World, rider_actor


class Shared(Told):
    """Each command to one of the instances, at random; a run of them now and then as one batch."""

    def __init__(self, *args: Any, others: list[GridGovernance], pick: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.apps, self.pick = [self.app, *others], random.Random(pick)
        self.batch, self.left = None, 0

    def instance(self) -> GridGovernance:
        return self.apps[self.pick.randrange(len(self.apps))]

    def decide(self, command: c.Command, actor: Actor) -> dict:
        if self.batch is None and self.pick.random() < 0.1:
            self.batch, self.left = self.instance().batch(), self.pick.randint(1, 12)
        if self.batch is None:
            return self.instance().execute(command, actor).result
        try:
            return self.batch.execute(command, actor)
        finally:
            self.left -= 1
            if self.left <= 0:
                self.commit()

    def commit(self) -> None:
        batch, self.batch = self.batch, None
        if batch is not None:
            batch.commit()

    def read(self, cls, id: UUID):  # type: ignore[no-untyped-def]
        if self.batch is not None:
            return self.batch.get(cls, id)
        return UnitOfWork(self.instance()).get(cls, id)

    def read_ahead(self, cls, ids) -> None:  # type: ignore[no-untyped-def]
        if self.batch is not None:
            self.batch.prefetch(cls, ids)
        else:
            UnitOfWork(self.instance()).prefetch(cls, ids)

    def summary(self, days: int = 1):  # type: ignore[no-untyped-def]
        self.commit()
        return super().summary(days)


# A failing day is thousands of events: shrinking it takes longer than reading the seed it prints.
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(seed=5, pick=1, lose=True)
@given(seed=st.integers(1, 10_000), pick=st.integers(0, 10_000), lose=st.booleans())
def test_two_instances_keeping_aggregates_decide_as_one_that_keeps_none(
        tmp_path_factory: pytest.TempPathFactory, seed: int, pick: int, lose: bool) -> None:
    """With `lose`, a tenth of the writes also lose their answer after their commit."""
    alone = tell(Told, tmp_path_factory.mktemp("alone"), seed, env={"AGGREGATE_CACHE_MAXSIZE": "0"})
    shared = tell(Shared, tmp_path_factory.mktemp("shared"), seed, lose=0.1 if lose else 0.0, instances=2,
                  env={"AGGREGATE_CACHE_MAXSIZE": "1000"}, pick=pick)
    assert shared[1] == alone[1], "the same answers and refusals, in the same order"
    assert shared[0] == alone[0], "the same events"


@contextmanager
def two_instances(folder: Path) -> Iterator[tuple[GridGovernance, GridGovernance, ManualClock]]:
    """Two applications on one SQLite store, each keeping what it reads, on one clock."""
    settings = load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "e.sqlite"),
                              "AGGREGATE_CACHE_MAXSIZE": "1000"})
    clock = ManualClock(START)
    first, second = (bootstrap.application(settings, clock=clock) for _ in range(2))
    try:
        yield first, second, clock
    finally:
        first.close()
        second.close()


def test_an_instance_far_behind_the_log_starts_again_from_its_head(tmp_path: Path) -> None:
    """More new rows than one sync reads (SYNC_LIMIT): the instance forgets what it held and takes
    the log's head, rather than reading the rest a page a command; what it decides on is current."""
    with two_instances(tmp_path) as (first, second, clock):
        world = World(first, clock)
        grid = world.grid()
        assert UnitOfWork(first).get(Grid, grid).officers == {world.officer.id}  # held by the first
        with second.batch() as batch:  # the other instance, busy
            batch.execute(c.AssignOfficer(grid_id=grid, officer_id="officer-2"), world.admin)
            for n in range(SYNC_LIMIT + 10):
                batch.execute(c.RegisterGrid(district=world.district, street="柳城街道", community="光华社区",
                                             name=f"g{n}"), world.admin)
        assert UnitOfWork(first).get(Grid, grid).officers == {world.officer.id, "officer-2"}
        assert first.current.seen == first.head() == second.head()


def test_a_read_ahead_holds_each_aggregate_current_in_one_read(tmp_path: Path) -> None:
    """What a batch reads ahead (a tick's reporters, in a city day) is held as the log has it now,
    another instance's writes included, and the commands that then ask for it read nothing more."""
    with two_instances(tmp_path) as (first, second, clock):
        world = World(first, clock)
        grid, other = world.grid(), world.grid("柳城-2")
        riders = [world.rider(grid) for _ in range(4)]
        first.current.forget(riders)  # as in a city day: riders not seen since the day began
        second.execute(c.JoinGrid(rider_id=riders[1], grid_id=other), rider_actor(riders[1]))
        reads: list[UUID] = []
        one_at_a_time = first.repository.event_store.get

        def counted(originator_id: UUID, *args: Any, **kwargs: Any) -> Any:
            reads.append(originator_id)
            return one_at_a_time(originator_id, *args, **kwargs)

        first.repository.event_store.get = counted  # type: ignore[method-assign]
        not_yet = uuid4()
        with first.batch() as batch:
            batch.prefetch(Rider, [*riders, not_yet, grid])  # a grid's stream is not a rider's: left
            held = [batch.get(Rider, rider) for rider in riders]
            assert not batch.get(Rider, not_yet).exists
        assert reads == [], "every rider read ahead was held, and the one with no events known so; none read again"
        assert [set(r.grids) for r in held] == [{grid}, {grid, other}, {grid}, {grid}]
        assert [r.version for r in held] == [UnitOfWork(second).get(Rider, r).version for r in riders]
        # Known to have no events as of then: once the other instance writes the stream, it has them.
        second.ids = lambda: not_yet
        second.execute(c.RegisterRider(platform="eleme", station="温江站", name="骑手新", phone="13800009999"),
                       world.admin)
        assert UnitOfWork(first).get(Rider, not_yet).exists
        assert reads == [not_yet]


def test_the_indexes_take_in_what_the_instance_wrote_and_read_what_others_did(tmp_path: Path) -> None:
    """The open clues an instance indexes: its own reports taken in as written, without reading the
    log back; another instance's read from the log, since they lie before the next write."""
    with two_instances(tmp_path) as (first, second, clock):
        world = World(first, clock)
        grid = world.grid()
        one, two = world.rider(grid), world.rider(grid)
        pages: list[int] = []
        read_page = first.eventlog.page

        def counted(after: int, *args: Any, **kwargs: Any) -> Any:
            pages.append(after)
            return read_page(after, *args, **kwargs)

        first.eventlog.page = counted  # type: ignore[method-assign]
        world.report(one, grid)  # the index is caught up to its head here, and takes in the report
        pages.clear()
        mine = UUID(world.report(one, grid).result["clue_id"])
        assert pages == [], "its own report was in hand: nothing read back"
        theirs = UUID(second.execute(c.ReportClue(rider_id=two, grid_id=grid, category=Category.FIRE_HAZARD, text="楼道堆物",
                                                  location=WENJIANG_CENTRE), rider_actor(two)).result["clue_id"])
        answer = world.report(two, grid).result
        assert {mine, theirs} <= {UUID(x) for x in answer["duplicate_candidates"]}
        assert pages != [], "the other instance's report was read from the log"
