"""A district's history narrowed by kind, rider, grid and days (China time) is
exactly the whole history filtered by hand, for any combination of filters."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from domain.events import Role
from projections.facts import china_day
from tests.fixtures.http import Api, is_problem, story


def scene(api: Api) -> dict[str, Any]:
    """Two grids, two riders, clues and tasks in each over four days."""
    s = story(api)
    second_grid = api.command("register-grid", {"district": "温江", "street": "涌泉街道", "community": "东岳社区",
                                                "name": "涌泉-1"}, s["admin"])["result"]["grid_id"]
    api.command("assign-officer", {"grid_id": second_grid, "officer_id": "officer-1"}, s["admin"])
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[s["grid"], second_grid])
    other_id = str(uuid.uuid4())
    other = api.token(Role.RIDER, other_id, [])
    api.command("register-rider", {"rider_id": other_id, "platform": "eleme", "station": "温江站", "name": "李四",
                                   "phone": "13900000000"}, other)
    api.command("join-grid", {"rider_id": other_id, "grid_id": second_grid}, other)
    first = {c["clue_id"] for c in api.query(f"/v1/riders/{s['rider_id']}/clues", s["rider"])["clues"]}
    s["grids"] = {s["grid"]: {s["task"], *first}, second_grid: set()}  # the story's task and clue
    for day in range(4):
        api.clock.advance(86400 - 7200 * day)
        for rider_id, headers, grid in ((s["rider_id"], s["rider"], s["grid"]), (other_id, other, second_grid)):
            clue = api.command("report-clue", {"rider_id": rider_id, "grid_id": grid, "category": "fire_hazard",
                                               "text": "楼道堆物", "location": {"lat": 30.6, "lon": 103.8}},
                               headers)["result"]["clue_id"]
            s["grids"][grid].add(clue)
            if day % 2 == 0:
                task = api.command("accept-clue", {"clue_id": clue, "kind": "fire", "rate_code": "fire-lane"},
                                   officer)["result"]["task_id"]
                s["grids"][grid].add(task)
                api.command("claim-task", {"task_id": task, "rider_id": rider_id}, headers)
                api.command("complete-task", {"task_id": task, "rider_id": rider_id}, headers)
                api.command("verify-completion", {"task_id": task}, officer)
            else:
                api.command("reject-clue", {"clue_id": clue, "reason": "不属实"}, officer)
    s["riders"] = [s["rider_id"], other_id]
    return s


def everything(api: Api, auditor: dict[str, str]) -> list[dict[str, Any]]:
    return api.query("/v1/districts/温江/history", auditor, limit=1000)["steps"]


def test_any_filter_gives_exactly_the_matching_steps(api: Api) -> None:
    s = scene(api)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    steps = everything(api, auditor)
    days = sorted({china_day(step["at"]) for step in steps})
    kinds = sorted({step["kind"] for step in steps})
    assert len(days) >= 4 and len(steps) > 40

    def named(step: dict[str, Any], rider: str) -> bool:
        return rider in (step["actor_id"], step["detail"].get("rider_id"), step["detail"].get("reporter_id"))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(kinds), max_size=3, unique=True), st.sampled_from([None, *s["riders"]]),
           st.sampled_from([None, *s["grids"]]), st.sampled_from([None, *days]), st.sampled_from([None, *days]),
           st.sampled_from([7, 1000]))
    def check(only_kinds: list[str], rider: str | None, grid: str | None, since: str | None, until: str | None,
              limit: int) -> None:
        if since and until and until < since:
            since, until = until, since
        params = {k: v for k, v in (("kind", only_kinds), ("rider", rider), ("grid", grid), ("from", since),
                                    ("to", until)) if v}
        expected = [step for step in steps
                    if (not only_kinds or step["kind"] in only_kinds) and (rider is None or named(step, rider))
                    and (grid is None or step["subject_id"] in s["grids"][grid])
                    and (since is None or china_day(step["at"]) >= since)
                    and (until is None or china_day(step["at"]) <= until)]
        got, after = [], None
        while True:  # every page, by the cursor
            page = api.query("/v1/districts/温江/history", auditor, limit=limit, **params,
                             **({"after": after} if after else {}))
            got += page["steps"]
            after = page["next"]
            if after is None:
                break
        assert [(g["stream_id"], g["version"]) for g in got] == [(e["stream_id"], e["version"]) for e in expected], params

    check()


def test_bad_filters_are_clear_refusals(api: Api) -> None:
    story(api)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    today = date(2026, 11, 2)
    for params in ({"kind": "NoSuchEvent"}, {"rider": "not-a-uuid"}, {"from": "2026-13-01"},
                   {"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()}):
        body = api.query("/v1/districts/温江/history", auditor, status=422, **params)
        assert body["status"] == 422 and body["detail"]
    is_problem(api.query("/v1/districts/温江/history", auditor, status=422, kind="NoSuchEvent"), "invalid-request", 422)
