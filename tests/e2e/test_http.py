"""The HTTP API as its users meet it: tokens, scopes, problem+json, idempotency,
and the mission's story told through HTTP alone."""

from __future__ import annotations

import time
import uuid

from pathlib import Path

from fastapi.testclient import TestClient

from api.http.app import app_of
from api.http.auth import mint
from domain.clock import ManualClock
from domain.events import Role
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.http import SECRET, Api, is_problem, second_rider_and_task, story
from tests.fixtures.world import START

# The `api` fixture is tests/fixtures/http.py's, through tests/conftest.py.


def test_no_token_is_a_401_problem(api: Api) -> None:
    response = api.client.post("/v1/commands/register-grid", json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    is_problem(response.json(), "unauthenticated", 401)
    forged = {"Authorization": f"Bearer {mint('another-secret', 'x', Role.DISTRICT_ADMIN, ['温江'])}"}
    assert api.client.get("/v1/stats", headers=forged).status_code == 401


def test_bad_input_is_a_422_problem_and_writes_nothing(api: Api) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-1")
    head = api.feed.head()
    for fen in (1.5, -3, "12"):
        body = api.command("allocate-budget", {"district": "温江", "period": "2026-11", "fen": fen}, admin, 422)
        is_problem(body, "invalid-input", 422)
        assert "fen" in body["detail"]
    assert api.feed.head() == head


def test_the_mission_through_http_alone(api: Api) -> None:
    s = story(api)
    assert s["verified"]["result"]["awarded_fen"] == 800
    balances = api.query(f"/v1/riders/{s['rider_id']}/balances", s["rider"])
    assert balances["total"]["payable"] == 800
    redeem_a_meal_at_the_station(api, s)
    appeal = api.command("file-appeal", {"rider_id": s["rider_id"], "district": "温江", "text": "平台罚款不合理",
                                         "subject": {"kind": "outside", "ref": "platform-penalty-1"}},
                         s["rider"])["result"]["appeal_id"]
    api.command("decide-appeal", {"appeal_id": appeal, "outcome": "upheld", "reason": "已协调平台撤销",
                                  "remedy": {"kind": "award_fen", "fen": 200}}, s["admin"])
    assert api.query(f"/v1/riders/{s['rider_id']}/balances", s["rider"])["total"]["payable"] == 1000
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    chain = api.query(f"/v1/awards/{s['task']}/chain", auditor)
    kinds = [step["kind"] for step in chain["steps"]]
    assert kinds[0] == "ClueReported"
    assert {"ClueAccepted", "TaskPublished", "TaskClaimed", "TaskCompleted", "CompletionVerified",
            "SubsidyAwarded"} <= set(kinds)
    assert {step["actor_role"] for step in chain["steps"]} == {"rider", "grid_officer"}
    assert chain["rate_version"] == 1 and chain["district"] == "温江"
    other = api.token(Role.AUDITOR, "auditor-锦江", ["锦江"])
    is_problem(api.query(f"/v1/awards/{s['task']}/chain", other, 404), "award-not-found", 404)
    is_problem(api.query("/v1/stats", other, 403, district="温江"), "out-of-scope", 403)


def test_scopes_hold(api: Api) -> None:
    s = story(api)
    stranger_admin = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    is_problem(api.command("retire-grid", {"grid_id": s["grid"], "reason": "x"}, stranger_admin, 403),
               "out-of-scope", 403)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    # Read-only by role: the domain refuses the role before it looks at a district.
    is_problem(api.command("allocate-budget", {"district": "温江", "period": "2026-11", "fen": 1}, auditor, 403),
               "not-allowed", 403)
    other_rider = api.token(Role.RIDER, str(uuid.uuid4()), [])
    is_problem(api.query(f"/v1/riders/{s['rider_id']}/balances", other_rider, 403), "out-of-scope", 403)
    task = api.command("publish-task", {"grid_id": s["grid"], "kind": "patrol", "rate_code": "fire-lane"},
                       s["officer"])["result"]["task_id"]
    is_problem(api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, other_rider, 403),
               "not-allowed", 403)


def test_idempotency_key_replays_and_refuses_another_body(api: Api) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-1")
    body = {"district": "温江", "street": "s", "community": "c", "name": "g"}
    first = api.command("register-grid", body, admin, **{"Idempotency-Key": "k-1"})
    head = api.feed.head()
    again = api.command("register-grid", body, admin, **{"Idempotency-Key": "k-1"})
    assert again["result"] == first["result"] and again["replayed"] is True
    assert api.feed.head() == head
    is_problem(api.command("register-grid", {**body, "name": "h"}, admin, 422, **{"Idempotency-Key": "k-1"}),
               "idempotency-key-reused", 422)


