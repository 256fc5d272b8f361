"""The board carries what the rider said and showed when it said the work was done: the officer
verifies from the note and the photos, not blind. A rejected completion no longer stands; the
next one does."""

from __future__ import annotations

import io
import os
import uuid

from PIL import Image

from tests.fixtures.http import Api, district
from domain.events import Role


def photo(api: Api, rider: dict[str, str], colour: str) -> str:
    """A photo the rider took, uploaded as the rider's page does: its hash."""
    jpeg = io.BytesIO()
    picture = Image.new("RGB", (64, 48), colour)
    picture.putpixel((0, 0), tuple(os.urandom(3)))  # a photo of its own: the same bytes are the same photo
    picture.save(jpeg, "JPEG")
    response = api.client.post("/v1/photos", files={"photo": ("IMG_0001.jpg", jpeg.getvalue(), "image/jpeg")},
                               headers=rider)
    assert response.status_code == 201, response.text
    return response.json()["sha256"]


def board_row(api: Api, headers: dict[str, str], task: str) -> dict:  # type: ignore[type-arg]
    return next(t for t in api.query("/v1/board", headers, district="温江")["tasks"] if t["task_id"] == task)


def test_the_board_and_the_riders_tasks_carry_the_completion_note_and_its_photos(api: Api) -> None:
    admin, grid, rider_id, rider = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[grid])
    task = api.command("publish-task", {"grid_id": grid, "kind": "清理消防通道", "rate_code": "fire-lane"},
                       officer)["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": rider_id}, rider)
    PHOTO, OTHER = photo(api, rider, "green"), photo(api, rider, "orange")
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
    admin, grid, rider_id, rider = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[grid])
    task = api.command("publish-task", {"grid_id": grid, "kind": "清理消防通道", "rate_code": "fire-lane"},
                       officer)["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": rider_id}, rider)
    shot = photo(api, rider, "green")
    api.command("complete-task", {"task_id": task, "rider_id": rider_id, "note": "已联系物业挪车，通道已畅通",
                                  "evidence_hashes": [shot]}, rider)
    other = api.token(Role.RIDER, str(uuid.uuid4()), [])
    row = board_row(api, other, task)
    assert (row["status"], row["completion_note"], row["completion_evidence"]) == ("awaiting_verification", None, [])
    for reader in (rider, officer, admin, api.token(Role.AUDITOR, "auditor-温江")):
        row = board_row(api, reader, task)
        assert (row["completion_note"], row["completion_evidence"]) == ("已联系物业挪车，通道已畅通", [shot])
