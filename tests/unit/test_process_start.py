"""What a `gridgov` worker imports before it does its work.

The workers restart often — after a crash, on a deploy, at each scale-out — and the
tests start them hundreds of times a run. Importing what a command never uses cost
each start 0.3–0.5 CPU-s: numpy and Shapely (the map's geometry, only for reports
and drawn boundaries), httpx (only for mirroring the log and asking witnesses). Each
command here runs for real on an embedded store of its own, and what it had imported
when it exited is compared with what it must not have needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNUSED = ("numpy", "shapely", "httpx")
# Run as `gridgov` runs, then say what was imported as the process ends (whatever the exit).
RUN_AND_TELL = """
import atexit, sys
atexit.register(lambda: print("imported:", ",".join(sorted(m for m in {unused!r} if m in sys.modules))))
sys.argv = ["gridgov", *{args!r}]
from api.cli import main
main()
"""


def imported_by(args: list[str], tmp_path: Path) -> tuple[set[str], str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POSTGRES_", "READMODEL_", "KAFKA_", "GRIDGOV_", "PERSISTENCE_"))}
    env.update(SQLITE_DBNAME=str(tmp_path / "events.sqlite"), READMODEL_SQLITE_DBNAME=str(tmp_path / "rm.sqlite"))
    done = subprocess.run([sys.executable, "-c", RUN_AND_TELL.format(unused=UNUSED, args=args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    told = [line for line in done.stdout.splitlines() if line.startswith("imported:")]
    assert told, f"`gridgov {' '.join(args)}` did not get to say (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return {m for m in told[-1].removeprefix("imported:").strip().split(",") if m}, done.stderr


@pytest.mark.parametrize("args", [
    ["sweep"],                           # runs once on the embedded store, and exits
    ["audit", "sequence", "--once"],     # catches the tree up, signs a checkpoint, exits
    ["projections", "verify", "all"],    # folds every read model and compares
    ["relay"],                           # as far as its settings: Kafka is not configured here
    ["consume", "board"],                # the same
], ids=" ".join)
def test_a_worker_starts_without_what_it_never_uses(args: list[str], tmp_path: Path) -> None:
    imported, said = imported_by(args, tmp_path)
    assert not imported, f"`gridgov {' '.join(args)}` imported {sorted(imported)} it does not use; it said:\n{said}"


def test_the_check_sees_an_import_when_one_happens(tmp_path: Path) -> None:
    """The same check on a command that does draw on the map: a report's place is found with Shapely.
    Without this, a check that never saw anything would pass for ever."""
    imported, _ = imported_by(["demo", "--riders", "6", "--seed", "1"], tmp_path)
    assert {"numpy", "shapely"} <= imported
