"""The reads the users work from, through HTTP: a clue and the triage queue, the
appeals queue, rate schedules, a rider's profile and its own lists, each with
read-your-writes (`?position=`) and each scoped."""

from __future__ import annotations

from typing import Any

from domain.events import Role
from tests.fixtures.http import Api, district, is_problem

SPOT = {"lat": 30.6826, "lon": 103.8560}
# A 1×1 PNG: evidence is a photo the rider uploaded.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478da63f8cf"
                    "c000000301010018dd8db00000000049454e44ae426082")


def scene(api: Api) -> dict[str, Any]:
    admin, grid, rider_id, rider = district(api, "patrol", 500, 100_000, "王五", "13800000002")
    return {"admin": admin, "grid": grid, "rider_id": rider_id, "rider": rider,
            "officer": api.token(Role.GRID_OFFICER, "officer-1", grids=[grid]),
            "auditor": api.token(Role.AUDITOR, "auditor-温江"),
            "stranger": api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])}


def read(api: Api, path: str, headers: dict[str, str], position: int, expect: int = 200, **params: Any) -> Any:
    """A read with `?position=` (the fixture has no follower: the test catches the read models up)."""
    api.feed.catch_up()
    response = api.client.get(path, headers=headers, params={"position": position, **params})
    assert response.status_code == expect, response.text
    return response.json()


def test_a_clue_its_duplicates_and_the_triage_queue(api: Api) -> None:
    s = scene(api)
    photo = api.client.post("/v1/photos", files={"photo": ("p.png", PNG, "image/png")}, headers=s["rider"])
    sha256 = photo.json()["sha256"]
    report = {"rider_id": s["rider_id"], "grid_id": s["grid"], "category": "fire_hazard", "text": "楼道充电",
              "location": SPOT, "evidence_hashes": [sha256]}
    first = api.command("report-clue", report, s["rider"])
    second = api.command("report-clue", report, s["rider"])
    original, duplicate = first["result"]["clue_id"], second["result"]["clue_id"]
    assert second["result"]["duplicate_candidates"] == [original]
    queue = read(api, f"/v1/grids/{s['grid']}/clues", s["officer"], second["position"])
    assert [c["clue_id"] for c in queue["clues"]] == sorted([original, duplicate])
    marked = api.command("mark-duplicate", {"clue_id": duplicate, "of_clue_id": original}, s["officer"])
    seen = read(api, f"/v1/clues/{duplicate}", s["officer"], marked["position"])
    assert (seen["status"], seen["duplicate_of"], seen["candidates"]) == ("duplicate", original, [original])
    assert seen["location"] == SPOT and seen["evidence_hashes"] == [sha256]
    assert read(api, f"/v1/clues/{original}", s["rider"], marked["position"])["duplicates"] == [duplicate]
    accepted = api.command("accept-clue", {"clue_id": original, "kind": "fire-check", "rate_code": "patrol"},
                           s["officer"])
    assert read(api, f"/v1/grids/{s['grid']}/clues", s["officer"], accepted["position"])["clues"] == []
    done = read(api, f"/v1/grids/{s['grid']}/clues", s["auditor"], accepted["position"], status="accepted")
    assert [(c["clue_id"], c["task_id"]) for c in done["clues"]] == [(original, accepted["result"]["task_id"])]
    mine = read(api, f"/v1/riders/{s['rider_id']}/clues", s["rider"], accepted["position"])
    assert {c["status"] for c in mine["clues"]} == {"accepted", "duplicate"}
    is_problem(read(api, f"/v1/clues/{original}", s["stranger"], accepted["position"], 404), "clue-not-found", 404)
    assert read(api, f"/v1/riders/{s['rider_id']}/clues", s["stranger"], accepted["position"])["clues"] == []


