"""Every boundary holds: the findings of trying the API as a new user would, one
test each, all through HTTP. Each failed before its fix.

The world: 温江 and 锦江, a grid and an officer each, a rider who works in both
and so has one month account holding money of both."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest

from api.http.auth import ISSUER
from domain.events import Role
from tests.fixtures.http import SECRET, Api, is_problem

PERIOD = "2026-11"
SPOT = {"lat": 30.6826, "lon": 103.8560}  # a street corner in 温江


def two_districts(api: Api) -> dict[str, Any]:
    world: dict[str, Any] = {"admin": {}, "officer": {}, "grid": {}, "auditor": {}}
    rider_id = str(uuid.uuid4())
    rider = api.token(Role.RIDER, rider_id, [])
    api.command("register-rider", {"rider_id": rider_id, "platform": "meituan", "station": "站", "name": "李四",
                                   "phone": "13800000001"}, rider)
    for district in ("温江", "锦江"):
        admin = world["admin"][district] = api.token(Role.DISTRICT_ADMIN, f"admin-{district}", [district])
        world["auditor"][district] = api.token(Role.AUDITOR, f"auditor-{district}", [district])
        grid = world["grid"][district] = api.command("register-grid", {
            "district": district, "street": "街道", "community": "社区", "name": f"{district}-1"}, admin)["result"]["grid_id"]
        api.command("assign-officer", {"grid_id": grid, "officer_id": f"officer-{district}"}, admin)
        world["officer"][district] = api.token(Role.GRID_OFFICER, f"officer-{district}", [district], [grid])
        api.command("issue-rate-schedule", {"district": district, "effective_from": "2026-11-01T00:00:00+08:00",
                                            "rates": {"patrol": {"fen": 500, "points": 5}},
                                            "cap_day_fen": 5000, "cap_month_fen": 50000}, admin)
        api.command("allocate-budget", {"district": district, "period": PERIOD, "fen": 100_000}, admin)
        api.command("join-grid", {"rider_id": rider_id, "grid_id": grid}, rider)
    world.update(rider_id=rider_id, rider=rider)
    world["piece"] = {district: piece(api, world, district) for district in ("温江", "锦江")}
    return world


def piece(api: Api, world: dict[str, Any], district: str) -> str:
    officer, rider, rider_id = world["officer"][district], world["rider"], world["rider_id"]
    task = api.command("publish-task", {"grid_id": world["grid"][district], "kind": "patrol", "rate_code": "patrol"},
                       officer)["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": rider_id}, rider)
    api.command("complete-task", {"task_id": task, "rider_id": rider_id}, rider)
    api.command("verify-completion", {"task_id": task}, officer)
    return task


def refused(api: Api, name: str, body: dict[str, Any], headers: dict[str, str], status: int, code: str,
            **extra_headers: str) -> None:
    """Refused with the problem `code`, and nothing written."""
    head = api.feed.head()
    is_problem(api.command(name, body, headers, status, **extra_headers), code, status)
    assert api.feed.head() == head, f"a refused {name} wrote events"


def raw_token(**claims: Any) -> dict[str, str]:
    base = {"iss": ISSUER, "sub": "admin-温江", "role": "district_admin", "districts": ["温江"], "exp": 2**40}
    return {"Authorization": f"Bearer {jwt.encode({**base, **claims}, SECRET, algorithm='HS256')}"}


# 1 --------------------------------------------------------------------------------
def test_an_admin_cannot_reverse_another_districts_award_in_a_shared_month(api: Api) -> None:
    w = two_districts(api)
    body = {"rider_id": w["rider_id"], "period": PERIOD, "piece_id": w["piece"]["温江"], "reason": "audit"}
    refused(api, "reverse-award", body, w["admin"]["锦江"], 403, "out-of-scope")
    assert api.command("reverse-award", body, w["admin"]["温江"])["result"]["reversed_fen"] == 500


# 2 and 3 --------------------------------------------------------------------------
def test_a_reversed_award_is_reinstated_once_by_its_own_district(api: Api) -> None:
    w = two_districts(api)
    award = {"kind": "award", "ref": w["piece"]["温江"], "period": PERIOD}
    api.command("reverse-award", {"rider_id": w["rider_id"], "period": PERIOD, "piece_id": w["piece"]["温江"],
                                  "reason": "audit"}, w["admin"]["温江"])
    # Filed in 锦江 about 温江's award: refused, so 锦江 can neither decide it nor pay for it.
    refused(api, "file-appeal", {"rider_id": w["rider_id"], "district": "锦江", "subject": award, "text": "t"},
            w["rider"], 422, "invalid-input")
    appeals = [api.command("file-appeal", {"rider_id": w["rider_id"], "district": "温江", "subject": award,
                                           "text": "the work was done"}, w["rider"])["result"]["appeal_id"]
               for _ in range(2)]
    decide = {"outcome": "upheld", "reason": "photo confirmed", "remedy": {"kind": "reinstate_award"}}
    refused(api, "decide-appeal", {"appeal_id": appeals[0], **decide}, w["admin"]["锦江"], 403, "out-of-scope")
    paid = api.command("decide-appeal", {"appeal_id": appeals[0], **decide}, w["admin"]["温江"])["result"]
    assert (paid["remedy_fen"], paid["district"]) == (500, "温江")
    refused(api, "decide-appeal", {"appeal_id": appeals[1], **decide}, w["admin"]["温江"], 409,
            "award-already-reinstated")
    balances = api.query(f"/v1/riders/{w['rider_id']}/balances", w["rider"])
    assert balances["total"]["payable"] == 1000, balances  # 500 in each district: reinstated once, not twice
    # 温江's budget: the piece, released on its reversal, then the remedy; 锦江's: its own piece alone.
    assert api.query("/v1/districts/温江/budgets", w["admin"]["温江"])[0]["committed"] == 500 + 500 - 500
    assert api.query("/v1/districts/锦江/budgets", w["admin"]["锦江"])[0]["committed"] == 500
    chain = api.query(f"/v1/awards/{w['piece']['温江']}/chain", w["auditor"]["温江"])
    assert [s["kind"] for s in chain["steps"]][-2:] == ["SubsidyReversed", "AwardReinstated"]


# 4 --------------------------------------------------------------------------------
def test_duplicate_links_stay_inside_one_district(api: Api) -> None:
    w = two_districts(api)
    clue = {"rider_id": w["rider_id"], "category": "fire_hazard", "text": "楼道充电", "location": SPOT}
    wenjiang = api.command("report-clue", {**clue, "grid_id": w["grid"]["温江"]}, w["rider"])["result"]
    jinjiang = api.command("report-clue", {**clue, "grid_id": w["grid"]["锦江"]}, w["rider"])["result"]
    assert jinjiang["duplicate_candidates"] == []  # the 温江 clue at the same spot is not offered to 锦江
    refused(api, "mark-duplicate", {"clue_id": jinjiang["clue_id"], "of_clue_id": wenjiang["clue_id"]},
            w["officer"]["锦江"], 403, "out-of-scope")
    refused(api, "mark-duplicate", {"clue_id": jinjiang["clue_id"], "of_clue_id": wenjiang["clue_id"]},
            w["admin"]["锦江"], 403, "out-of-scope")


# 5 --------------------------------------------------------------------------------
def test_each_district_sees_its_own_slice_of_a_shared_month_and_pays_only_it(api: Api) -> None:
    w = two_districts(api)
    path = f"/v1/riders/{w['rider_id']}/balances"
    for district in ("温江", "锦江"):
        seen = api.query(path, w["auditor"][district])
        assert [(m["district"], m["awarded"]) for m in seen["months"]] == [(district, 500)]
        assert seen["total"]["payable"] == 500
    mine = api.query(path, w["rider"])
    assert sorted((m["district"], m["payable"]) for m in mine["months"]) == [("温江", 500), ("锦江", 500)]
    assert mine["total"]["payable"] == 1000
    payout = {"rider_id": w["rider_id"], "period": PERIOD, "district": "锦江", "batch_id": "b-1", "fen": 600}
    refused(api, "settle-payout", payout, w["admin"]["锦江"], 409, "insufficient-balance")  # 锦江 owes 500, not 1000
    refused(api, "settle-payout", {**payout, "fen": 500}, w["admin"]["温江"], 403, "out-of-scope")
    api.command("settle-payout", {**payout, "fen": 500}, w["admin"]["锦江"])
    after = api.query(path, w["rider"])
    assert sorted((m["district"], m["paid"], m["payable"]) for m in after["months"]) == [("温江", 0, 500),
                                                                                       ("锦江", 500, 0)]


# 6 --------------------------------------------------------------------------------
@pytest.mark.parametrize("fen", [10**12 + 1, 2**63, 2**64])
def test_money_beyond_the_bound_is_refused_before_it_is_stored(api: Api, fen: int) -> None:
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    refused(api, "allocate-budget", {"district": "温江", "period": PERIOD, "fen": fen}, admin, 422, "amount-too-large")
    refused(api, "issue-rate-schedule", {"district": "温江", "effective_from": "2026-11-01T00:00:00+08:00",
                                         "rates": {"x": {"fen": fen}}, "cap_day_fen": 1, "cap_month_fen": 1},
            admin, 422, "amount-too-large")


def test_dead_letters_make_readyz_not_ready_and_are_counted_per_read_model(api: Api) -> None:
    from projections.engine.projector import dead_letter

    assert api.client.get("/readyz").status_code == 200
    with api.feed.projector.store.transaction() as tx:
        dead_letter(tx, "balances", "log", 7, "s", 1, "BudgetAllocated", "OverflowError: too big")
    ready = api.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["dead_letters"] == {"balances": 1}
    assert 'gridgov_dead_letters{projection="balances"} 1.0' in api.client.get("/metrics").text


# 7 --------------------------------------------------------------------------------
def test_an_idempotency_key_belongs_to_its_caller(api: Api) -> None:
    w = two_districts(api)
    other_id = str(uuid.uuid4())
    other = api.token(Role.RIDER, other_id, [])
    body = {"rider_id": w["rider_id"], "category": "other", "text": "路灯坏了", "location": SPOT,
            "grid_id": w["grid"]["温江"]}
    first = api.command("report-clue", body, w["rider"], **{"Idempotency-Key": "k-1"})
    assert api.command("report-clue", body, w["rider"], **{"Idempotency-Key": "k-1"})["replayed"] is True
    # Another rider sending the same body and key is not handed the first answer: it is its own
    # command, refused because a rider acts only as itself.
    for _ in range(2):
        refused(api, "report-clue", body, other, 403, "not-allowed", **{"Idempotency-Key": "k-1"})
    assert first["replayed"] is False


# 8 --------------------------------------------------------------------------------
@pytest.mark.parametrize("claims", [{"districts": 1}, {"districts": True}, {"districts": [["温江"]]},
                                    {"grids": "g"}, {"sub": 5}, {"role": "system"}, {"role": ["rider"]},
                                    {"role": "rider", "sub": "not-a-uuid"}])
def test_a_token_with_malformed_claims_is_a_401(api: Api, claims: dict[str, Any]) -> None:
    for response in (api.client.get("/v1/stats", headers=raw_token(**claims)),
                     api.client.post("/v1/commands/register-rider", headers=raw_token(**claims),
                                     json={"platform": "p", "station": "s", "name": "n", "phone": "13800000000"})):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_an_award_appeal_names_its_piece_by_id(api: Api) -> None:
    w = two_districts(api)
    refused(api, "file-appeal", {"rider_id": w["rider_id"], "district": "温江", "text": "t",
                                 "subject": {"kind": "award", "ref": "my bonus", "period": PERIOD}},
            w["rider"], 422, "invalid-input")


def test_a_forged_cursor_is_a_422(api: Api) -> None:
    import base64
    import json

    auditor = api.token(Role.AUDITOR, "auditor-温江")
    for key in (["2026-11-01", "s", 2**64], ["2026-11-01", "s", 2**63], ["2026-11-01", "s", -1],
                ["x" * 500, "s", 1], [1, 2, 3]):
        after = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
        response = api.client.get("/v1/districts/温江/history", headers=auditor, params={"after": after})
        assert response.status_code == 422, response.text


# 9 --------------------------------------------------------------------------------
def test_lists_texts_bodies_and_times_are_bounded(api: Api) -> None:
    w = two_districts(api)
    clue = {"rider_id": w["rider_id"], "grid_id": w["grid"]["温江"], "category": "other", "text": "t",
            "location": SPOT}
    refused(api, "report-clue", {**clue, "evidence_hashes": ["ab" * 32] * 21}, w["rider"], 422, "invalid-input")
    for text in ("\u0000", "\u200b", "   ", "a\u0000b"):
        refused(api, "report-clue", {**clue, "text": text}, w["rider"], 422, "invalid-input")
    head = api.feed.head()
    big = api.client.post("/v1/commands/report-clue", headers=w["rider"],
                          content=b'{"text": "' + b"x" * 70_000 + b'"}')
    assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    assert api.feed.head() == head
    naive = api.client.get(f"/v1/riders/{w['rider_id']}/balance-at", headers=w["rider"],
                           params={"at": "2026-11-02T10:00:00"})
    assert naive.status_code == 422
    nul = api.client.get("/v1/board", headers=w["rider"], params={"district": "温\u0000江"})
    assert nul.status_code == 422 and nul.headers["content-type"] == "application/problem+json"
