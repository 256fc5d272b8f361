"""Crash safety of the transparency log's sequencer, with real processes and SIGKILL.

A writer appends events through the application without pause while
`gridgov audit sequence` is killed (SIGKILL) and restarted again and again: most
times once the tree has grown since that start, at a random moment after; some
times just after it has begun its first round (a batch in flight). On PostgreSQL
the test also spends sequence numbers, so the log's positions have gaps. Then the
tree falls behind (on SQLite by more than one batch), the writer stops, and
`gridgov audit sequence --once` finishes it. The tree must be exactly the log: one
leaf per stored event, in log order, no gap, none twice; `verify` clean; and every
checkpoint signed on the way must verify and be a prefix of the final tree.

All waiting is on progress (the tree's size, the log's head, a line in a log),
each with a deadline.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from gridgov import bootstrap
from gridgov.settings import Settings, load_settings
from transparency.checkpoints import Signer, Verifier
from transparency.leaves import leaf_hashes
from transparency.merkle import Tree, verify_consistency
from transparency.store import open_tree_store
from transparency.verify import verify

ROOT = Path(__file__).resolve().parents[2]
KILLS = 12  # each after the tree has grown since that start
EARLY_KILLS = 4  # more, just after a start's first round began
BACKLOG = 6000  # events for the final --once on SQLite: more than one of its batches
DEADLINE_S = 120.0  # for any one piece of progress; generous, for a loaded machine

# Writes events through the application until SIGTERM: a grid, then rider after
# rider doing paid pieces of work (publish, claim, complete, verify: ~7 events each).
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
world = World(app, clock)
grid, rider = world.scene()
pieces = 0
while not stop:
    if pieces % 20 == 0:
        rider = world.rider(grid)
    world.piece(grid, rider)
    pieces += 1
    clock.advance(60)
    time.sleep(0.005)
app.close()
print(pieces, "pieces", flush=True)
"""


class Run:
    """The processes of one run, their logs, and the store as the test sees it."""

    def __init__(self, tmp_path: Path, store_env: dict[str, str]) -> None:
        key = tmp_path / "audit.key"
        signer = Signer.generate(Settings().AUDIT_ORIGIN)
        key.write_text(signer.text() + "\n")
        self.verifier = Verifier.parse(signer.verifier().text())  # as an auditor is given it
        self.settings = load_settings(store_env, READMODEL_STORE="sqlite",
                                      READMODEL_SQLITE_DBNAME=str(tmp_path / "readmodels.sqlite"),
                                      AUDIT_KEY_FILE=str(key), AUDIT_CHECKPOINT_INTERVAL_S=1)
        # The children read these settings and no others (no Kafka: the sequencer runs embedded).
        self.env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
        self.env.update(self.settings.as_env(), PYTHONUNBUFFERED="1")
        self.logs = tmp_path
        # Made here first: the event store's tables, then the tree's, before any child starts.
        self.app = bootstrap.application(self.settings)
        self.tree = open_tree_store(self.app.eventlog)
        self.writer: subprocess.Popen[bytes] | None = None
        self.sequencer: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")
        try:
            return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=log)
        finally:
            log.close()

    def start_writer(self) -> None:
        self.writer = self.spawn("writer", ["-c", WRITER])

    def start_sequencer(self) -> int:
        """Start `gridgov audit sequence`; the tree's size as it starts."""
        size = self.tree.tip()[0]
        self.starts += 1
        self.sequencer = self.spawn(f"sequencer-{self.starts}", ["-m", "api.cli", "audit", "sequence"])
        return size

    def kill_sequencer(self) -> None:
        assert self.sequencer is not None
        if self.sequencer.poll() is not None:
            raise AssertionError(f"the sequencer exited by itself ({self.sequencer.returncode})\n{self.tails()}")
        self.sequencer.send_signal(signal.SIGKILL)
        self.sequencer.wait(timeout=30)
        self.sequencer = None

    def wait_for(self, what: str, done: Callable[[], bool], deadline_s: float = DEADLINE_S) -> None:
        deadline = time.monotonic() + deadline_s
        while not done():
            for proc in (self.writer, self.sequencer):
                if proc is not None and proc.poll() is not None:
                    raise AssertionError(f"waiting for {what}, a process exited ({proc.args[1:3]}: "
                                         f"{proc.returncode})\n{self.tails()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} in {deadline_s:.0f} s\n{self.tails()}")
            time.sleep(0.02)

    def said(self, text: str) -> Callable[[], bool]:
        path = self.logs / f"sequencer-{self.starts}.log"
        return lambda: text in path.read_text(errors="replace")

    def grown(self, since: int) -> Callable[[], bool]:
        return lambda: self.tree.tip()[0] > since

    def spend_sequence_numbers(self, n: int) -> None:
        """PostgreSQL: a gap in the log's positions, as a rolled-back insert leaves."""
        if self.settings.PERSISTENCE_MODULE != "eventsourcing.postgres":
            return
        table = f"{self.settings.POSTGRES_SCHEMA}.{self.app.recorder.events_table_name}"
        with self.app.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'notification_id')) "
                           "FROM generate_series(1, %s)", (n,))

    def positions(self) -> list[int]:
        """Every stored event's position, in log order, counted from the rows."""
        found: list[int] = []
        while rows := self.app.eventlog.page(found[-1] if found else 0, 5000):
            found += [row[0] for row in rows]
        return found

    def tails(self, lines: int = 20) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log"), key=lambda p: p.stat().st_mtime)[-3:]:
            text = path.read_text(errors="replace").splitlines()
            out.append(f"--- {path.name} ---\n" + "\n".join(line[:300] for line in text[-lines:]))
        return "\n".join(out)

    def close(self) -> None:
        for proc in (self.writer, self.sequencer):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        self.app.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def run(request, tmp_path: Path) -> Iterator[Run]:  # type: ignore[no-untyped-def]
    store_env = request.getfixturevalue("sqlite_file" if request.param == "sqlite" else "postgres_schema")
    r = Run(tmp_path, store_env)
    try:
        yield r
    finally:
        r.close()