def test_two_clients_claim_one_task_one_wins(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    s = story(api)
    second_id, second, task = second_rider_and_task(api, s)
    claims = [({"task_id": task, "rider_id": s["rider_id"]}, s["rider"]), ({"task_id": task, "rider_id": second_id}, second)]
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(lambda c: api.client.post("/v1/commands/claim-task", json=c[0],
                                                               headers=c[1]).status_code, claims))
    assert statuses == [200, 409]


def test_waiting_queries_hold_no_thread_while_they_wait(api: Api) -> None:
    """Waits for a stalled read model must leave the thread pool to other requests."""
    from concurrent.futures import ThreadPoolExecutor

    import anyio.to_thread

    s = story(api)
    position = s["verified"]["position"]  # the feed is not caught up: every wait runs to its end

    def shrink_pool() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2

    api.client.portal.call(shrink_pool)  # type: ignore[union-attr]
    finished: list[str] = []

    def wait(_: int) -> None:
        response = api.client.get(f"/v1/riders/{s['rider_id']}/balances", headers=s["rider"],
                                  params={"position": position, "wait_ms": 1500})
        assert response.status_code == 503
        finished.append("wait")

    with ThreadPoolExecutor(6) as pool:
        waits = list(map(lambda i: pool.submit(wait, i), range(4)))
        time.sleep(0.3)  # the four are waiting now; two threads would be all of them if waits held threads
        stats = api.client.get("/v1/stats", headers=s["admin"])
        finished.append("stats")
        for w in waits:
            w.result()
    assert stats.status_code == 200
    assert finished[0] == "stats", finished


def test_read_your_writes_health_and_metrics(api: Api) -> None:
    s = story(api)
    position = s["verified"]["position"]
    behind = api.client.get(f"/v1/riders/{s['rider_id']}/balances", headers=s["rider"],
                            params={"position": position, "wait_ms": 50})
    assert behind.status_code == 503
    is_problem(behind.json(), "read-model-behind", 503)
    api.feed.catch_up()
    fresh = api.client.get(f"/v1/riders/{s['rider_id']}/balances", headers=s["rider"],
                           params={"position": position, "wait_ms": 50})
    assert fresh.status_code == 200 and fresh.json()["total"]["payable"] == 800
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["projection_lag"]["balances"] == 0
    metrics = api.client.get("/metrics").text
    assert 'gridgov_command_seconds_count{command="VerifyCompletion"} 1.0' in metrics
    assert 'gridgov_projection_lag_events{projection="board"} 0.0' in metrics
    assert 'gridgov_dead_letters{projection="board"} 0.0' in metrics
    assert 'gridgov_http_requests_total{route="/v1/commands/claim-task",status="200"} 1.0' in metrics


def test_readyz_is_not_ready_while_a_read_model_is_more_than_the_allowed_lag_behind(tmp_path: Path) -> None:
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"), "READY_MAX_LAG": "3"}),
        clock=ManualClock(START))
    assert engine.feed is not None
    try:
        with TestClient(app_of(engine, SECRET), raise_server_exceptions=False) as client:
            api = Api(client, engine.feed, engine.app.clock)
            story(api)  # the feed is left behind on purpose: the story is more than 3 events
            ready = client.get("/readyz")
            assert ready.status_code == 503, ready.text
            is_problem(ready.json(), "not-ready", 503)
            assert max(ready.json()["projection_lag"].values()) > 3 and ready.json()["max_lag"] == 3
            assert "READY_MAX_LAG=3" in ready.json()["detail"]
            engine.feed.catch_up()
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
            assert ready.json()["relay_backlog"] is None, "no relay when fed in-process"
    finally:
        engine.close()


def test_district_history_pages_with_stable_cursors(api: Api) -> None:
    s = story(api)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    whole = api.query("/v1/districts/温江/history", auditor, limit=1000)
    assert whole["next"] is None and len(whole["steps"]) > 6
    pages, after = [], None
    while True:
        page = api.query("/v1/districts/温江/history", auditor, limit=3, **({"after": after} if after else {}))
        pages += page["steps"]
        if page["next"] is None:
            break
        after = page["next"]
        # A step stored meanwhile (later in time) does not shift the pages already given.
        api.command("publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"}, s["officer"])
        api.feed.catch_up()
    assert pages[:len(whole["steps"])] == whole["steps"]
    assert len(pages) == len(api.query("/v1/districts/温江/history", auditor, limit=1000)["steps"])
    is_problem(api.query("/v1/districts/温江/history", auditor, 422, after="not-a-cursor"), "invalid-input", 422)
    is_problem(api.query("/v1/districts/锦江/history", auditor, 403), "out-of-scope", 403)


def test_a_refusal_is_worded_in_the_language_asked_for(api: Api) -> None:
    s = story(api)
    for language, title in (("zh-CN,zh;q=0.9,en;q=0.8", "任务不在待核验状态"),
                            ("en-US,en;q=0.9", "Task not awaiting verification")):
        response = api.client.post("/v1/commands/verify-completion", json={"task_id": s["task"]},
                                   headers={**s["officer"], "Accept-Language": language})
        assert response.status_code == 409 and response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["type"] == "urn:gridgov:problem:task-not-awaiting-verification" and body["title"] == title
        assert "Accept-Language" in response.headers["vary"]


