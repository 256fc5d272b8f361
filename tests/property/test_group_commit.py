"""Group commit (application/batch.py) changes how events are written, never which.

The demo's day (riders' honest mistakes, refusals, duplicates of clues reported a
moment before, claims raced, budgets drawn) is told twice with the same seed:
once command by command, once in batches of any size. The two logs must hold
the same events, the same refusals, the same answers. A refused command that had
already decided part of its work leaves nothing behind in the batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from domain import commands as c
from domain import errors
from domain.clock import ManualClock
from domain.events import Actor, Role
from domain.rates import Rate
from domain.redemptions import Redemption
from application.service import GridGovernance
from domain.tasks import GridTask, TaskStatus
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.told import Told, tell
from tests.fixtures.world import START, World, rider_actor


class Batched(Told):
    def __init__(self, *args: Any, every: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch, self.every = self.app.batch(), every

    def decide(self, command: c.Command, actor: Actor) -> dict:
        result = self.batch.execute(command, actor)
        if self.batch.size >= self.every:
            self.batch.commit()
        return result

    def read(self, cls, id):  # type: ignore[no-untyped-def]
        return self.batch.get(cls, id)

    def summary(self, days: int = 1):  # type: ignore[no-untyped-def]
        self.batch.commit()
        return super().summary(days)


# A failing day is thousands of events: shrinking it takes longer than reading the seed and size it prints.
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(seed=5, every=1, lossy="batched")
@example(seed=6, every=40, lossy="one by one")
@given(seed=st.integers(1, 10_000), every=st.integers(1, 80), lossy=st.sampled_from(["one by one", "batched"]))
def test_a_day_in_batches_is_the_same_day(tmp_path_factory: pytest.TempPathFactory, seed: int, every: int,
                                          lossy: str) -> None:
    """And on either side, a tenth of the writes lose their answer after their commit: nothing changes."""
    one_by_one = tell(Told, tmp_path_factory.mktemp("one"), seed, lose=0.1 if lossy == "one by one" else 0.0)
    batched = tell(Batched, tmp_path_factory.mktemp("batched"), seed, every=every,
                   lose=0.1 if lossy == "batched" else 0.0)
    assert batched[1] == one_by_one[1], "the same answers and refusals, in the same order"
    assert batched[0] == one_by_one[0], "the same events"
    assert None in one_by_one[1], "the story has refusals, so batches met them"


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                               "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}), clock=clock)
    yield World(app, clock)
    app.close()


def test_a_command_refused_halfway_leaves_nothing_in_the_batch(world: World) -> None:
    """Verification decides the task first, then finds no rate for it: the task's
    verification must not stay in the batch for the commands after it."""
    grid, rider = world.scene()
    task = world.task(grid, rate_code="patrol")
    world.claim(task, rider)
    world.complete(task, rider)
    world.clock.advance(60)
    world.schedule(rates={"fire-lane": Rate(fen=800, points=8)})  # "patrol" is gone from the schedule in effect
    world.clock.advance(60)
    app: GridGovernance = world.app
    head = app.head()
    officer = world.officer
    with app.batch() as batch:
        with pytest.raises(errors.UnknownRateCode):
            batch.execute(c.VerifyCompletion(task_id=task), officer)
        assert batch.get(GridTask, task).status is TaskStatus.AWAITING_VERIFICATION, "the refused verification is undone"
        batch.execute(c.RejectCompletion(task_id=task, reason="请补拍"), officer)
    kinds = [type(e).__name__ for e in world.events(task)]
    assert "TaskVerified" not in kinds and kinds[-1] == "CompletionRejected"
    assert app.head() == head + 1, "only the rejection was written"


def test_a_batch_whose_aggregate_another_writer_changed_writes_nothing(world: World) -> None:
    grid, rider = world.scene()
    task = world.task(grid)
    app: GridGovernance = world.app
    head = app.head()
    batch = app.batch()
    batch.execute(c.ClaimTask(task_id=task, rider_id=rider), Actor(id=str(rider), role=Role.RIDER))
    world.do(c.CancelTask(task_id=task, reason="重复任务"), world.officer)
    with pytest.raises(errors.ConcurrencyConflict):
        batch.commit()
    assert app.head() == head + 1, "the other writer's cancellation only"


def test_a_refused_command_leaves_no_key_behind(world: World) -> None:
    """A code renewed after its hold ran out: the handler makes the next generation's key, then the
    redemption refuses. Neither alone nor in a batch does that key reach the key store (it is written
    with the events, eventlog/keys.py: NewKey), and the batch's other commands keep theirs."""
    grid, rider = world.scene()
    world.piece(grid, rider)
    canteen = world.partner()
    item = world.item(canteen, price=1, stock=5, hold_minutes=1)
    first, second = (UUID(world.redeem(rider, item).result["redemption_id"]) for _ in range(2))
    world.clock.advance(120)  # both holds ran out
    app: GridGovernance = world.app
    next_key = {r: Redemption.key_owner(r, 1) for r in (first, second)}
    with pytest.raises(errors.HoldExpired):
        world.do(c.RenewRedemptionCode(redemption_id=first), rider_actor(rider))
    with app.batch() as batch:
        with pytest.raises(errors.HoldExpired):
            batch.execute(c.RenewRedemptionCode(redemption_id=second), rider_actor(rider))
        late = UUID(batch.execute(c.RedeemItem(rider_id=rider, item_id=item), rider_actor(rider))["redemption_id"])
    assert app.code_keys.get(next_key[first]) is None and app.code_keys.get(next_key[second]) is None
    assert app.code_keys.get(Redemption.key_owner(late, 0)) is not None, "the batch's redemption has its key"


def test_a_rider_registered_and_erased_in_one_batch_has_no_key_after_it(world: World) -> None:
    """The registration's key waits for the batch's commit (NewKey): the erasure must take it out
    of the batch, or the commit would write the key after its deletion and the data would be back."""
    app: GridGovernance = world.app
    rider = uuid4()
    with app.batch() as batch:
        batch.execute(c.RegisterRider(rider_id=rider, platform="meituan", station="温江站", name="骑手甲",
                                      phone="13800000001"), rider_actor(rider))
        batch.execute(c.ErasePersonalData(rider_id=rider, reason="本人申请"), rider_actor(rider))
    assert app.keys.get(rider) is None
    assert app.personal_data(rider) is None