def test_a_sequencer_killed_at_any_moment_leaves_the_tree_exactly_the_log(run: Run) -> None:
    rng = random.Random(20261201)
    run.start_writer()
    run.wait_for("events from the writer", lambda: run.app.eventlog.head() >= 100)
    plan = ["grown"] * KILLS + ["early"] * EARLY_KILLS
    rng.shuffle(plan)
    for n, when in enumerate(plan, start=1):
        size = run.start_sequencer()
        if when == "grown":  # some batch committed since this start; then any moment after
            run.wait_for(f"the tree growing past {size} (start {n})", run.grown(size))
            time.sleep(rng.choice([0.0, rng.uniform(0.0, 0.1), rng.uniform(0.1, 1.2)]))
        else:  # its first round has begun, over the backlog the writer made while it was down
            run.wait_for(f"sequencer start {n} to begin", run.said("sequencer: the tree has"))
            time.sleep(rng.uniform(0.0, 0.05))
        run.kill_sequencer()
        if n % 5 == 0:
            run.spend_sequence_numbers(rng.randint(1, 3))
    killed_at = run.tree.tip()[0]
    # Events for --once to add: on SQLite more than one batch of the sequencer (5,000),
    # so it must go on from batch to batch to the end. (Its loop is the same on both
    # backends; PostgreSQL's writer is too slow here to make that many in good time.)
    backlog = BACKLOG if run.settings.PERSISTENCE_MODULE == "eventsourcing.sqlite" else 300
    run.wait_for(f"{backlog:,} events not in the tree", lambda: run.app.eventlog.head() - run.tree.tip()[1] > backlog)

    assert run.writer is not None
    run.writer.send_signal(signal.SIGTERM)
    assert run.writer.wait(timeout=60) == 0, run.tails()
    once = subprocess.run([sys.executable, "-m", "api.cli", "audit", "sequence", "--once"], cwd=ROOT,
                          env=run.env, capture_output=True, text=True, timeout=300)
    assert once.returncode == 0, once.stderr[-3000:]
    # A round that failed lost nothing (the next one redoes it) but is work thrown
    # away: on SQLite every commit of the writer used to fail the sequencer's
    # append with "database is locked" when the append read before it wrote.
    failed = [path.name for path in run.logs.glob("sequencer-*.log") if b"round failed" in path.read_bytes()]
    assert failed == [], f"sequencer rounds failed in {failed}: {run.tails()}"

    # One leaf per stored event, in log order: no gap, none twice.
    positions = run.positions()
    size, last = run.tree.tip()
    assert size == len(positions), f"after --once the tree has {size:,} leaves, the log {len(positions):,} events"
    assert size - killed_at > backlog - 10  # (less a few positions spent on PostgreSQL)
    assert last == positions[-1]
    assert [leaf.position for leaf in run.tree.leaves(0, size)] == positions
    # The whole tree recomputed from the rows, and every signed checkpoint held against it.
    report = verify(run.app.eventlog, run.tree, run.app.mapper.decode_state, run.verifier,
                    kept=once.stdout, origin=run.settings.AUDIT_ORIGIN)
    assert report.problems == []
    assert (report.events, report.tree_size, report.unsequenced) == (size, size, 0)

    # Every kept checkpoint: signed by our key, the root of the first `size` events
    # (recomputed here from the rows), and consistent with the final tree.
    tlog = bootstrap.transparency_log(run.settings, run.app)
    checkpoints = run.tree.checkpoints()
    final = tlog.latest()
    assert final.size == size and final.note == once.stdout
    assert len(checkpoints) >= 3 and report.checkpoints == len(checkpoints)
    recomputed = Tree([hash_ for _, hash_ in leaf_hashes(run.app.eventlog, decode=run.app.mapper.decode_state)])
    for kept in checkpoints:
        signed = run.verifier.open(kept.note, run.settings.AUDIT_ORIGIN)
        assert (signed.size, signed.root) == (kept.size, kept.root)
        assert recomputed.root(kept.size) == kept.root, f"checkpoint {kept.size}"
        proof = tlog.consistency(kept.size, final.size)
        assert verify_consistency(kept.size, final.size, kept.root, final.root, proof.proof), f"checkpoint {kept.size}"
