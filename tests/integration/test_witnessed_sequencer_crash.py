"""`gridgov audit sequence` offering checkpoints to two `gridgov witness serve`, SIGKILLed
at random moments after it has had a checkpoint cosigned (so mid-submission of a
later one), a witness SIGKILLed once too, beside two busy writers: no witness ever
keeps evidence of a split (it never saw two inconsistent checkpoints of ours), every
cosignature kept verifies, and, the writers stopped, the newest checkpoint is
eventually cosigned by both."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from gridgov import bootstrap
from gridgov.settings import Settings, load_settings
from tests.fixtures.witnesses import ORIGIN, Log, WitnessProcess
from transparency.checkpoints import Signer
from transparency.store import open_tree_store

ROOT = Path(__file__).resolve().parents[2]
KILLS = 4
DEADLINE_S = 60.0

WRITER = """
import signal, time
from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World

stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
clock = ManualClock(START)
app = bootstrap.application(load_settings(), clock=clock)
world = World(app, clock, district=__import__("sys").argv[1])
grid, rider = world.scene()
while not stop:
    world.piece(grid, rider)
    clock.advance(60)
    time.sleep(0.01)
app.close()
"""


def wait_for(what: str, done: Callable[[], bool], deadline_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not done():
        assert time.monotonic() < deadline, f"no {what} in {deadline_s:.0f} s"
        time.sleep(0.02)


def test_sequencer_and_witness_killed_mid_submission_never_split_and_end_cosigned(tmp_path: Path) -> None:
    key = Signer.generate(ORIGIN)
    (tmp_path / "audit.key").write_text(key.text())
    a = WitnessProcess(tmp_path / "a", "witness-a", [Log(signer=key)]).start()
    b = WitnessProcess(tmp_path / "b", "witness-b", [Log(signer=key)]).start()
    a_port = int(a.url.rsplit(":", 1)[1])
    settings = load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"), "AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "AUDIT_ORIGIN": ORIGIN, "AUDIT_CHECKPOINT_INTERVAL_S": "1", "AUDIT_WITNESS_POLICY": "2",
        "AUDIT_WITNESS_TIMEOUT_S": "2", "AUDIT_WITNESSES": f"{a.url}={a.vkey},{b.url}={b.vkey}"})
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(settings.as_env(), PYTHONUNBUFFERED="1")
    app = bootstrap.application(settings)
    tree = open_tree_store(app.eventlog)
    policy = bootstrap.transparency_log(settings, app).witnesses

    def spawn(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with open(tmp_path / f"{name}.log", "wb") as log:
            return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=log)

    def cosignatures() -> int:
        return sum(len(c.cosignatures) for c in tree.checkpoints())

    writers = [spawn(f"writer-{d}", ["-c", WRITER, d]) for d in ("温江", "锦江")]
    sequencer = None
    rng = random.Random(27)
    try:
        for kill in range(KILLS):
            before = cosignatures()
            sequencer = spawn(f"sequencer-{kill}", ["-m", "api.cli", "audit", "sequence"])
            wait_for("a cosignature since this start", lambda: cosignatures() > before)
            time.sleep(rng.uniform(0, 1.2))  # a random moment of a later round: often mid-submission
            sequencer.send_signal(signal.SIGKILL)
            sequencer.wait(30)
            if kill == 1:
                a.kill()
                a.start(a_port)
        for writer in writers:
            writer.send_signal(signal.SIGTERM)
            writer.wait(30)
        sequencer = spawn("sequencer-last", ["-m", "api.cli", "audit", "sequence"])

        def newest_cosigned_by_both() -> bool:
            latest = tree.checkpoint()
            return (latest is not None and tree.tip()[1] == app.eventlog.head() and latest.size == tree.tip()[0]
                    and policy.cosigners(latest) == ["witness-a", "witness-b"])

        wait_for("the newest checkpoint cosigned by both", newest_cosigned_by_both)
    finally:
        for process in [*writers, sequencer]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(30)
        for witness in (a, b):
            witness.stop()
    kept = tree.checkpoints()
    assert all(policy.cosigners(c) == [s.witness for s in c.cosignatures] for c in kept), "a kept cosignature is bad"
    assert sum(1 for c in kept if c.cosignatures) >= KILLS
    for witness in (a, b):
        evidence = subprocess.run([sys.executable, "-m", "api.cli", "witness", "evidence", "--state",
                                   str(witness.state)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert evidence.returncode == 0, f"{witness.name} keeps evidence of a split:\n{evidence.stdout}"
    app.close()
