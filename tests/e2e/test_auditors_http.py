"""A district's auditor through HTTP: the export download (opened again, its rows
proven in the checkpoint it names, its signature checked with the published
key), and the access log — every request the auditor made, refusals too, each an
event in the log and a leaf of the tree, seen by that district's auditors only."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import unquote

from openpyxl import load_workbook

from domain.events import Role
from tests.fixtures.http import is_problem, story
from transparency.checkpoints import Verifier
from transparency.merkle import verify_inclusion


def exported(api: Any, auditor: dict[str, str], **params: Any) -> Any:
    api.feed.catch_up()
    return api.client.get("/v1/districts/温江/audit-export", headers=auditor, params=params)


def test_an_auditor_downloads_an_export_and_proves_its_rows(audited) -> None:
    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    s = story(api)
    api.command("reverse-award", {"rider_id": s["rider_id"], "period": "2026-11", "piece_id": s["task"],
                                  "reason": "wrong address"}, s["admin"])
    response = exported(api, auditor, **{"from": "2026-11"})
    assert response.status_code == 200, response.text
    assert response.headers["x-reconciled"] == "true"
    assert unquote(response.headers["content-disposition"]).endswith("gridgov-audit-温江-2026-11.xlsx")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    summary = {k: v for k, v in book["说明"].iter_rows(values_only=True)}
    steps = list(book["奖励链"].iter_rows(values_only=True))
    header, rows = steps[0], [dict(zip(steps[0], row)) for row in steps[1:]]
    assert {"环节", "操作人", "角色", "时间（北京时间）", "日志位置", "叶子序号"} <= set(header)
    assert [r["环节"] for r in rows] == ["线索直报", "线索受理", "任务发布", "服务认领", "任务完成", "完成核验通过",
                                        "计件补贴", "线索办结", "补贴撤销"]  # in log order
    assert [r["日志位置"] for r in rows] == sorted(r["日志位置"] for r in rows)
    assert sum(r["奖励（分）"] or 0 for r in rows) == 800 and sum(r["撤销（分）"] or 0 for r in rows) == 800
    # The signed note verifies with the key the API publishes, and each row is a leaf of it.
    key = Verifier.parse(api.query("/v1/audit/checkpoint", auditor)["verifier_key"])
    signed = key.open(summary["检查点签名"], "gridgov.test/http")
    assert (signed.size, signed.root.hex()) == (summary["检查点树大小"], summary["检查点根哈希"])
    for row in rows:
        proof = api.query("/v1/audit/proofs/inclusion", auditor, position=row["日志位置"], size=signed.size)
        assert proof["leaf_index"] == row["叶子序号"]
        assert verify_inclusion(proof["leaf_index"], signed.size, bytes.fromhex(proof["leaf_hash"]),
                                [bytes.fromhex(h) for h in proof["proof"]], signed.root)


def test_the_csv_export_is_english_on_request_and_carries_the_checkpoint_as_signed(audited) -> None:
    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    story(api)
    response = exported(api, auditor, **{"from": "2026-10", "to": "2026-11", "format": "csv", "lang": "en"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    zipped = zipfile.ZipFile(io.BytesIO(response.content))
    assert zipped.read("by_rider.csv").decode("utf-8-sig").splitlines()[0] == \
        "month,rider,awards,awarded (¥),withheld (¥),reversed (¥),paid (¥),payable (¥)," \
        "rider id,awarded (fen),withheld (fen),reversed (fen),paid (fen),payable (fen)"
    note = zipped.read("checkpoint.txt").decode()
    assert note == engine.tlog.at(int(response.headers["x-checkpoint-size"])).note


def test_bad_export_requests_are_problems_not_files(audited) -> None:
    api, _ = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    for params, status, code in [({"from": "2026-13"}, 422, "invalid-input"),
                                 ({"from": "2026-11", "to": "2026-09"}, 422, "invalid-input"),
                                 ({"from": "2024-01", "to": "2026-11"}, 422, "invalid-input"),
                                 ({"from": "2026-11", "format": "pdf"}, 422, "invalid-request"),
                                 ({}, 422, "invalid-request")]:
        response = exported(api, auditor, **params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        is_problem(response.json(), code, status)
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    is_problem(exported(api, admin, **{"from": "2026-11"}).json(), "out-of-scope", 403)


def test_every_auditor_request_is_an_access_in_the_log_seen_by_its_district_only(audited) -> None:
    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    other = api.token(Role.AUDITOR, "auditor-锦江", districts=["锦江"])
    s = story(api)
    head = engine.app.head()
    api.query(f"/v1/awards/{s['task']}/chain", auditor)
    api.clock.advance(1)  # the access log is newest first, by time
    api.query("/v1/districts/锦江/history", auditor, status=403)  # a refusal is an access too
    api.clock.advance(1)
    api.query("/v1/districts/温江/history", s["admin"])  # an admin is not an auditor: not recorded
    assert exported(api, auditor, **{"from": "2026-11"}).status_code == 200
    assert engine.app.head() == head + 3
    seen = api.query("/v1/districts/温江/accesses", auditor)["accesses"]
    assert [(a["what"], a["status"], a["actor_id"]) for a in seen[:3]] == [
        ("GET /v1/districts/{district}/audit-export", 200, "auditor-温江"),
        ("GET /v1/districts/{district}/history", 403, "auditor-温江"),
        ("GET /v1/awards/{piece_id}/chain", 200, "auditor-温江")]
    export = seen[0]
    assert export["parameters"] == {"path": {"district": "温江"}, "query": {"from": "2026-11"}}
    assert export["checkpoint_size"] is not None and export["checkpoint_size"] >= head
    # In the tree like any event: the export's access is proven in a later checkpoint.
    engine.tlog.sequencer().catch_up()
    position = engine.app.eventlog.position_of(__import__("uuid").UUID(export["stream_id"]), 1)
    assert api.query("/v1/audit/proofs/inclusion", auditor, position=position)["position"] == position
    # 锦江's auditor sees none of 温江's accesses but the refused look at 锦江's history.
    theirs = api.query("/v1/districts/锦江/accesses", other)["accesses"]
    assert [(a["what"], a["status"]) for a in theirs if a["actor_id"] == "auditor-温江"] == [
        ("GET /v1/districts/{district}/history", 403)]
    api.query("/v1/districts/温江/accesses", other, status=403)


def test_an_access_that_cannot_be_recorded_is_not_served(audited, monkeypatch) -> None:
    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    s = story(api)

    def broken(*_: Any, **__: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(engine.app, "record_access", broken)
    api.feed.catch_up()
    response = api.client.get(f"/v1/awards/{s['task']}/chain", headers=auditor)
    assert response.status_code == 503
    is_problem(response.json(), "access-not-recorded", 503)
    assert s["task"] not in response.text
