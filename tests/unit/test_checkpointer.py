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
