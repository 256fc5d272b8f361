"""The transparency log through HTTP, as an auditor's tool would use it: fetch the
latest signed checkpoint, check its signature with the published verifier key,
ask for proofs and check them with RFC 9162's algorithms; and the errors a
person can make asking, each a problem+json, never a 500."""

from __future__ import annotations


import pytest

from domain.events import Role
from tests.fixtures.http import Api, is_problem, story
from transparency.checkpoints import Verifier
from transparency.merkle import verify_consistency, verify_inclusion


def test_an_auditor_checks_a_checkpoint_and_proofs_with_nothing_but_the_verifier_key(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    s = story(api)
    engine.tlog.sequencer().catch_up()
    head = engine.app.head()  # each of the auditor's queries then adds one access (the access log)
    first = api.query("/v1/audit/proofs/inclusion", auditor, position=1)  # signs a checkpoint on demand
    old = api.query("/v1/audit/checkpoint", auditor)
    key = Verifier.parse(old["verifier_key"])
    signed = key.open(old["note"], "gridgov.test/http")
    assert (signed.size, signed.root.hex()) == (old["size"], old["root"]) == (first["tree_size"], first["root"])
    assert old["size"] == head

    api.command("publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"}, s["officer"])
    engine.tlog.sequencer().catch_up()
    engine.tlog.checkpoint()
    new = api.query("/v1/audit/checkpoint", auditor)
    assert new["size"] > old["size"]
    assert api.query(f"/v1/audit/checkpoints/{old['size']}", auditor) == old
    for position in range(1, new["size"] + 1):
        proof = api.query("/v1/audit/proofs/inclusion", auditor, position=position)
        assert proof["tree_size"] == new["size"]
        assert verify_inclusion(proof["leaf_index"], proof["tree_size"], bytes.fromhex(proof["leaf_hash"]),
                                [bytes.fromhex(h) for h in proof["proof"]], bytes.fromhex(new["root"]))
    in_old = api.query("/v1/audit/proofs/inclusion", auditor, position=2, size=old["size"])
    assert in_old["checkpoint"] == old["note"]
    consistency = api.query("/v1/audit/proofs/consistency", auditor, old=old["size"])
    assert verify_consistency(old["size"], new["size"], bytes.fromhex(old["root"]), bytes.fromhex(new["root"]),
                              [bytes.fromhex(h) for h in consistency["proof"]])


def test_an_event_is_named_by_its_stream_and_version_too(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    s = story(api)
    engine.tlog.sequencer().catch_up()
    by_stream = api.query("/v1/audit/proofs/inclusion", admin, stream_id=s["grid"], version=1)
    assert by_stream["position"] == engine.app.eventlog.position_of(__import__("uuid").UUID(s["grid"]), 1)
    assert by_stream == api.query("/v1/audit/proofs/inclusion", admin, position=by_stream["position"])


@pytest.mark.parametrize("params,status,code", [
    ({}, 422, "invalid-input"),
    ({"position": 1, "stream_id": "00000000-0000-0000-0000-000000000001", "version": 1}, 422, "invalid-input"),
    ({"stream_id": "00000000-0000-0000-0000-000000000001"}, 422, "invalid-input"),
    ({"position": 0}, 422, "invalid-request"),
    ({"position": "x"}, 422, "invalid-request"),
    ({"position": 10**9}, 404, "not-in-log"),
    ({"stream_id": "00000000-0000-0000-0000-000000000001", "version": 1}, 404, "not-in-log"),
    ({"position": 1, "size": 999_999}, 404, "no-such-checkpoint"),
])
def test_a_bad_question_about_inclusion_is_a_clear_problem(audited, params, status, code) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    story(api)
    engine.tlog.sequencer().catch_up()
    response = api.client.get("/v1/audit/proofs/inclusion", params=params, headers=api.token(Role.SERVICE, "svc"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    is_problem(response.json(), code, status)


def test_an_event_not_yet_in_the_tree_says_so(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    story(api)  # the sequencer has not run: the events are stored, not yet in the tree
    response = api.client.get("/v1/audit/proofs/inclusion", params={"position": 1},
                              headers=api.token(Role.AUDITOR, "auditor-温江"))
    assert response.status_code == 409
    is_problem(response.json(), "not-yet-in-tree", 409)


def test_checkpoints_and_consistency_that_do_not_exist(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    who = api.token(Role.AUDITOR, "auditor-温江")
    is_problem(api.query("/v1/audit/checkpoint", who, status=404), "no-such-checkpoint", 404)
    story(api)
    engine.tlog.sequencer().catch_up()
    size = engine.tlog.checkpoint().size
    is_problem(api.query("/v1/audit/checkpoints/3", who, status=404), "no-such-checkpoint", 404)
    is_problem(api.query("/v1/audit/proofs/consistency", who, status=404, old=3), "no-such-checkpoint", 404)
    assert api.query("/v1/audit/proofs/consistency", who, old=size)["proof"] == []


def test_readiness_and_metrics_show_the_trees_lag(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    story(api)
    head = engine.app.head()
    assert api.client.get("/readyz").json()["transparency_lag"] == head
    engine.tlog.sequencer().catch_up()
    assert api.client.get("/readyz").json()["transparency_lag"] == 0
    metrics = api.client.get("/metrics").text
    assert f"gridgov_tlog_leaves {float(head)}" in metrics and "gridgov_tlog_lag_events 0.0" in metrics


def test_without_a_signing_key_there_are_no_checkpoints(api: Api) -> None:
    story(api)
    response = api.client.get("/v1/audit/checkpoint", headers=api.token(Role.AUDITOR, "auditor-温江"))
    assert response.status_code == 404
    is_problem(response.json(), "checkpoints-off", 404)
    assert "AUDIT_KEY_FILE" in response.json()["detail"]


def test_each_step_of_an_award_chain_is_proven_in_a_checkpoint(audited) -> None:  # type: ignore[no-untyped-def]
    """The auditor recomputes each step's leaf from the stored row itself and checks
    the step's proof against the signed root: the chain they are shown is in the log."""
    from transparency.leaves import leaf_data
    from transparency.merkle import leaf_hash

    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    s = story(api)
    plain = api.query(f"/v1/awards/{s['task']}/chain", auditor)
    assert all(step["leaf_index"] is None for step in plain["steps"])  # stored, not yet in the tree
    engine.tlog.sequencer().catch_up()
    size = engine.tlog.checkpoint().size
    chain = api.query(f"/v1/awards/{s['task']}/chain", auditor, checkpoint=size)
    root = bytes.fromhex(chain["checkpoint"]["root"])
    assert Verifier.parse(api.query("/v1/audit/checkpoint", auditor)["verifier_key"]).open(
        chain["checkpoint"]["note"]).root == root
    steps = chain["steps"] + chain["payouts"]
    assert {step["kind"] for step in steps} >= {"TaskClaimed", "SubsidyAwarded"}
    for step in steps:
        [row] = engine.app.eventlog.page(step["position"] - 1, 1)
        assert (row[1], row[2]) == (step["stream_id"], step["version"])
        assert verify_inclusion(step["leaf_index"], size, leaf_hash(leaf_data(row)),
                                [bytes.fromhex(h) for h in step["proof"]], root)
    is_problem(api.query(f"/v1/awards/{s['task']}/chain", auditor, status=404, checkpoint=size + 1000),
               "no-such-checkpoint", 404)
