"""The checkpointer after each sequencer round: signs when the interval has passed
and the tree has grown, and publishes every kept checkpoint once, in order; one
whose publishing failed (the broker away) goes out on the next round."""

from __future__ import annotations

from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World
from transparency.checkpoints import Signer
from transparency.log import TransparencyLog
from transparency.sequencer import Checkpointer
from transparency.store import open_tree_store


def test_a_checkpoint_whose_publishing_failed_is_published_next_round() -> None:
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock=clock)
    tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), "gridgov.test/c",
                           Signer.generate("gridgov.test/c"))
    world = World(app, clock)
    sent: list[str] = []
    broker_away = [True]

    def publish(note: str) -> None:
        if broker_away[0]:
            raise ConnectionError("broker away")
        sent.append(note)

    checkpointer = Checkpointer(tlog, interval=0, publish=publish)
    world.scene()
    tlog.sequencer().catch_up()
    try:
        checkpointer()
    except ConnectionError:
        pass
    assert sent == [] and tlog.tree.checkpoint() is not None  # signed and kept, not yet published
    broker_away[0] = False
    checkpointer()
    assert sent == [tlog.tree.checkpoint().note]
    checkpointer()  # nothing new: nothing sent again
    assert len(sent) == 1
    world.scene()
    tlog.sequencer().catch_up()
    checkpointer()
    assert len(sent) == 2 and sent[-1] == tlog.tree.checkpoint().note
    app.close()


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _signing_world() -> tuple[object, TransparencyLog, World]:
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock=clock)
    tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), "gridgov.test/c",
                           Signer.generate("gridgov.test/c"))
    return app, tlog, World(app, clock)


def test_nothing_is_signed_while_nothing_changes() -> None:
    app, tlog, world = _signing_world()
    ticks = Ticks()
    checkpointer = Checkpointer(tlog, interval=5, now=ticks)
    world.scene()
    tlog.sequencer().catch_up()
    checkpointer()
    for _ in range(20):  # a quiet minute and more, round after round
        ticks.now += 5
        tlog.sequencer().catch_up()
        checkpointer()
    assert [c.size for c in tlog.tree.checkpoints()] == [tlog.size()]
    app.close()


def test_the_first_change_after_a_quiet_spell_is_signed_at_once() -> None:
    """The interval spaces signatures while the log is busy; a quiet spell has
    already waited it, so the next event is not made to wait another whole one."""
    app, tlog, world = _signing_world()
    ticks = Ticks()
    checkpointer = Checkpointer(tlog, interval=5, now=ticks)
    world.scene()
    tlog.sequencer().catch_up()
    checkpointer()
    ticks.now += 5
    checkpointer()  # nothing new
    ticks.now += 1
    world.scene()
    tlog.sequencer().catch_up()
    checkpointer()
    assert tlog.tree.checkpoint().size == tlog.size()
    app.close()


def test_while_busy_checkpoints_are_an_interval_apart() -> None:
    app, tlog, world = _signing_world()
    ticks = Ticks()
    checkpointer = Checkpointer(tlog, interval=5, now=ticks)
    signed_at = []
    for _ in range(12):
        world.scene()
        tlog.sequencer().catch_up()
        before = len(tlog.tree.checkpoints())
        checkpointer()
        if len(tlog.tree.checkpoints()) > before:
            signed_at.append(ticks.now)
        ticks.now += 2
    gaps = [b - a for a, b in zip(signed_at, signed_at[1:])]
    assert gaps and all(gap >= 5 for gap in gaps) and max(gaps) <= 6
    app.close()


def test_the_default_interval_signs_a_busy_log_within_five_seconds() -> None:
    assert load_settings({}).AUDIT_CHECKPOINT_INTERVAL_S <= 5


def test_an_empty_log_signs_nothing() -> None:
    """A checkpoint of no leaves proves nothing and cannot be asked for (sizes start at 1)."""
    app, tlog, _ = _signing_world()
    Checkpointer(tlog, interval=0)()
    assert tlog.tree.checkpoint() is None
    app.close()


class SettledWitnessing:
    """Two witnesses that have answered on every checkpoint (one of them failing, say)."""

    class policy:  # noqa: N801 - stands in for a WitnessPolicy
        witnesses = ("witness-a", "witness-b")

    def offer(self, checkpoint: object) -> None:
        pass

    def settled(self, size: int) -> bool:
        return True


def test_a_note_that_gains_a_cosignature_after_it_went_out_goes_out_again_once() -> None:
    from transparency.store import Cosignature

    app, tlog, world = _signing_world()
    sent: list[str] = []
    checkpointer = Checkpointer(tlog, interval=0, publish=sent.append, witnessing=SettledWitnessing())
    world.scene()
    tlog.sequencer().catch_up()
    checkpointer()
    size = tlog.tree.checkpoint().size
    tlog.tree.add_cosignature(size, Cosignature("witness-a", "— witness-a AAAA", "2026-12-05T00:00:00+00:00"))
    checkpointer()
    checkpointer()  # nothing gained since: nothing again
    tlog.tree.add_cosignature(size, Cosignature("witness-b", "— witness-b BBBB", "2026-12-05T00:00:01+00:00"))
    checkpointer()
    checkpointer()  # every witness on it: never again
    assert sent == [tlog.tree.checkpoint().note,
                    tlog.tree.checkpoint().note + "— witness-a AAAA\n",
                    tlog.tree.checkpoint().note + "— witness-a AAAA\n— witness-b BBBB\n"]
    app.close()
