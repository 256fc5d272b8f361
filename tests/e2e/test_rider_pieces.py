"""A rider's pieces (/v1/riders/{id}/pieces): each piece with what was awarded, what
was withheld and by what, what a reversal took and why — what the rider's page
explains a ¥0.00 with, and files an appeal from."""

from __future__ import annotations

import uuid

from domain.events import Role
from tests.fixtures.http import Api, district, is_problem


def verified_piece(api: Api, rider_id: str, rider: dict[str, str], grid: str) -> str:
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[grid])
    task = api.command("publish-task", {"grid_id": grid, "kind": "patrol", "rate_code": "fire-lane"},
                       officer)["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": rider_id}, rider)
    api.command("complete-task", {"task_id": task, "rider_id": rider_id}, rider)
    api.command("verify-completion", {"task_id": task}, officer)
    return task


def test_each_piece_says_what_was_withheld_by_what_and_what_was_reversed_why(api: Api) -> None:
    admin, grid, rider_id, rider = district(api, "fire-lane", 800, 1000, "张三", "13800000000")
    first = verified_piece(api, rider_id, rider, grid)   # ¥8 of the ¥10 budget
    second = verified_piece(api, rider_id, rider, grid)  # ¥2 left: ¥6 withheld by the budget
    third = verified_piece(api, rider_id, rider, grid)   # nothing left
    api.command("reverse-award", {"rider_id": rider_id, "period": "2026-11", "piece_id": first,
                                  "reason": "照片不清"}, admin)
    pieces = {p["piece_id"]: p for p in api.query(f"/v1/riders/{rider_id}/pieces", rider)["pieces"]}
    assert [(pieces[t]["awarded"], pieces[t]["withheld"], pieces[t]["withheld_by"]) for t in (first, second, third)] \
        == [(800, 0, None), (200, 600, "budget"), (0, 800, "budget")]
    assert (pieces[first]["reversed"], pieces[first]["reversed_reason"]) == (800, "照片不清")
    assert {p["period"] for p in pieces.values()} == {"2026-11"} and {p["district"] for p in pieces.values()} == {"温江"}
    # The row is what an appeal names: filed with it, it is taken.
    appeal = api.command("file-appeal", {"rider_id": rider_id, "district": "温江", "text": "预算用完了",
                                         "subject": {"kind": "award", "ref": third, "period": "2026-11"}}, rider)
    assert appeal["result"]["appeal_id"]


def test_a_riders_pieces_are_its_own_and_its_districts(api: Api) -> None:
    admin, grid, rider_id, rider = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    verified_piece(api, rider_id, rider, grid)
    stranger = api.token(Role.RIDER, str(uuid.uuid4()), [])
    is_problem(api.query(f"/v1/riders/{rider_id}/pieces", stranger, status=403), "out-of-scope", 403)
    assert len(api.query(f"/v1/riders/{rider_id}/pieces", admin)["pieces"]) == 1
    elsewhere = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    assert api.query(f"/v1/riders/{rider_id}/pieces", elsewhere)["pieces"] == []
