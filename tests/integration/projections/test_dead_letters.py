"""An event a read model cannot apply, or whose rows the database refuses, is
dead-lettered; the rest goes on and makes what the log in order makes."""

from __future__ import annotations

import pytest

from domain.tasks import TaskClaimed
from projections.board import Board
from projections.engine.feed import LogFeed
from projections.engine.projector import Filler
from projections.engine.rebuild import rebuild
from projections.points import Points
from projections.stores import ReadStore
from tests.fixtures.histories import SEEDS, dump, history
from tests.fixtures.projections import Unflushable, Unwritable
from tests.fixtures.stores import new_store


def test_an_event_that_cannot_be_applied_is_dead_lettered_and_the_rebuild_goes_on(store: ReadStore) -> None:
    app, events = history(SEEDS[0])
    victim = next(e for e in events if isinstance(e, TaskClaimed))

    class Fragile(Board):
        def apply(self, rows, fact):  # type: ignore[no-untyped-def]
            if fact.stream == str(victim.originator_id) and fact.version == victim.originator_version:
                raise ValueError("cannot apply this one")
            super().apply(rows, fact)

    report = rebuild(app, store, [Fragile])
    assert [(name, error) for name, _, error in report.dead] == [("board", "ValueError: cannot apply this one")]
    position = report.dead[0][1]
    rows = store.read("SELECT projection, position, stream_id, version, event_type FROM projection_dead_letters")
    assert rows == [("board", position, str(victim.originator_id), victim.originator_version, "TaskClaimed")]
    notification = app.recorder.select_notifications(start=position, limit=1)[0]
    assert (notification.originator_id, notification.originator_version) == (victim.originator_id,
                                                                              victim.originator_version)
    assert report.events > 1000


@pytest.mark.parametrize("refusing", [Unwritable, Unflushable])
def test_a_fill_the_database_refuses_part_of_makes_what_the_log_in_order_makes(store: ReadStore,
                                                                                refusing: type[Points]) -> None:
    """Folding one event at a time after a refused batch, each event's rows are where
    the one before it wrote them: in the copy, not in memory, and must be looked up
    even for a stream the fill had not met before that batch. (A fill folds a batch
    of new streams before its transaction: a batch that fails is done again in one.)"""
    app, events = history(SEEDS[0])
    redemptions = len([e for e in events if type(e).__name__ == "PointsSpent"])
    reference, cleanup = new_store("sqlite")
    try:
        for target, fill in ((reference, False), (store, True)):
            projector = Filler(target, [refusing()])
            projector.create_tables()
            feed = LogFeed(app.eventlog, app.mapper, projector, page=500)
            applied = feed.fill(app.head()) if fill else feed.catch_up(app.head(), after=0)
            assert len(applied.dead) == redemptions > 0
            assert all("a pending transaction" not in error for _, _, error in applied.dead)
        assert dump(store, [refusing()]) == dump(reference, [refusing()])
    finally:
        cleanup()
