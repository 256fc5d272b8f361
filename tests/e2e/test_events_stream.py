"""Server-Sent Events at /v1/events/stream: CloudEvents from the log, each
token seeing only its scope, resumable from Last-Event-ID, live when followed."""

from __future__ import annotations

import time
import uuid
from typing import Any, Iterator

import httpx
import orjson
import pytest

from domain.events import Role
from tests.fixtures.http import Api, is_problem, second_rider_and_task, story


def parse(text: str) -> list[dict[str, Any]]:
    """SSE frames -> [{id, event, data}], skipping comments (keep-alive pings)."""
    frames = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            frames.append({"id": int(fields["id"]), "event": fields["event"], "data": orjson.loads(fields["data"])})
    return frames


def read(api: Api, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = api.client.get("/v1/events/stream", params={"follow": "false", **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse(response.text)


def test_frames_are_cloudevents_in_log_order(api: Api) -> None:
    s = story(api)
    frames = read(api, api.token(Role.AUDITOR, "auditor-温江"))
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for frame in frames:
        event = frame["data"]
        assert event["specversion"] == "1.0" and event["type"] == f"gridgov.{frame['event']}"
        assert event["position"] == str(frame["id"])
        assert event["id"] == f"{event['subject']}:{event['streamversion']}"
    kinds = [f["event"] for f in frames]
    assert "CommandRecorded" not in kinds  # internal, as on Kafka
    assert {"GridRegistered", "BudgetAllocated", "ClueReported", "TaskClaimed", "CompletionVerified",
            "SubsidyAwarded", "PointsEarned"} <= set(kinds)
    assert s["task"] in {f["data"]["subject"] for f in frames}


def test_each_token_sees_only_its_scope(api: Api) -> None:
    s = story(api)
    kinds = lambda headers: {f["event"] for f in read(api, headers)}  # noqa: E731
    assert kinds(api.token(Role.AUDITOR, "auditor-锦江", ["锦江"])) == set()
    assert kinds(api.token(Role.SERVICE, "svc", ["锦江"])) == set()
    rider = kinds(s["rider"])
    assert {"RiderRegistered", "RiderJoinedGrid", "ClueReported", "TaskClaimed", "SubsidyAwarded",
            "PointsEarned"} <= rider
    assert not rider & {"GridRegistered", "BudgetAllocated", "RateScheduleIssued", "OfficerAssigned"}
    assert kinds(api.token(Role.RIDER, str(uuid.uuid4()), [])) == set()
    officer = kinds(s["officer"])
    assert {"GridRegistered", "ClueReported", "TaskPublished", "CompletionVerified"} <= officer
    assert not officer & {"BudgetAllocated", "SubsidyAwarded"}  # district money is not a grid's
    assert kinds(api.token(Role.GRID_OFFICER, "officer-1", grids=[str(uuid.uuid4())])) == set()


def test_a_stream_keeps_the_scope_it_had_at_each_event(api: Api) -> None:
    s = story(api)
    before = {f["id"] for f in read(api, api.token(Role.AUDITOR, "a", ["锦江"]))}
    admin = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    grid = api.command("register-grid", {"district": "锦江", "street": "s", "community": "c", "name": "锦江-1"},
                       admin)["result"]["grid_id"]
    api.command("join-grid", {"rider_id": s["rider_id"], "grid_id": grid}, s["rider"])
    after = read(api, api.token(Role.AUDITOR, "a", ["锦江"]))
    assert before == set()
    # The rider's joining is 锦江's news; the rider's 温江 history before it is not.
    assert [f["event"] for f in after] == ["GridRegistered", "RiderJoinedGrid"]


def test_resume_from_last_event_id_gives_each_event_once(api: Api) -> None:
    story(api)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    everything = read(api, auditor)
    first = read(api, auditor, limit=5)
    assert first == everything[:5]
    rest = read(api, {**auditor, "Last-Event-ID": str(first[-1]["id"])})
    assert first + rest == everything
    assert read(api, auditor, after=everything[-1]["id"]) == []
    # Resumed just after a task was published: its later steps (which name no
    # district) still arrive, the task's scope learnt from the events before.
    published = next(i for i, f in enumerate(everything) if f["event"] == "TaskPublished")
    resumed = read(api, {**auditor, "Last-Event-ID": str(everything[published]["id"])})
    assert resumed == everything[published + 1:]
    assert "TaskClaimed" in {f["event"] for f in resumed}


def test_types_filter(api: Api) -> None:
    story(api)
    frames = read(api, api.token(Role.SERVICE, "svc"), types="SubsidyAwarded,PointsEarned")
    assert [f["event"] for f in frames] == ["SubsidyAwarded", "PointsEarned"]


@pytest.mark.parametrize("params,headers,code", [
    ({"types": "NoSuchEvent"}, {}, "invalid-input"),
    ({"types": "CommandRecorded"}, {}, "invalid-input"),
    ({}, {"Last-Event-ID": "abc"}, "invalid-input"),
    ({}, {"Last-Event-ID": "²".encode("latin-1")}, "invalid-input"),  # int("²") would raise
    ({"after": 10**9}, {}, "invalid-input"),
    ({"after": -1}, {}, "invalid-request"),
])
def test_bad_requests_get_a_problem_before_the_stream_starts(api: Api, params: dict[str, Any],
                                                             headers: dict[str, Any], code: str) -> None:
    response = api.client.get("/v1/events/stream", params=params,
                              headers={**api.token(Role.SERVICE, "svc"), **headers})
    assert response.status_code == 422
    is_problem(response.json(), code, 422)


def test_no_token_no_stream(api: Api) -> None:
    response = api.client.get("/v1/events/stream")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


# --- live, through a real server ---------------------------------------------------


def frames_from(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    block: list[str] = []
    for line in lines:
        if line:
            block.append(line)
        elif block:
            yield from parse("\n".join(block))
            block = []


def test_a_follower_gets_new_events_as_they_are_stored_and_resumes_after_a_drop(server: tuple[str, Api]) -> None:
    base, api = server
    s = story(api)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    with httpx.Client(base_url=base, timeout=10) as client:
        with client.stream("GET", "/v1/events/stream", headers=auditor) as response:
            frames = frames_from(response.iter_lines())
            seen = [next(frames) for _ in range(5)]
            # ... the client drops here, mid-history ...
        with client.stream("GET", "/v1/events/stream",
                           headers={**auditor, "Last-Event-ID": str(seen[-1]["id"])}) as response:
            frames = frames_from(response.iter_lines())
            history = api.client.get("/v1/events/stream", params={"follow": "false"}, headers=auditor)
            expected = parse(history.text)
            for _ in range(len(expected) - 5):
                seen.append(next(frames))
            assert seen == expected
            started = time.monotonic()
            api.command("publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"}, s["officer"])
            live = next(frames)
            assert live["event"] == "TaskPublished" and live["id"] > seen[-1]["id"]
            assert time.monotonic() - started < 5


def test_a_forgetful_scope_cache_gives_the_same_stream(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    story(api)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    remembered = read(api, auditor)
    from api.http import subscription

    original = subscription.Scopes.__init__
    monkeypatch.setattr(subscription.Scopes, "__init__", lambda self, app: original(self, app, keep=1))
    assert read(api, auditor) == remembered


def test_a_rider_sees_its_own_steps_on_a_shared_task_not_the_next_claimants(api: Api) -> None:
    s = story(api)
    other_id, other, task = second_rider_and_task(api, s)
    api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("release-claim", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("claim-task", {"task_id": task, "rider_id": other_id}, other)
    api.command("complete-task", {"task_id": task, "rider_id": other_id}, other)
    on_task = [f for f in read(api, s["rider"]) if f["data"]["subject"] == task]
    # Its own steps whole; of the board of its grid, the publishing and the other's claim (not whose).
    assert [f["event"] for f in on_task] == ["TaskPublished", "TaskClaimed", "ClaimReleased", "TaskClaimed"]
    assert [f["data"]["data"].get("rider_id") for f in on_task[1:]] == [s["rider_id"], s["rider_id"], None]
    assert other_id not in str([f["data"] for f in read(api, s["rider"])])
    theirs = [f for f in read(api, other) if f["data"]["subject"] == task]
    assert [f["event"] for f in theirs] == ["TaskPublished", "TaskClaimed", "ClaimReleased", "TaskClaimed",
                                            "TaskCompleted"]
    assert s["rider_id"] not in str([f["data"] for f in theirs])


def test_an_event_that_names_its_district_belongs_there_alone(api: Api) -> None:
    s = story(api)  # the rider earned in 温江 this month
    admin = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    grid = api.command("register-grid", {"district": "锦江", "street": "s", "community": "c", "name": "锦江-1"},
                       admin)["result"]["grid_id"]
    api.command("assign-officer", {"grid_id": grid, "officer_id": "officer-2"}, admin)
    api.command("issue-rate-schedule", {"district": "锦江", "effective_from": "2026-11-01T00:00:00+08:00",
                                        "rates": {"fire-lane": {"fen": 500, "points": 5}},
                                        "cap_day_fen": 5000, "cap_month_fen": 50000}, admin)
    api.command("allocate-budget", {"district": "锦江", "period": "2026-11", "fen": 100000}, admin)
    officer = api.token(Role.GRID_OFFICER, "officer-2", ["锦江"], grids=[grid])
    api.command("join-grid", {"rider_id": s["rider_id"], "grid_id": grid}, s["rider"])
    task = api.command("publish-task", {"grid_id": grid, "kind": "k", "rate_code": "fire-lane"},
                       officer)["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("verify-completion", {"task_id": task}, officer)
    # A reversal names only its piece: it is 锦江's, though the month's account began in 温江.
    api.command("reverse-award", {"rider_id": s["rider_id"], "period": "2026-11", "piece_id": task,
                                  "reason": "photo unclear"}, admin)
    wenjiang = read(api, api.token(Role.AUDITOR, "auditor-温江"))
    assert "锦江" not in str([f["data"]["data"] for f in wenjiang])
    assert task not in {f["data"]["subject"] for f in wenjiang}
    assert task not in str([f["data"]["data"] for f in wenjiang])
    jinjiang = read(api, api.token(Role.AUDITOR, "auditor-锦江", ["锦江"]))
    assert {"RiderJoinedGrid", "SubsidyAwarded", "PointsEarned", "SubsidyReversed"} <= {f["event"] for f in jinjiang}
    assert not [f for f in jinjiang if f["data"]["data"].get("district") == "温江"]
    # The 温江 officer sees nothing of the 锦江 grid, though the rider is in both.
    assert grid not in str([f["data"]["data"] for f in read(api, s["officer"])])


def test_a_two_district_token_may_follow_one_district_alone(api: Api) -> None:
    story(api)
    admin = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    api.command("register-grid", {"district": "锦江", "street": "s", "community": "c", "name": "锦江-1"}, admin)
    both = api.token(Role.AUDITOR, "auditor-both", ["温江", "锦江"])
    whole = read(api, both)
    wenjiang, jinjiang = read(api, both, district="温江"), read(api, both, district="锦江")
    assert {f["id"] for f in wenjiang} == {f["id"] for f in read(api, api.token(Role.AUDITOR, "a", ["温江"]))}
    assert [f["event"] for f in jinjiang] == ["GridRegistered"]
    assert sorted(f["id"] for f in wenjiang + jinjiang) == [f["id"] for f in whole]
    response = api.client.get("/v1/events/stream", params={"follow": "false", "district": "郫都"}, headers=both)
    is_problem(response.json(), "out-of-scope", 403)


def test_a_riders_stream_carries_its_grids_board_and_not_another_grids(api: Api) -> None:
    """The rider's page learns of a task published in its grid without a tap: the board
    changes of the rider's grids are on its stream; another grid's are not; another
    rider's claim arrives without naming that rider."""
    s = story(api)
    head = api.client.get("/readyz").json()["head"]
    other_grid = api.command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区",
                                               "name": "柳城-2"}, s["admin"])["result"]["grid_id"]
    api.command("assign-officer", {"grid_id": other_grid, "officer_id": "officer-1"}, s["admin"])
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[s["grid"], other_grid])
    mine = api.command("publish-task", {"grid_id": s["grid"], "kind": "patrol", "rate_code": "fire-lane"},
                       officer)["result"]["task_id"]
    elsewhere = api.command("publish-task", {"grid_id": other_grid, "kind": "patrol", "rate_code": "fire-lane"},
                            officer)["result"]["task_id"]
    other_id, other, _ = second_rider_and_task(api, s)
    api.command("claim-task", {"task_id": mine, "rider_id": other_id}, other)
    frames = read(api, s["rider"], after=head)
    on = lambda task: [f["event"] for f in frames if f["data"]["subject"] == task]  # noqa: E731
    assert on(mine) == ["TaskPublished", "TaskClaimed"]
    assert on(elsewhere) == []
    assert other_grid not in str([f["data"] for f in frames])
    assert other_id not in str([f["data"] for f in frames])
    # A rider who left the grid hears no more of it.
    api.command("leave-grid", {"rider_id": s["rider_id"], "grid_id": s["grid"]}, s["rider"])
    after_leaving = api.client.get("/readyz").json()["head"]
    later = api.command("publish-task", {"grid_id": s["grid"], "kind": "patrol", "rate_code": "fire-lane"},
                        officer)["result"]["task_id"]
    assert later not in str(read(api, s["rider"], after=after_leaving))
