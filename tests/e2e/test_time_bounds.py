"""Issue 24, findings 3 and 4: the edges of time and digits that are not ASCII.
Each URL and command below answered 500, or was accepted, before domain/time_bounds.py;
now each is a 422 problem naming the field and the window (2000-01-01 … 2100-12-31)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.events import Role
from tests.fixtures.http import Api, is_problem

BAD_HISTORY = [{"from": "0001-01-01"}, {"to": "9999-12-31"}]
BAD_EXPORT = ["0000-01", "0001-01", "9999-12"]
BAD_AT = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]


def refused_naming(response: Any, *names: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] in ("urn:gridgov:problem:invalid-request", "urn:gridgov:problem:invalid-input"), body
    for name in names:
        assert name in body["detail"], body
    assert "2100" in body["detail"], f"the problem states the bounds: {body['detail']}"


# 3 --------------------------------------------------------------------------------
@pytest.mark.parametrize("params", BAD_HISTORY, ids=lambda p: next(iter(p.items()))[1])
def test_a_history_from_or_to_at_the_edge_of_time_is_a_422(api: Api, params: dict[str, str]) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    response = api.client.get("/v1/districts/温江/history", params=params, headers=admin)
    refused_naming(response, next(iter(params)))


@pytest.mark.parametrize("month", BAD_EXPORT)
def test_an_audit_export_of_a_month_at_the_edge_of_time_is_a_422(audited, month: str) -> None:
    api, _ = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    response = api.client.get("/v1/districts/温江/audit-export", params={"from": month}, headers=auditor)
    refused_naming(response, "from")


@pytest.mark.parametrize("at", BAD_AT)
def test_a_balance_at_an_instant_at_the_edge_of_time_is_a_422(api: Api, at: str) -> None:
    rider_id = str(uuid.uuid4())
    rider = api.token(Role.RIDER, rider_id, [])
    response = api.client.get(f"/v1/riders/{rider_id}/balance-at", params={"at": at}, headers=rider)
    refused_naming(response, "at")


def _item(api: Api, admin: dict[str, str], **dates: str) -> Any:
    partner = api.command("register-partner", {"district": "温江", "name": "社区食堂", "kind": "canteen"},
                          admin)["result"]["partner_id"]
    body = {"district": "温江", "partner_id": partner, "name": "午餐", "price_points": 5, "stock": 3,
            "valid_from": "2026-11-01T00:00:00+08:00", "valid_to": "2026-12-01T00:00:00+08:00", **dates}
    return api.client.post("/v1/commands/list-item", json=body, headers=admin)


def test_commands_refuse_months_days_and_instants_outside_the_window(api: Api) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    head = api.feed.head()
    refused_naming(api.client.post("/v1/commands/allocate-budget", headers=admin,
                                   json={"district": "温江", "period": "0000-01", "fen": 100}), "period")
    refused_naming(api.client.post("/v1/commands/expire-old-points", headers=admin, json={
        "rider_id": str(uuid.uuid4()), "district": "温江", "month": "0000-01"}), "month")
    grid = api.command("register-grid", {"district": "温江", "street": "街道", "community": "社区", "name": "一"},
                       admin)["result"]["grid_id"]
    for due in ("0001-01-01T00:00:00+08:00", "9999-12-31T00:00:00+08:00"):
        refused_naming(api.client.post("/v1/commands/publish-task", headers=admin, json={
            "grid_id": grid, "kind": "patrol", "rate_code": "patrol", "due": due}), "due")
    refused_naming(_item(api, admin, valid_to="9999-12-31T00:00:00+08:00"), "valid_to")
    refused_naming(_item(api, admin, valid_from="0001-01-01T00:00:00+00:00"), "valid_from")
    # Written: the grid and the two partners; nothing of the refused commands.
    assert api.feed.head() == head + 3


# 4 --------------------------------------------------------------------------------
FULL_WIDTH = "２０２６-12"


def test_a_month_in_full_width_digits_is_not_a_second_month(api: Api) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    api.command("allocate-budget", {"district": "温江", "period": "2026-12", "fen": 100}, admin)
    response = api.client.post("/v1/commands/allocate-budget", headers=admin,
                               json={"district": "温江", "period": FULL_WIDTH, "fen": 100})
    refused_naming(response, "period")
    assert [b["period"] for b in api.query("/v1/districts/温江/budgets", admin)] == ["2026-12"]


@pytest.mark.parametrize("path,name", [("/v1/districts/温江/handed-out", "month"),
                                       ("/v1/districts/温江/subsidy-per-day", "period"),
                                       ("/v1/districts/温江/budgets", "period")])
def test_a_read_refuses_a_month_in_full_width_digits(api: Api, path: str, name: str) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    refused_naming(api.client.get(path, params={name: FULL_WIDTH}, headers=admin), name)
    assert api.client.get(path, params={name: "2026-12"}, headers=admin).status_code == 200


def test_the_problem_of_a_bad_month_is_a_problem(api: Api) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    response = api.client.get("/v1/districts/温江/handed-out", params={"month": "٢٠٢٦-١٢"}, headers=admin)
    is_problem(response.json(), "invalid-request", 422)
