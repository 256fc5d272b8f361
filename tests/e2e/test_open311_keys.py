"""Open311 keys through HTTP: a district admin issues one (the secret shown once), lists them, revokes one;
a revoked key is refused at the very next request, with no read model caught up; a key acts in its own
district only, a rider's key only for a rider with a grid there; and the secret is in no store and no log."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import pytest

from api.open311.keys import holder, reporter
from api.open311.wire import Open311Error
from domain.events import Role
from tests.fixtures.http import Api, district, is_problem


def issue(api: Api, headers: dict[str, str], status: int = 201, where: str = "温江", **body: Any) -> dict[str, Any]:
    response = api.client.post(f"/v1/districts/{where}/open311-keys", json=body, headers=headers)
    api.clock.advance(1)  # a second between steps, as Api.command does
    assert response.status_code == status, response.text
    return response.json()


def refusal(governance: Any, api_key: str | None, jurisdiction_id: str | None = None,
            language: str = "zh") -> Open311Error:
    with pytest.raises(Open311Error) as refused:
        holder(governance, api_key, jurisdiction_id, language)  # type: ignore[arg-type]
    assert refused.value.status == 403
    return refused.value


def test_an_admin_issues_lists_and_revokes_keys(api: Api) -> None:
    admin, _, rider_id, _ = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    service = issue(api, admin, label="城管热线")
    ridden = issue(api, admin, label="张三的随手拍", rider_id=rider_id)
    assert service["api_key"].startswith("g311_") and len(service["api_key"]) == 5 + 43
    assert service["rider_id"] is None and ridden["rider_id"] == rider_id and service["district"] == "温江"
    assert service["api_key"] != ridden["api_key"] and service["key_id"] != ridden["key_id"]

    listed = api.query("/v1/districts/温江/open311-keys", admin)
    assert [k["label"] for k in listed["keys"]] == ["张三的随手拍", "城管热线"]  # newest first
    by_label = {k["label"]: k for k in listed["keys"]}
    assert by_label["张三的随手拍"]["rider_name"] == "张三" and by_label["城管热线"]["rider_id"] is None
    assert all(k["revoked_at"] is None and k["issued_by"] == "admin-温江" for k in listed["keys"])
    assert service["api_key"] not in str(listed) and ridden["api_key"] not in str(listed)

    api.command("revoke-open311-key", {"key_id": service["key_id"], "reason": "热线换了系统"}, admin)
    keys = api.query("/v1/districts/温江/open311-keys", admin)["keys"]
    assert [(k["label"], k["revoke_reason"]) for k in keys] == [("张三的随手拍", None), ("城管热线", "热线换了系统")]
    assert keys[1]["revoked_at"] is not None
    again = api.client.post("/v1/commands/revoke-open311-key", json={"key_id": service["key_id"], "reason": "r"},
                            headers={**admin, "Accept-Language": "zh-CN"})
    assert again.status_code == 409 and again.json()["title"] == "开放接口密钥已吊销"


def test_a_revoked_key_is_refused_at_its_very_next_request(api: Api) -> None:
    admin, _, rider_id, _ = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    key = issue(api, admin, label="随手拍", rider_id=rider_id)
    governance = api.engine.app
    found = holder(governance, key["api_key"], "温江")
    assert (found.district, str(found.rider_id), found.label, found.revoked) == ("温江", rider_id, "随手拍", False)
    assert reporter(found).sub == rider_id and reporter(found).role is Role.RIDER
    # No read model is caught up between the revocation and the next request: the key's stream says it.
    response = api.client.post("/v1/commands/revoke-open311-key", json={"key_id": key["key_id"], "reason": "手机丢了"},
                               headers=admin)
    assert response.status_code == 200, response.text
    words = refusal(governance, key["api_key"], "温江").description
    assert "吊销" in words and "随手拍" in words and "温江" in words
    assert "revoked" in refusal(governance, key["api_key"], language="en").description


def test_a_key_acts_only_in_its_district(api: Api) -> None:
    admin, _, rider_id, _ = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    key = issue(api, admin, label="城管热线")
    governance = api.engine.app
    assert holder(governance, key["api_key"], None).district == "温江"  # none named: its own
    assert holder(governance, key["api_key"], "").district == "温江"  # a form's empty field names none either
    words = refusal(governance, key["api_key"], "锦江").description
    assert "温江" in words and "锦江" in words
    assert "belongs to 温江" in refusal(governance, key["api_key"], "锦江", "en").description
    # A service's key reads only: it reports as no one.
    with pytest.raises(Open311Error) as reads_only:
        reporter(holder(governance, key["api_key"], "温江"))
    assert reads_only.value.status == 403 and "只能读取" in reads_only.value.description
    # 锦江's admin may not make a key for 温江's rider, who has no grid in 锦江.
    jinjiang = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    refused = issue(api, {**jinjiang, "Accept-Language": "zh-CN"}, 422, "锦江", label="x", rider_id=rider_id)
    is_problem(refused, "rider-not-in-district", 422)
    assert refused["title"] == "骑手不在本区"
    # Nor for 温江 itself, which its token does not cover.
    is_problem(issue(api, jinjiang, 403, "温江", label="x"), "out-of-scope", 403)


def test_no_key_unknown_keys_and_a_rider_who_cannot_report(api: Api) -> None:
    admin, _, rider_id, _ = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    governance = api.engine.app
    assert "api_key" in refusal(governance, None).description
    assert "api_key" in refusal(governance, "").description
    assert "无效" in refusal(governance, "g311_" + "A" * 43).description
    assert "无效" in refusal(governance, "g311_" + "A" * 10_000).description  # no digest of any length asked for
    ghost = issue(api, admin, 404, label="x", rider_id="00000000-0000-4000-8000-000000000000")
    is_problem(ghost, "rider-not-found", 404)
    api.command("suspend-rider", {"rider_id": rider_id, "reason": "投诉"}, admin)
    is_problem(issue(api, admin, 409, label="x", rider_id=rider_id), "rider-suspended", 409)
    # A label a person can read, and nothing else in the body.
    assert issue(api, admin, 422, label="  ")["status"] == 422
    assert issue(api, admin, 422, label="x", api_key="mine")["status"] == 422


def test_the_secret_is_in_no_store_and_no_log(api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin, _, rider_id, _ = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    keys = [issue(api, {**admin, "Idempotency-Key": f"issue-{n}"}, label=f"key {n}",
                  **({"rider_id": rider_id} if n else {})) for n in range(2)]
    api.command("revoke-open311-key", {"key_id": keys[0]["key_id"], "reason": "r"}, admin, **{"Idempotency-Key": "rv"})
    api.query("/v1/districts/温江/open311-keys", admin)
    for key in keys:
        holder(api.engine.app, key["api_key"], "温江") if key is keys[1] else refusal(api.engine.app, key["api_key"])
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert b"open311" in stored.lower() or keys[1]["label"].encode() in stored  # the files searched hold the keys
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    for key in keys:
        secret = key["api_key"]
        digest = hashlib.sha256(secret.encode()).hexdigest()
        for form in (secret, secret.removeprefix("g311_"), digest):
            assert form.encode() not in stored, f"{form} is stored"
            assert form not in logged, f"{form} is logged"


def test_the_admin_picks_a_rider_of_the_district_by_name(api: Api) -> None:
    admin, grid, rider_id, _ = district(api, "fire-lane", 800, 100000, "张三", "13800000000")
    riders = api.query("/v1/districts/温江/riders", admin)["riders"]
    assert [(r["rider_id"], r["rider_name"], r["grids"]) for r in riders] == [(rider_id, "张三", [grid])]
    assert all(r["personal"] is None for r in riders)  # a name to pick by, not a phone
    jinjiang = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    assert api.query("/v1/districts/锦江/riders", jinjiang)["riders"] == []
    is_problem(api.query("/v1/districts/温江/riders", jinjiang, 403), "out-of-scope", 403)
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=[grid])
    is_problem(api.query("/v1/districts/温江/riders", officer, 403), "out-of-scope", 403)
