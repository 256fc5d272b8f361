"""The board carries what the rider said and showed when it said the work was done: the officer
verifies from the note and the photos, not blind. A rejected completion no longer stands; the
next one does."""

from __future__ import annotations

import uuid

from tests.fixtures.http import Api, district
from tests.fixtures.pages import photo
from domain.events import Role

SMALL = (64, 48)  # the photos' size: only their hashes are looked at


def board_row(api: Api, headers: dict[str, str], task: str) -> dict:  # type: ignore[type-arg]
    return next(t for t in api.query("/v1/board", headers, district="温江")["tasks"] if t["task_id"] == task)


def claimed(api: Api) -> tuple[dict[str, str], dict[str, str], str, dict[str, str], str]:
    """温江 with a grid, its officer and 张三, and a task 张三 has claimed: (admin, officer, rider id, rider, task)."""
    admin, grid, rider_id, rider = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[grid])
    task = api.command("publish-task", {"grid_id": grid, "kind": "清理消防通道", "rate_code": "fire-lane"},
                       officer)["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": rider_id}, rider)
    return admin, officer, rider_id, rider, task


def test_the_board_and_the_riders_tasks_carry_the_completion_note_and_its_photos(api: Api) -> None:
    admin, officer, rider_id, rider, task = claimed(api)
    PHOTO, OTHER = photo(api, rider, "green", SMALL), photo(api, rider, "orange", SMALL)
    assert (board_row(api, officer, task)["completion_note"], board_row(api, officer, task)["completion_evidence"]) \
        == (None, [])
    api.command("complete-task", {"task_id": task, "rider_id": rider_id, "note": "已联系物业挪车，通道已畅通",
                                  "evidence_hashes": [PHOTO]}, rider)
    row = board_row(api, officer, task)
    assert row["status"] == "awaiting_verification"
    assert (row["completion_note"], row["completion_evidence"]) == ("已联系物业挪车，通道已畅通", [PHOTO])

    api.command("reject-completion", {"task_id": task, "reason": "照片看不清"}, officer)
    row = board_row(api, officer, task)
    assert (row["status"], row["completion_note"], row["completion_evidence"]) == ("claimed", None, [])

    api.command("complete-task", {"task_id": task, "rider_id": rider_id, "note": "重拍了照片",
                                  "evidence_hashes": [OTHER, PHOTO]}, rider)
    api.command("verify-completion", {"task_id": task}, officer)
    row = board_row(api, officer, task)
    assert (row["status"], row["completion_note"], row["completion_evidence"]) == ("verified", "重拍了照片",
                                                                                  [OTHER, PHOTO])
    mine = next(t for t in api.query(f"/v1/riders/{rider_id}/tasks", rider)["tasks"] if t["task_id"] == task)
    assert (mine["completion_note"], mine["completion_evidence"]) == ("重拍了照片", [OTHER, PHOTO])


def test_another_rider_reading_the_board_sees_neither_the_note_nor_the_photos(api: Api) -> None:
    admin, officer, rider_id, rider, task = claimed(api)
    shot = photo(api, rider, "green", SMALL)
    api.command("complete-task", {"task_id": task, "rider_id": rider_id, "note": "已联系物业挪车，通道已畅通",
                                  "evidence_hashes": [shot]}, rider)
    other = api.token(Role.RIDER, str(uuid.uuid4()), [])
    row = board_row(api, other, task)
    assert (row["status"], row["completion_note"], row["completion_evidence"]) == ("awaiting_verification", None, [])
    for reader in (rider, officer, admin, api.token(Role.AUDITOR, "auditor-温江")):
        row = board_row(api, reader, task)
        assert (row["completion_note"], row["completion_evidence"]) == ("已联系物业挪车，通道已畅通", [shot])
