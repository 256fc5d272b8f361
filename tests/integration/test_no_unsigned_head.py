"""No unsigned head: with the default settings, the embedded engine's sequencer puts
a command's event into a signed checkpoint within five seconds (docs/audit.md;
that nothing is signed while nothing changes: tests/unit/test_checkpointer.py)."""

from __future__ import annotations

import time
from pathlib import Path

from domain.clock import ManualClock
from gridgov.bootstrap import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World
from transparency.checkpoints import Signer

BOUND_S = 5.0


def _wait_for(condition, deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_commands_event_is_signed_within_five_seconds(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    key.write_text(Signer.generate("gridgov.test/soon").text())
    settings = load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db"),
                              "READMODEL_SQLITE_DBNAME": str(tmp_path / "r.db"), "AUDIT_KEY_FILE": str(key),
                              "AUDIT_ORIGIN": "gridgov.test/soon"})
    clock = ManualClock(START)
    engine = bootstrap(settings, clock=clock).follow()
    try:
        world = World(engine.app, clock)
        grid, _ = world.scene()
        waits = []
        for _ in range(3):
            world.task(grid)
            head, written = engine.app.head(), time.monotonic()
            signed = _wait_for(lambda: (engine.tlog.tree.checkpoint() is not None
                                        and engine.tlog.tree.checkpoint().size >= engine.tlog.size()
                                        and engine.tlog.tree.tip()[1] >= head), 3 * BOUND_S)
            waits.append(time.monotonic() - written)
            assert signed, "the event was never signed"
        assert max(waits) <= BOUND_S, waits
        print(f"command → signed checkpoint: {[round(w, 2) for w in waits]} s")
    finally:
        engine.close()
