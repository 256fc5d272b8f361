"""Redemptions and the month-end points sweep, beside a plain claim in the same run.

    python bench/rewards.py [--n 500] [--rounds 3] [--backends sqlite,postgres]

  claim    ClaimTask: load a task and a rider, append one event (the yardstick:
           bench/append.py's "update")
  redeem   RedeemItem: load the rider, the item and the points account, append to
           three streams (StockReserved, PointsHeld, RedemptionHeld)
  confirm  ConfirmRedemption: the partner's code checked, two streams written
  sweep    ExpireOldPoints for every rider with points, as `gridgov sweep` runs it
           at month end (candidates from the read model), riders per second;
           and what that makes of Chengdu's 75,000 riders
Prints one Markdown table of medians over the rounds, and each rate / claim's.
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
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.append import store_env  # noqa: E402
from domain import commands as c  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from domain.rates import Rate  # noqa: E402
from gridgov.bootstrap import application, log_feed  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from gridgov.sweep import sweep_points  # noqa: E402
from projections.points import Points  # noqa: E402
from projections.riders import Riders  # noqa: E402
from projections.stores.sqlite import SQLiteStore  # noqa: E402
from tests.fixtures.world import World, rider_actor  # noqa: E402

CITY = 75_000


def timed(n: int, fn: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def one_round(backend: str, n: int) -> dict[str, float]:
    env, cleanup = store_env(backend)
    try:
        clock = ManualClock(datetime(2026, 11, 2, 1, tzinfo=timezone.utc))
        app = application(load_settings(env), clock=clock)
        world = World(app, clock)
        grid = world.grid()
        world.schedule(rates={"patrol": Rate(fen=100, points=5)}, cap_day=10**9, cap_month=10**9)
        world.budget(fen=10**11)
        riders = [world.rider(grid) for _ in range(n)]
        for rider in riders:
            world.piece(grid, rider)  # 5 points each
        tasks = [world.task(grid) for _ in range(n)]
        canteen = world.partner()
        item = world.item(canteen, price=5, stock=n)
        rates = {"claim": timed(n, lambda i: world.claim(tasks[i], riders[i]))}
        held: list[dict] = []
        rates["redeem"] = timed(n, lambda i: held.append(app.execute(
            c.RedeemItem(rider_id=riders[i], item_id=item), rider_actor(riders[i])).result))
        half = n // 2  # the other half stays held, then is released: points back for the sweep
        rates["confirm"] = timed(half, lambda i: app.execute(c.ConfirmRedemption(
            redemption_id=UUID(held[i]["redemption_id"]), code=held[i]["code"]), canteen))
        for h in held[half:]:
            app.execute(c.RefuseRedemption(redemption_id=UUID(h["redemption_id"]), reason="bench"), canteen)
        app.execute(c.SetPointsPolicy(district=world.district, expire_after_months=1), world.admin)
        clock.advance(62 * 24 * 3600)  # January: November's points are past a month's end
        store = SQLiteStore(os.path.join(tempfile.mkdtemp(prefix="gridgov-bench-"), "readmodels.sqlite"))
        log_feed(app, store, [Points(), Riders()]).catch_up()
        started = time.perf_counter()
        swept = sweep_points(app, store, "2026-12")
        rates["sweep"] = swept.riders_checked / (time.perf_counter() - started)
        assert swept.points_expired == 5 * (n - half), swept
        store.close()
        app.close()
        return rates
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="riders (and commands of each kind) per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"bench/rewards.py: {args.n} riders x {args.rounds} rounds, medians, one process, {os.cpu_count()} cores\n")
    print("| backend | command | per second | / claim | note |")
    print("|---|---|---:|---:|---|")
    for backend in args.backends.split(","):
        rounds = [one_round(backend, args.n) for _ in range(args.rounds)]
        median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        for name in ("claim", "redeem", "confirm", "sweep"):
            note = (f"{CITY:,} riders' month end in {CITY / median[name] / 60:.1f} min" if name == "sweep"
                    else "the yardstick" if name == "claim" else "")
            print(f"| {backend} | {name} | {median[name]:,.0f} | {median[name] / median['claim']:.2f} | {note} |",
                  flush=True)


if __name__ == "__main__":
    main()
