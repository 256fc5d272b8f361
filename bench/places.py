"""What placing a clue by its location costs a report, with 1,000 grids drawn.

    python bench/places.py [--grids 1000] [--reports 2000] [--rounds 3]

Two tables from one run, medians over rounds (the modes alternate within a round):

  locate    the atlas alone (application/places.py): the STRtree's query for the
            grids whose box holds the point, then `covers`; beside a scan of every
            grid's `covers`, which is what the tree saves.
  report    report-clue through the application on SQLite (the embedded default):
            `named` names a grid and no grid has a boundary (the old way); `placed`
            names none and the location decides among the drawn grids (reading the
            places' new events from the log before each report, as every process does).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain import commands as c  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from domain.clues import Category, Location  # noqa: E402
from domain.events import Actor, Role  # noqa: E402
from domain.places import rectangle  # noqa: E402
from gridgov import bootstrap  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from tests.fixtures.world import START  # noqa: E402

WEST, SOUTH, SIDE = 103.80, 30.60, 0.2  # the district: a square of 0.2° (about 20 km)
ADMIN = Actor(id="admin-温江", role=Role.DISTRICT_ADMIN)


def cells(n: int) -> list[tuple[float, float, float, float]]:
    columns = math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    w, h = SIDE / columns, SIDE / rows
    return [(WEST + i * w, SOUTH + j * h, WEST + (i + 1) * w, SOUTH + (j + 1) * h)
            for j in range(rows) for i in range(columns)][:n]


def city(folder: str, grids: int, drawn: bool):  # type: ignore[no-untyped-def]
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                               "SQLITE_DBNAME": f"{folder}/{'placed' if drawn else 'named'}.sqlite"}),
                                clock=clock)
    if drawn:
        app.execute(c.SetDistrictBoundary(district="温江", boundary=rectangle(WEST, SOUTH, WEST + SIDE, SOUTH + SIDE)),
                    ADMIN)
    ids, batch = [], app.batch()
    for n, box in enumerate(cells(grids)):
        result = batch.execute(c.RegisterGrid(district="温江", street="街", community="社", name=f"格{n}",
                                              boundary=rectangle(*box) if drawn else None), ADMIN)
        ids.append(UUID(result["grid_id"]))
        if n % 200 == 199:
            batch.commit()
            batch = app.batch()
    batch.commit()
    rider = app.ids()
    rider_actor = Actor(id=str(rider), role=Role.RIDER)
    app.execute(c.RegisterRider(rider_id=rider, platform="meituan", station="温江站", name="张三",
                                phone="13800000000"), rider_actor)
    app.execute(c.JoinGrid(rider_id=rider, grid_id=ids[0]), rider_actor)
    return app, clock, rider, rider_actor, ids[0]


def reports_per_second(app, clock, rider, actor, grid, n: int, placed: bool, rng: random.Random) -> float:  # type: ignore[no-untyped-def]  # noqa: E501
    started = time.perf_counter()
    for _ in range(n):
        where = Location(lon=WEST + rng.random() * SIDE, lat=SOUTH + rng.random() * SIDE)
        app.execute(c.ReportClue(rider_id=rider, grid_id=None if placed else grid, category=Category.OTHER,
                                 text="井盖缺失", location=where), actor)
        clock.advance(1)
    return n / (time.perf_counter() - started)


def locate_us(atlas, points: list[Location], scan: bool) -> float:  # type: ignore[no-untyped-def]
    from shapely.geometry import Point

    started = time.perf_counter()
    if scan:
        shapes = list(atlas.grids.items())
        for p in points:
            point = Point(p.lon, p.lat)
            min([grid for grid, (_, shape) in shapes if shape.covers(point)], default=None)
    else:
        for p in points:
            atlas.locate(p)
    return (time.perf_counter() - started) / len(points) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        named, placed = city(folder, args.grids, False), city(folder, args.grids, True)
        atlas = placed[0].places.current()
        atlas.locate(Location(lon=WEST, lat=SOUTH))  # the tree is built on the first question
        points = [Location(lon=WEST + rng.random() * SIDE, lat=SOUTH + rng.random() * SIDE) for _ in range(20_000)]
        tree, scan, rates = [], [], {"named": [], "placed": []}
        for round in range(args.rounds):
            tree.append(locate_us(atlas, points, scan=False))
            scan.append(locate_us(atlas, points[:2000], scan=True))
            # Each mode first in every other round: a busy machine's drift falls on both alike.
            for mode in (("named", "placed") if round % 2 == 0 else ("placed", "named")):
                rates[mode].append(reports_per_second(*(placed if mode == "placed" else named), args.reports,
                                                      mode == "placed", rng))
        for app, *_ in (named, placed):
            app.close()
    print(f"locate, {args.grids} grids   µs per point (median of {args.rounds})")
    print(f"  STRtree          {statistics.median(tree):8.1f}")
    print(f"  scan of every    {statistics.median(scan):8.1f}")
    named_rate, placed_rate = statistics.median(rates["named"]), statistics.median(rates["placed"])
    print(f"report-clue on SQLite, {args.grids} grids   reports/s   ms per report")
    print(f"  named (no boundaries)   {named_rate:8.0f}   {1000 / named_rate:6.2f}")
    print(f"  placed by location      {placed_rate:8.0f}   {1000 / placed_rate:6.2f}")
    print(f"  routing costs           {1000 / placed_rate - 1000 / named_rate:+6.2f} ms per report")


if __name__ == "__main__":
    main()
