"""The reads the pages draw from: a district's grids, the clue map, a rider's open
tasks nearest first (a task's place is its clue's), and subsidy per day against budget."""

from __future__ import annotations

from domain.events import Role
from tests.fixtures.http import Api, is_problem, story


def test_grids_are_the_districts_and_an_officer_sees_its_own(api: Api) -> None:
    s = story(api)
    other = api.command("register-grid", {"district": "温江", "street": "涌泉街道", "community": "东岳社区",
                                          "name": "涌泉-1"}, s["admin"])["result"]["grid_id"]
    assert {g["grid_id"] for g in api.query("/v1/districts/温江/grids", s["admin"])} == {s["grid"], other}
    assert [g["grid_id"] for g in api.query("/v1/districts/温江/grids", s["officer"])] == [s["grid"]]
    assert len(api.query("/v1/districts/温江/grids", s["rider"])) == 2  # public to riders, as the board is
    outsider = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    is_problem(api.query("/v1/districts/温江/grids", outsider, status=403), "out-of-scope", 403)


def test_the_clue_map_has_each_clue_where_it_was_reported(api: Api) -> None:
    s = story(api)
    points = api.query("/v1/districts/温江/clue-map", s["admin"])["points"]
    assert [(p["category"], p["lat"], p["lon"], p["status"]) for p in points] == \
        [("blocked_fire_lane", 30.68, 103.85, "closed")]  # its task was verified
    assert api.query("/v1/districts/温江/clue-map", s["officer"])["points"] == points
    elsewhere = api.token(Role.GRID_OFFICER, "officer-2", grids=["another-grid"])
    assert api.query("/v1/districts/温江/clue-map", elsewhere)["points"] == []


def test_open_tasks_come_nearest_first_with_their_clues_place(api: Api) -> None:
    s = story(api)
    near, far = ({"lat": 30.681, "lon": 103.851}, {"lat": 30.75, "lon": 103.95})
    tasks = []
    for place in (far, near):
        clue = api.command("report-clue", {"rider_id": s["rider_id"], "grid_id": s["grid"], "category": "fire_hazard",
                                           "text": "电动车楼道充电", "location": place}, s["rider"])["result"]["clue_id"]
        tasks.append(api.command("accept-clue", {"clue_id": clue, "kind": "fire", "rate_code": "fire-lane"},
                                 s["officer"])["result"]["task_id"])
    plain = api.command("publish-task", {"grid_id": s["grid"], "kind": "patrol", "rate_code": "fire-lane"},
                        s["officer"])["result"]["task_id"]
    found = api.query(f"/v1/riders/{s['rider_id']}/open-tasks", s["rider"], near="30.68,103.85")["tasks"]
    assert [t["task_id"] for t in found] == [tasks[1], tasks[0], plain]
    assert found[0]["location"] == near and 0 < found[0]["distance_m"] < found[1]["distance_m"]
    assert found[2]["location"] is None and found[2]["distance_m"] is None
    is_problem(api.query(f"/v1/riders/{s['rider_id']}/open-tasks", s["admin"], status=403), "out-of-scope", 403)
    is_problem(api.query(f"/v1/riders/{s['rider_id']}/open-tasks", s["rider"], status=422, near="91,0"),
               "invalid-input", 422)


def test_subsidy_per_day_sits_beside_the_months_budget(api: Api) -> None:
    s = story(api)
    month = api.query("/v1/districts/温江/subsidy-per-day", s["admin"], period="2026-11")
    assert month["budget"]["allocated"] == 100000
    assert [(d["awarded_fen"], d["reversed_fen"]) for d in month["days"]] == [(800, 0)]
    assert len(month["days"][0]["day"]) == 10
    empty = api.query("/v1/districts/温江/subsidy-per-day", s["admin"], period="2026-01")
    assert empty["days"] == [] and empty["budget"]["allocated"] == 0
    is_problem(api.query("/v1/districts/温江/subsidy-per-day", s["officer"], status=403), "out-of-scope", 403)


def test_subsidy_per_day_shows_the_last_budgeted_month_by_default(api: Api) -> None:
    s = story(api)
    assert api.query("/v1/districts/温江/subsidy-per-day", s["admin"])["period"] == "2026-11"
    api.command("allocate-budget", {"district": "温江", "period": "2027-01", "fen": 5}, s["admin"])
    assert api.query("/v1/districts/温江/subsidy-per-day", s["admin"])["period"] == "2027-01"
