"""The engine's sequencer and two `gridgov witness serve` processes, a third witness
named but down: each new checkpoint is cosigned by both within seconds (the one down
delays nothing but its own cosignature), the policy of 2 of 3 is met, the sequencer
restarted goes on (the witnesses' 409 tells it their size), and the third witness,
once up, cosigns the newest."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any, Callable

from domain.clock import ManualClock
from gridgov.bootstrap import Engine, bootstrap
from gridgov.settings import load_settings
from tests.fixtures.witnesses import ORIGIN, Log, WitnessProcess
from tests.fixtures.world import START, World
from transparency.checkpoints import Signer

BOUND_S = 5.0  # the checkpoint interval, a round and two witnesses' answers


def wait_for(condition: Callable[[], Any], deadline_s: float) -> Any:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if got := condition():
            return got
        time.sleep(0.02)
    return condition()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cosigned_by(engine: Engine, names: set[str]) -> Callable[[], bool]:
    def check() -> bool:
        latest = engine.tlog.tree.checkpoint()
        return (latest is not None and latest.size == engine.tlog.size() and engine.tlog.lag() == 0
                and set(engine.tlog.witnesses.cosigners(latest)) >= names)
    return check


def test_checkpoints_are_cosigned_by_the_witnesses_that_are_up(tmp_path: Path) -> None:
    key = Signer.generate(ORIGIN)
    (tmp_path / "audit.key").write_text(key.text())
    log = Log(signer=key)
    a = WitnessProcess(tmp_path / "a", "witness-a", [log]).start()
    b = WitnessProcess(tmp_path / "b", "witness-b", [log]).start()
    c = WitnessProcess(tmp_path / "c", "witness-c", [log])
    c_port = free_port()
    settings = load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"), "AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "AUDIT_ORIGIN": ORIGIN, "AUDIT_WITNESS_POLICY": "2", "AUDIT_WITNESS_TIMEOUT_S": "2",
        "AUDIT_WITNESSES": f"{a.url}={a.vkey},{b.url}={b.vkey},http://127.0.0.1:{c_port}={c.vkey}"})
    clock = ManualClock(START)
    engine = bootstrap(settings, clock=clock).follow()
    try:
        world = World(engine.app, clock)
        grid, _ = world.scene()
        waits = []
        for _ in range(3):
            world.task(grid)
            written = time.monotonic()
            assert wait_for(cosigned_by(engine, {"witness-a", "witness-b"}), 20), engine.tlog.tree.checkpoint()
            waits.append(time.monotonic() - written)
        assert max(waits) <= BOUND_S, waits
        latest = engine.tlog.latest()
        assert engine.tlog.witnesses.met(latest) and engine.tlog.witnesses.cosigners(latest) == ["witness-a",
                                                                                                 "witness-b"]
        assert engine.tlog.verifier.open(latest.served, ORIGIN).size == latest.size
        print(f"command → checkpoint cosigned by two witnesses (a third down): {[round(w, 2) for w in waits]} s")
    finally:
        engine.close()

    # The sequencer restarted: it offers from size 0, each witness answers 409 with its size.
    engine = bootstrap(settings, clock=clock).follow()
    try:
        world = World(engine.app, clock)
        world.task(grid)
        assert wait_for(cosigned_by(engine, {"witness-a", "witness-b"}), 20)
        c.start(c_port)
        world.task(grid)
        assert wait_for(cosigned_by(engine, {"witness-a", "witness-b", "witness-c"}), 25), \
            "the witness that was down never cosigned the newest checkpoint once up"
    finally:
        engine.close()
        for witness in (a, b, c):
            witness.stop()