def redeem_a_meal_at_the_station(api: Api, s: dict) -> None:
    """The admin registers a station with a canteen and lists a meal; the rider finds the
    station, picks the meal from the catalogue, shows the code; the canteen confirms."""
    place = {"lat": 30.68, "lon": 103.85}
    station = api.command("register-station", {"district": "温江", "description": {
        "name": "柳城骑手驿站", "address": "柳城街道1号", "location": place, "hours": "07:00-22:00",
        "services": ["charging", "canteen"]}}, s["admin"])["result"]["station_id"]
    partner_id = api.command("register-partner", {"district": "温江", "name": "驿站食堂", "kind": "canteen",
                                                  "station_id": station}, s["admin"])["result"]["partner_id"]
    item = api.command("list-item", {"district": "温江", "partner_id": partner_id, "name": "社区食堂工作餐",
                                     "price_points": 8, "stock": 2, "valid_from": "2026-11-01T00:00:00+08:00",
                                     "valid_to": "2027-11-01T00:00:00+08:00"}, s["admin"])["result"]["item_id"]
    assert [(p["partner_id"], p["station_id"]) for p in api.query("/v1/districts/温江/partners", s["admin"])] == \
        [(partner_id, station)]
    assert [n["station_id"] for n in api.query("/v1/districts/温江/stations", s["rider"])] == [station]
    api.command("set-points-policy", {"district": "温江", "expire_after_months": 12}, s["admin"])
    assert api.query("/v1/districts/温江/points-policy", s["rider"])["expire_after_months"] == 12
    near = api.query("/v1/stations", s["rider"], near="30.69,103.85")
    assert [(n["station_id"], n["services"]) for n in near] == [(station, ["charging", "canteen"])]
    assert 1000 < near[0]["distance_m"] < 1200  # 0.01° of latitude
    offered = api.query("/v1/districts/温江/catalogue", s["rider"])
    assert [(i["item_id"], i["price_points"], i["available"], i["partner_name"]) for i in offered] == \
        [(item, 8, 2, "驿站食堂")]
    held = api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": item}, s["rider"])["result"]
    points = api.query(f"/v1/riders/{s['rider_id']}/points", s["rider"])
    assert (points["available"], points["held"], points["spent"]) == (0, 8, 0)
    canteen = api.token(Role.PARTNER, partner_id, ["温江"])
    queue = api.query(f"/v1/partners/{partner_id}/queue", canteen)
    assert [(r["redemption_id"], r["item_name"], r["points"]) for r in queue] == \
        [(held["redemption_id"], "社区食堂工作餐", 8)]
    wrong = "000000" if held["code"] != "000000" else "111111"
    is_problem(api.command("confirm-redemption", {"redemption_id": held["redemption_id"], "code": wrong}, canteen,
                           422), "wrong-redemption-code", 422)
    api.command("confirm-redemption", {"redemption_id": held["redemption_id"], "code": held["code"]}, canteen)
    is_problem(api.command("confirm-redemption", {"redemption_id": held["redemption_id"], "code": held["code"]},
                           canteen, 409), "redemption-not-held", 409)
    points = api.query(f"/v1/riders/{s['rider_id']}/points", s["rider"])
    assert (points["available"], points["held"], points["spent"], points["balance"]) == (0, 0, 8, 0)
    month = api.query("/v1/districts/温江/handed-out", s["admin"], month="2026-11")
    assert [(m["item"], m["confirmed"], m["points_spent"]) for m in month] == [("社区食堂工作餐", 1, 8)]


def test_with_writes_not_coalesced_commands_answer_alike(tmp_path: Path) -> None:
    """GRIDGOV_COALESCE_WRITES=false: no coalescer, each command its own transaction in a thread;
    the same answers, the same idempotent replay."""
    from application.coalescer import Coalescer
    from tests.fixtures.http import api_on

    body = {"district": "温江", "street": "s", "community": "c", "name": "单写网格"}
    answers = {}
    for coalesce in ("true", "false"):
        with api_on(tmp_path / coalesce, {"GRIDGOV_COALESCE_WRITES": coalesce}) as api:
            assert isinstance(api.client.app.state.writer, Coalescer) == (coalesce == "true")
            admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
            first = api.command("register-grid", body, admin, **{"Idempotency-Key": "k1"})
            again = api.command("register-grid", body, admin, **{"Idempotency-Key": "k1"})
            assert again["replayed"] and again["result"] == first["result"] and again["position"] == first["position"]
            refused = api.command("register-grid", {**body, "district": ""}, admin, 422)
            answers[coalesce] = (sorted(first["result"]), first["replayed"], refused["type"])
    assert answers["true"] == answers["false"]
