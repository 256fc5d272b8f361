"""Commands per second through GridGovernance.execute, beside the bare
`eventsourcing` library doing the same write in the same run.

    python bench/append.py [--n 2000] [--rounds 5] [--backends sqlite,postgres]

Two workloads, each with its bare twin:
  create  RegisterGrid: validate, decide, append one event of a new aggregate
          bare: a library `Aggregate` with the same fields, created and saved
  update  ClaimTask: load the task and the rider, decide, append one event
          bare: repository.get of a library aggregate, one @event method, save
and each of ours again through group commit (`app.batch()`, --batch commands per
transaction, application/batch.py): the same commands, decided the same way.
Prints one Markdown table of medians over the rounds, with our rate / bare rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402

from bench.common import POSTGRES, new_schema  # noqa: E402
from domain import commands as c  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from domain.events import Actor, Role  # noqa: E402
from application.service import GridGovernance  # noqa: E402
from gridgov.bootstrap import application  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from tests.fixtures.world import World, rider_actor  # noqa: E402

ADMIN = Actor(id="admin-bench", role=Role.DISTRICT_ADMIN)


class BareGrid(Aggregate):
    @event("Registered")
    def __init__(self, district: str, street: str, community: str, name: str) -> None:
        self.district, self.street, self.community, self.name = district, street, community, name
        self.claimant: str | None = None

    @event("Claimed")
    def claim(self, rider_id: str, expires_at: str) -> None:
        self.claimant = rider_id


class BareApp(Application):
    name = "bare"


def store_env(backend: str) -> tuple[dict[str, str], Callable[[], None]]:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="gridgov-bench-")
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/events.sqlite"}, lambda: None
    schema, drop = new_schema("bench")
    return {**POSTGRES, "POSTGRES_SCHEMA": schema}, drop


def rate(n: int, fn: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def batched(app: GridGovernance, size: int, n: int, command: Callable[[int], tuple[c.Command, Actor]]) -> float:
    """`n` commands through group commit, `size` to a transaction."""
    batch = app.batch()

    def one(i: int) -> None:
        batch.execute(*command(i))
        if batch.size >= size or i == n - 1:
            batch.commit()
    return rate(n, one)


def ours_create(app: GridGovernance, n: int, batch: int = 0) -> float:
    def command(i: int) -> tuple[c.Command, Actor]:
        return c.RegisterGrid(district="温江", street="柳城街道", community="光华社区", name=f"g{i}"), ADMIN
    if batch:
        return batched(app, batch, n, command)
    return rate(n, lambda i: app.execute(*command(i)))


def bare_create(app: BareApp, n: int) -> float:
    return rate(n, lambda i: app.save(BareGrid("温江", "柳城街道", "光华社区", f"g{i}")))


def ours_update(app: GridGovernance, clock: ManualClock, n: int, batch: int = 0) -> float:
    world = World(app, clock)
    grid, rider = world.scene()
    tasks = [world.task(grid) for _ in range(n)]
    actor = rider_actor(rider)

    def command(i: int) -> tuple[c.Command, Actor]:
        return c.ClaimTask(task_id=tasks[i], rider_id=rider), actor
    if batch:
        return batched(app, batch, n, command)
    return rate(n, lambda i: app.execute(*command(i)))


def bare_update(app: BareApp, n: int) -> float:
    ids = []
    for i in range(n):
        grid = BareGrid("温江", "柳城街道", "光华社区", f"g{i}")
        app.save(grid)
        ids.append(grid.id)
    expires = datetime.now(timezone.utc).isoformat()

    def claim(i: int) -> None:
        grid = app.repository.get(ids[i])
        grid.claim(rider_id="r", expires_at=expires)
        app.save(grid)

    return rate(n, claim)


def measure(backend: str, n: int, rounds: int, batch: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in ("ours_create", "bare_create", "batched_create",
                                                             "ours_update", "bare_update", "batched_update")}
    for _ in range(rounds):
        # Alternate within a round so drift on a noisy machine hits both sides alike.
        for name in results:
            env, cleanup = store_env(backend)
            try:
                if not name.startswith("bare"):
                    clock = ManualClock(datetime(2026, 11, 2, 1, tzinfo=timezone.utc))
                    app = application(load_settings(env), clock=clock)
                    size = batch if name.startswith("batched") else 0
                    value = (ours_create(app, n, size) if name.endswith("create")
                             else ours_update(app, clock, n, size))
                else:
                    app = BareApp(env=env)
                    value = bare_create(app, n) if name == "bare_create" else bare_update(app, n)
                app.close()
            finally:
                cleanup()
            results[name].append(value)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="commands per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--batch", type=int, default=100, help="commands per transaction with group commit")
    args = parser.parse_args()
    print(f"bench/append.py: {args.n} commands x {args.rounds} rounds, medians, one process, {os.cpu_count()} cores\n")
    print(f"| backend | workload | gridgov commands/s | bare eventsourcing/s | ratio | overhead | "
          f"group commit ({args.batch}/tx) commands/s | group commit / bare |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for backend in args.backends.split(","):
        r = measure(backend, args.n, args.rounds, args.batch)
        for workload in ("create", "update"):
            ours, bare = statistics.median(r[f"ours_{workload}"]), statistics.median(r[f"bare_{workload}"])
            grouped = statistics.median(r[f"batched_{workload}"])
            print(f"| {backend} | {workload} | {ours:,.0f} | {bare:,.0f} | {ours / bare:.2f} | "
                  f"{(1 - ours / bare) * 100:.0f}% | {grouped:,.0f} | {grouped / bare:.2f} |", flush=True)


if __name__ == "__main__":
    main()