def test_the_appeals_queue_by_status(api: Api) -> None:
    s = scene(api)
    filed = api.command("file-appeal", {"rider_id": s["rider_id"], "district": "温江", "text": "平台罚款不合理",
                                        "subject": {"kind": "outside", "ref": "platform-penalty-7"}}, s["rider"])
    appeal_id = filed["result"]["appeal_id"]
    queue = read(api, "/v1/districts/温江/appeals", s["admin"], filed["position"], status="filed")
    assert [a["appeal_id"] for a in queue["appeals"]] == [appeal_id]
    api.command("assign-appeal", {"appeal_id": appeal_id, "assignee_id": "committee-1"}, s["admin"])
    noted = api.command("note-appeal", {"appeal_id": appeal_id, "text": "已联系平台"}, s["admin"])
    one = read(api, f"/v1/appeals/{appeal_id}", s["rider"], noted["position"])
    assert (one["status"], one["assignee"], one["notes"]) == ("assigned", "committee-1", 1)
    decided = api.command("decide-appeal", {"appeal_id": appeal_id, "outcome": "upheld", "reason": "罚款已撤销",
                                            "remedy": {"kind": "award_fen", "fen": 300}}, s["admin"])
    assert read(api, "/v1/districts/温江/appeals", s["auditor"], decided["position"], status="filed")["appeals"] == []
    mine = read(api, f"/v1/riders/{s['rider_id']}/appeals", s["rider"], decided["position"])["appeals"]
    assert [(a["outcome"], a["remedy"]) for a in mine] == [("upheld", {"kind": "award_fen", "fen": 300})]
    assert read(api, f"/v1/appeals/{appeal_id}", s["officer"], decided["position"], 403)["status"] == 403
    assert read(api, f"/v1/appeals/{appeal_id}", s["stranger"], decided["position"], 404)["status"] == 404


def test_rate_schedules_keep_every_version(api: Api) -> None:
    s = scene(api)
    issued = api.command("issue-rate-schedule", {"district": "温江", "effective_from": "2026-12-01T00:00:00+08:00",
                                                 "rates": {"patrol": {"fen": 600, "points": 6, "name_zh": "网格巡查",
                                                                      "name_en": "Grid patrol"},
                                                           "robbery": {"fen": 900}},
                                                 "cap_day_fen": 6000, "cap_month_fen": 60000}, s["admin"])
    versions = read(api, "/v1/districts/温江/rate-schedules", s["auditor"], issued["position"])
    assert [(v["version"], v["rates"]["patrol"]["fen"], v["effective_from"][:10]) for v in versions] == [
        (2, 600, "2026-11-30"), (1, 500, "2026-10-31")]
    assert {code: (r["name_zh"], r["name_en"]) for code, r in versions[0]["rates"].items()} == {
        "patrol": ("网格巡查", "Grid patrol"), "robbery": ("抢劫", "Robbery")}
    assert (versions[1]["rates"]["patrol"]["name_zh"], versions[1]["rates"]["patrol"]["name_en"]) == (None, None)
    assert read(api, "/v1/districts/温江/rate-schedules", s["stranger"], issued["position"], 403)["status"] == 403


def test_a_riders_profile_is_unsealed_for_those_who_work_with_it_and_gone_after_erasure(api: Api) -> None:
    s = scene(api)
    path = f"/v1/riders/{s['rider_id']}"
    for who in ("rider", "officer", "admin"):
        profile = read(api, path, s[who], 0)
        assert profile["personal"] == {"name": "王五", "phone": "13800000002"}, who
        assert profile["districts"] == ["温江"] and profile["grids"] == [s["grid"]]
    assert read(api, path, s["auditor"], 0)["personal"] is None
    assert read(api, path, s["stranger"], 0, 404)["status"] == 404
    erased = api.command("erase-personal-data", {"rider_id": s["rider_id"], "reason": "left"}, s["rider"])
    gone = read(api, path, s["admin"], erased["position"])
    assert gone["erased"] is True and gone["personal"] is None


def test_a_riders_tasks(api: Api) -> None:
    s = scene(api)
    task = api.command("publish-task", {"grid_id": s["grid"], "kind": "patrol", "rate_code": "patrol"},
                       s["officer"])["result"]["task_id"]
    claimed = api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    tasks = read(api, f"/v1/riders/{s['rider_id']}/tasks", s["rider"], claimed["position"])["tasks"]
    assert [(t["task_id"], t["status"]) for t in tasks] == [(task, "claimed")]
    api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    verified = api.command("verify-completion", {"task_id": task}, s["officer"])
    tasks = read(api, f"/v1/riders/{s['rider_id']}/tasks", s["officer"], verified["position"])["tasks"]
    assert [(t["task_id"], t["status"]) for t in tasks] == [(task, "verified")]
    assert read(api, f"/v1/riders/{s['rider_id']}/tasks", s["stranger"], verified["position"])["tasks"] == []


def test_every_query_route_offers_read_your_writes(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    lacking = [path for path, methods in paths.items() if path.startswith("/v1/") and "get" in methods
               and path != "/v1/events/stream"  # the stream reads the event store: never behind
               # the transparency log is in the event store's database; an event the
               # sequencer has not reached yet is a 409 not-yet-in-tree, not a wait
               and not path.startswith("/v1/audit/")
               and not {"position", "wait_ms"} <= {p["name"] for p in methods["get"].get("parameters", [])}]
    assert lacking == []
