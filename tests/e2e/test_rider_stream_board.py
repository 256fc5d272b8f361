"""A rider's event stream carries the board of the grids it is in as each event passes:
for any sequence of joining and leaving two grids while tasks are published in either,
the tasks the rider hears of are exactly those published in a grid it was in at the time
(hypothesis, through HTTP)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.events import Role
from tests.fixtures.http import Api, district

steps = st.lists(st.tuples(st.sampled_from(["join", "leave", "publish"]), st.sampled_from([0, 1])), max_size=8)


def published_heard(api: Api, rider: dict[str, str], after: int) -> list[str]:
    response = api.client.get("/v1/events/stream", params={"follow": "false", "after": after}, headers=rider)
    assert response.status_code == 200, response.text
    heard = []
    for block in response.text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields.get("event") == "TaskPublished":
            heard.append(orjson.loads(fields["data"])["subject"])
    return heard


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_a_rider_hears_of_the_tasks_published_in_the_grids_it_is_in_then(api: Api, plan: list[tuple[str, int]]) -> None:
    if not hasattr(api, "grids"):  # one district for every example: each example is a new rider in it
        admin, first, _, _ = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
        second = api.command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区",
                                               "name": "柳城-2"}, admin)["result"]["grid_id"]
        api.command("assign-officer", {"grid_id": second, "officer_id": "officer-1"}, admin)
        api.grids = [first, second]  # type: ignore[attr-defined]
        api.officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[first, second])  # type: ignore[attr-defined]
    grids: list[str] = api.grids  # type: ignore[attr-defined]
    rider_id = str(uuid.uuid4())
    rider = api.token(Role.RIDER, rider_id, [])
    api.command("register-rider", {"rider_id": rider_id, "platform": "meituan", "station": "温江站", "name": "李四",
                                   "phone": "13900000000"}, rider)
    after = api.client.get("/readyz").json()["head"]
    member: set[int] = set()
    expected: list[str] = []
    for step, n in plan:
        body: dict[str, Any] = {"rider_id": rider_id, "grid_id": grids[n]}
        if step == "join" and n not in member:
            api.command("join-grid", body, rider)
            member.add(n)
        elif step == "leave" and n in member:
            api.command("leave-grid", body, rider)
            member.discard(n)
        elif step == "publish":
            task = api.command("publish-task", {"grid_id": grids[n], "kind": "patrol", "rate_code": "fire-lane"},
                               api.officer)["result"]["task_id"]  # type: ignore[attr-defined]
            if n in member:
                expected.append(task)
    assert published_heard(api, rider, after) == expected
