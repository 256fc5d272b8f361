"""Grids as places, through HTTP: a clue lands in the grid drawn where it was reported, a clue in no grid waits
for the district's admins, a place outside every district is refused in words, and a bad boundary is a 4xx
problem that stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from domain.events import Role

from tests.fixtures.http import Api, district, is_problem

# 温江 drawn as a box, cut in two grids side by side (they share the edge at 103.85); its south part in no grid.
WENJIANG = (103.80, 30.60, 103.90, 30.72)
WEST, EAST = (103.80, 30.66, 103.85, 30.72), (103.85, 30.66, 103.90, 30.72)


def polygon(*ring: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return polygon((west, south), (east, south), (east, north), (west, north), (west, south))


def at(lon: float, lat: float) -> dict[str, float]:
    return {"lon": lon, "lat": lat}


@pytest.fixture
def drawn(api: Api) -> dict[str, Any]:
    admin, west, rider_id, rider = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    api.command("set-district-boundary", {"district": "温江", "boundary": box(*WENJIANG)}, admin)
    api.command("set-grid-boundary", {"grid_id": west, "boundary": box(*WEST)}, admin)
    east = api.command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区",
                                         "name": "柳城-2", "boundary": box(*EAST)}, admin)["result"]["grid_id"]
    return {"admin": admin, "west": west, "east": east, "rider_id": rider_id, "rider": rider}


def report(api: Api, s: dict[str, Any], where: dict[str, float], status: int = 200, **headers: str) -> dict[str, Any]:
    return api.command("report-clue", {"rider_id": s["rider_id"], "category": "blocked_fire_lane",
                                       "text": "消防通道被堵", "location": where}, s["rider"], status, **headers)


def test_a_clue_lands_in_the_grid_drawn_where_it_was_reported(api: Api, drawn: dict[str, Any]) -> None:
    # The rider is in the west grid; where it stands (the east grid) decides, not its membership.
    clue = report(api, drawn, at(103.87, 30.70))["result"]
    assert clue["grid_id"] == drawn["east"]
    assert api.query(f"/v1/clues/{clue['clue_id']}", drawn["admin"])["grid_id"] == drawn["east"]
    # On the shared edge: one grid only, the same one every time.
    edge = {report(api, drawn, at(103.85, 30.69))["result"]["grid_id"] for _ in range(2)}
    assert len(edge) == 1 and edge <= {drawn["west"], drawn["east"]}
    # Named, a grid with a boundary does not win over the location.
    named = api.command("report-clue", {"rider_id": drawn["rider_id"], "grid_id": drawn["west"],
                                        "category": "other", "text": "井盖缺失", "location": at(103.88, 30.70)},
                        drawn["rider"])["result"]
    assert named["grid_id"] == drawn["east"]
    places = api.query("/v1/districts/温江/places", drawn["admin"])
    assert places["type"] == "FeatureCollection"
    counts = {f["id"]: f["properties"]["open_clues"] for f in places["features"] if f["properties"]["kind"] == "grid"}
    assert counts[drawn["east"]] == 2 + 2 * (edge == {drawn["east"]})  # two reports on the edge
    assert places["features"][0]["geometry"] == box(*WENJIANG)


def test_a_clue_in_no_grid_waits_for_the_admins_who_accept_it_into_a_grid(api: Api, drawn: dict[str, Any]) -> None:
    clue = report(api, drawn, at(103.85, 30.62))["result"]
    assert clue["grid_id"] is None and clue["district"] == "温江"
    queue = api.query("/v1/districts/温江/clue-queue", drawn["admin"])["clues"]
    assert [c["clue_id"] for c in queue] == [clue["clue_id"]]
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[drawn["west"]])
    api.query(f"/v1/clues/{clue['clue_id']}", officer, status=404)  # not the officers' until it has a grid
    refused = api.command("accept-clue", {"clue_id": clue["clue_id"], "kind": "fire-lane",
                                          "rate_code": "fire-lane"}, drawn["admin"], status=422)
    is_problem(refused, "invalid-input", 422)
    task = api.command("accept-clue", {"clue_id": clue["clue_id"], "grid_id": drawn["west"], "kind": "fire-lane",
                                       "rate_code": "fire-lane"}, drawn["admin"])["result"]
    assert task["grid_id"] == drawn["west"]
    assert api.query(f"/v1/clues/{clue['clue_id']}", officer)["grid_id"] == drawn["west"]
    assert api.query("/v1/districts/温江/clue-queue", drawn["admin"])["clues"] == []
    queued = api.query("/v1/districts/温江/places", drawn["admin"])["features"][0]["properties"]["queued"]
    assert queued == 0


def test_outside_every_district_is_refused_in_words(api: Api, drawn: dict[str, Any]) -> None:
    before = api.engine.app.head()
    refused = report(api, drawn, at(104.20, 30.60), status=422, **{"Accept-Language": "zh-CN"})
    is_problem(refused, "location-outside-districts", 422)
    assert refused["title"] == "这个位置不在任何区内"
    assert api.engine.app.head() == before


BOWTIE = polygon((103.81, 30.61), (103.83, 30.63), (103.83, 30.61), (103.81, 30.63), (103.81, 30.61))
OPEN_RING = {"type": "Polygon", "coordinates": [[[103.81, 30.61], [103.83, 30.61], [103.83, 30.63],
                                                 [103.81, 30.63]]]}


@pytest.mark.parametrize("boundary, code, status", [
    (BOWTIE, "invalid-boundary", 422),
    (OPEN_RING, "invalid-boundary", 422),
    (polygon((103.81, 30.61), (103.82, 30.61), (103.81, 30.61), (103.81, 30.61)), "invalid-boundary", 422),
    (box(103.84, 30.70, 103.86, 30.71), "boundary-overlaps", 409),  # across both grids' shared edge
    (box(103.88, 30.60, 103.95, 30.62), "boundary-outside-district", 422),
    (box(103.81, 30.61, 190.0, 30.63), "invalid-boundary", 422),  # a longitude out of range
], ids=["bowtie", "open ring", "no area", "overlap", "outside the district", "out of range"])
def test_a_bad_boundary_is_a_problem_and_nothing_is_stored(api: Api, drawn: dict[str, Any], boundary: dict[str, Any],
                                                           code: str, status: int) -> None:
    before = api.engine.app.head()
    places = api.query("/v1/districts/温江/places", drawn["admin"])
    refused = api.command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区",
                                            "name": "柳城-3", "boundary": boundary}, drawn["admin"], status,
                          **{"Accept-Language": "zh-CN"})
    is_problem(refused, code, status)
    assert api.engine.app.head() == before  # not even the grid's registration
    assert api.query("/v1/districts/温江/places", drawn["admin"]) == places


def test_a_district_boundary_must_hold_its_grids(api: Api, drawn: dict[str, Any]) -> None:
    refused = api.command("set-district-boundary", {"district": "温江", "boundary": box(103.80, 30.60, 103.86, 30.72)},
                          drawn["admin"], 422)
    is_problem(refused, "boundary-outside-district", 422)


def test_a_rider_reports_only_inside_the_districts_of_its_grids(api: Api, drawn: dict[str, Any]) -> None:
    jinjiang = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    api.command("set-district-boundary", {"district": "锦江", "boundary": box(104.05, 30.63, 104.10, 30.68)}, jinjiang)
    before = api.engine.app.head()
    refused = report(api, drawn, at(104.07, 30.65), status=403)  # the rider's grids are all in 温江
    is_problem(refused, "not-in-rider-districts", 403)
    assert api.engine.app.head() == before
