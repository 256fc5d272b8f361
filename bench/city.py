"""The city's writer alone: `gridgov simulate`'s set-up and day (gridgov/city_day.py), through
group commit, with no relay and no consumers; beside the bare library writing as many events
in transactions of the same size, in the same run.

    python bench/city.py [--riders 20000] [--rounds 3] [--backends sqlite,postgres]

  set-up   riders registered (their personal data sealed with a key each) and joined to
           their grid, 200 commands a transaction: riders/s and events/s
  day      the day's five-minute ticks (clues, tasks, claims, verification, redemptions,
           payouts), each tick's commands one batch: events/s
  bare     a library aggregate created and changed once for each rider (two events, as a
           rider's joining is), saved 100 riders a transaction: events/s
Prints one Markdown table of medians over the rounds, each rate / the bare one. With
`simulate`, the same writer shares the cores with the relay and a consumer per read model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.append import BareApp, BareGrid, store_env  # noqa: E402
from domain.clock import CHINA, ManualClock  # noqa: E402
from domain.ids import SeededIds  # noqa: E402
from gridgov.bootstrap import application  # noqa: E402
from gridgov.city_day import CityDay  # noqa: E402
from gridgov.demo import TICK_S, TICKS  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402

DAY = datetime(2026, 6, 26, 7, tzinfo=CHINA)


def ours(backend: str, riders: int) -> dict[str, float]:
    env, drop = store_env(backend)
    clock = ManualClock(DAY)
    app = application(load_settings(env), clock=clock, ids=SeededIds(7))
    try:
        city = CityDay(app, clock, 7, riders, DAY)
        clock.set(city.start.replace(hour=6))
        started = time.perf_counter()
        city.set_up_city()
        city.commit()
        setup_s, setup_events = time.perf_counter() - started, app.head()
        clock.set(city.start)
        started = time.perf_counter()
        for tick in range(TICKS):
            city.one_tick(tick)
            city.commit()
            clock.advance(TICK_S)
        city.end_of_day()
        city.commit()
        day_s, day_events = time.perf_counter() - started, app.head() - setup_events
        return {"riders/s": riders / setup_s, "set-up ev/s": setup_events / setup_s, "day ev/s": day_events / day_s,
                "events": setup_events + day_events}
    finally:
        app.close()
        drop()


def bare(backend: str, riders: int, per_transaction: int = 100) -> float:
    env, drop = store_env(backend)
    app = BareApp(env=env)
    try:
        started = time.perf_counter()
        for first in range(0, riders, per_transaction):
            grids = [BareGrid("温江", "柳城街道", "光华社区", f"g{i}")
                     for i in range(first, min(riders, first + per_transaction))]
            for grid in grids:
                grid.claim(rider_id=str(grid.id), expires_at="")
            app.save(*grids)
        return 2 * riders / (time.perf_counter() - started)
    finally:
        app.close()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--riders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print("| backend | riders | set-up riders/s | set-up ev/s | day ev/s | bare ev/s | set-up / bare | day / bare |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for backend in args.backends.split(","):
        runs, bares = [], []
        for _ in range(args.rounds):  # alternating, so a slow minute of the machine falls on both
            runs.append(ours(backend, args.riders))
            bares.append(bare(backend, args.riders))
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        base = statistics.median(bares)
        print(f"| {backend} | {args.riders:,} | {median['riders/s']:,.0f} | {median['set-up ev/s']:,.0f} | "
              f"{median['day ev/s']:,.0f} | {base:,.0f} | {median['set-up ev/s'] / base:.2f} | "
              f"{median['day ev/s'] / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
