"""Grids as places: every point lands in exactly one grid, or its district's admins' queue, or is refused.

Districts are random rectangles side by side (sharing edges), each cut by random
guillotine cuts into cells; some cells become grids, the others stay undrawn
(the district's queue). Coordinates are whole degrees and points half degrees, so
that points fall exactly on edges and corners often: there the rule is the
smallest grid id (districts: the first name), which the oracle below computes
from the rectangles alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain import errors
from domain.clues import Category, Location
from domain.places import rectangle
from tests.fixtures.world import rider_actor

Rect = tuple[int, int, int, int]  # west, south, east, north


@dataclass
class Plan:
    districts: list[tuple[str, Rect]]
    grids: list[tuple[str, Rect]]  # district, cell
    bounded: list[bool]  # has the district a boundary?


@st.composite
def cells(draw: st.DrawFn, rect: Rect, depth: int = 0) -> list[Rect]:
    """A guillotine tiling of `rect`: cut across or along at a whole degree, or stop."""
    west, south, east, north = rect
    can_x, can_y = east - west > 1, north - south > 1
    if depth >= 4 or not (can_x or can_y) or draw(st.booleans()):
        return [rect]
    if can_x and (not can_y or draw(st.booleans())):
        cut = draw(st.integers(west + 1, east - 1))
        return draw(cells((west, south, cut, north), depth + 1)) + draw(cells((cut, south, east, north), depth + 1))
    cut = draw(st.integers(south + 1, north - 1))
    return draw(cells((west, south, east, cut), depth + 1)) + draw(cells((west, cut, east, north), depth + 1))


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    districts, grids, bounded, west = [], [], [], draw(st.integers(1, 3))
    for i in range(draw(st.integers(1, 3))):
        width, south = draw(st.integers(1, 5)), draw(st.integers(0, 2))
        rect = (west, south, west + width, south + draw(st.integers(1, 5)))
        name = f"区{i}"
        districts.append((name, rect))
        bounded.append(draw(st.booleans()))
        grids += [(name, cell) for cell in draw(cells(rect)) if draw(st.integers(0, 3))]  # a quarter undrawn
        west += width + draw(st.sampled_from([0, 0, 1]))  # mostly sharing an edge with the next
    return Plan(districts, grids, bounded)


def inside(rect: Rect, x: float, y: float) -> bool:
    west, south, east, north = rect
    return west <= x <= east and south <= y <= north


def expected(plan: Plan, ids: list[UUID], x: float, y: float) -> tuple[UUID | None, str | None]:
    """Where the point belongs, from the rectangles alone."""
    covering = [grid_id for grid_id, (_, cell) in zip(ids, plan.grids) if inside(cell, x, y)]
    if covering:
        grid_id = min(covering)
        return grid_id, plan.grids[ids.index(grid_id)][0]
    districts = sorted(name for (name, rect), drawn in zip(plan.districts, plan.bounded) if drawn and inside(rect, x, y))
    return None, (districts[0] if districts else None)


def edges_and_corners(plan: Plan) -> list[tuple[float, float]]:
    """Every cell's corners and the middles of its edges: where two grids, or a grid and its district's edge,
    meet."""
    found = []
    for _, (west, south, east, north) in plan.grids:
        middle_x, middle_y = (west + east) / 2, (south + north) / 2
        found += [(west, south), (east, north), (west, middle_y), (east, middle_y), (middle_x, south),
                  (middle_x, north)]
    return found


points = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 18)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans(), halves=points)
def test_every_point_lands_in_one_grid_or_its_districts_queue_or_is_refused(plan: Plan,
                                                                            halves: list[tuple[int, int]]) -> None:
    app, _, world, cleanup = _memory_app()
    try:
        for (name, rect), drawn in zip(plan.districts, plan.bounded):
            if drawn:
                world.do(c.SetDistrictBoundary(district=name, boundary=rectangle(*rect)), world.admin)
        ids = [UUID(world.do(c.RegisterGrid(district=name, street="街", community="社", name=f"格{i}",
                                            boundary=rectangle(*cell)), world.admin).result["grid_id"])
               for i, (name, cell) in enumerate(plan.grids)]
        # A rider of each district, in a grid of it without a boundary: a rider reports in its districts.
        riders = {name: world.rider(UUID(world.do(c.RegisterGrid(district=name, street="街", community="社",
                                                                 name=f"{name}-驿站"), world.admin
                                                  ).result["grid_id"]))
                  for name, _ in plan.districts}
        atlas = app.places.current()
        for x, y in [(hx / 2, hy / 2) for hx, hy in halves] + edges_and_corners(plan):
            want_grid, want_district = expected(plan, ids, x, y)
            placement = atlas.locate(Location(lon=x, lat=y))
            assert (placement.grid_id, placement.district) == (want_grid, want_district), (x, y)
        # Told through the command, each point gives the same answer (a few: each is a report).
        for hx, hy in halves[:5]:
            x, y = hx / 2, hy / 2
            want_grid, want_district = expected(plan, ids, x, y)
            rider = riders[want_district] if want_district else riders[plan.districts[0][0]]
            report = c.ReportClue(rider_id=rider, category=Category.OTHER, text="井盖缺失",
                                  location=Location(lon=x, lat=y))
            if want_district is None:
                before = app.head()
                try:
                    world.do(report, rider_actor(rider))
                except errors.LocationOutsideDistricts:
                    assert app.head() == before  # nothing stored
                else:
                    raise AssertionError(f"({x}, {y}) is in no district, yet the report was taken")
            else:
                result = world.do(report, rider_actor(rider)).result
                assert (result["grid_id"], result["district"]) == (str(want_grid) if want_grid else None,
                                                                   want_district)
    finally:
        cleanup()


def _memory_app():  # type: ignore[no-untyped-def]
    from domain.clock import ManualClock
    from gridgov import bootstrap
    from gridgov.settings import load_settings
    from tests.fixtures.world import START, World

    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock=clock)
    return app, clock, World(app, clock), app.close


def test_the_places_index_reads_on_from_the_head_not_from_the_last_boundary() -> None:
    """Boundaries change rarely: left at the last of them, the index would scan every later event on each
    report (the log has no index by topic)."""
    app, _, world, cleanup = _memory_app()
    try:
        world.do(c.SetDistrictBoundary(district=world.district, boundary=rectangle(103.8, 30.6, 103.9, 30.7)),
                 world.admin)
        grid, rider = world.scene()
        for _ in range(5):
            world.report(rider, grid)
        app.places.current()
        assert app.places.position == app.head()
    finally:
        cleanup()
