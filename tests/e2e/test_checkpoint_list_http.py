"""The list of checkpoints through HTTP (size, time, root, cosigners), largest first
a page at a time, and each checkpoint served with its witnesses' cosignatures after
the log's own signature, with whether the witness policy (k of n) is met."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.events import Role
from tests.fixtures.http import is_problem, story
from transparency.checkpoints import Verifier
from transparency.cosignature import CosignatureSigner, CosignatureVerifier
from transparency.store import Cosignature
from transparency.witness.protocol import split_note
from transparency.witnessing import WitnessPolicy

A, B = CosignatureSigner.generate("witness-a"), CosignatureSigner.generate("witness-b")


def cosign(engine, size: int, witness: CosignatureSigner) -> str:  # type: ignore[no-untyped-def]
    text, _ = split_note(engine.tlog.at(size).note)
    line = witness.cosign(text, int(datetime.now(timezone.utc).timestamp()))
    engine.tlog.tree.add_cosignature(size, Cosignature(witness.name, line, "2026-12-05T22:40:00+00:00"))
    return line


def test_checkpoints_are_listed_with_their_cosigners_and_served_with_their_cosignatures(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    engine.tlog.witnesses = WitnessPolicy.parse(f"http://a.test={A.vkey()},http://b.test={B.vkey()}", 1)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    s = story(api)
    sizes = []
    for _ in range(3):
        api.command("publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"}, s["officer"])
        engine.tlog.sequencer().catch_up()
        sizes.append(engine.tlog.checkpoint().size)
    line = cosign(engine, sizes[-1], A)
    cosign(engine, sizes[0], B)

    page = api.query("/v1/audit/checkpoints", auditor, limit=2)
    assert [c["size"] for c in page["checkpoints"]] == [sizes[2], sizes[1]]
    newest = page["checkpoints"][0]
    assert newest["cosigners"] == ["witness-a"] and newest["witnessed"] is True
    assert page["checkpoints"][1]["cosigners"] == [] and page["checkpoints"][1]["witnessed"] is False
    assert newest["root"] == engine.tlog.at(sizes[2]).root.hex() and newest["made_at"].endswith("+00:00")
    assert page["witnesses"] == {"named": ["witness-a", "witness-b"], "policy": 1}
    rest = api.query("/v1/audit/checkpoints", auditor, limit=2, below=page["next_below"])
    assert [c["size"] for c in rest["checkpoints"]] == [sizes[0]] and rest["next_below"] is None
    assert rest["checkpoints"][0]["cosigners"] == ["witness-b"]

    served = api.query("/v1/audit/checkpoint", auditor)
    assert served["cosigners"] == ["witness-a"] and served["witnessed"] is True
    assert served["note"].endswith(line + "\n")
    key = Verifier.parse(served["verifier_key"])
    assert key.open(served["note"], "gridgov.test/http").size == sizes[2]  # the log's key still reads it
    text, lines = split_note(served["note"])
    assert CosignatureVerifier(A.vkey()).verify(text, lines[-1]) > 0
    assert api.query(f"/v1/audit/checkpoints/{sizes[2]}", auditor) == served


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"below": 0}, {"below": "x"}])
def test_a_page_out_of_bounds_is_a_problem(audited, params) -> None:  # type: ignore[no-untyped-def]
    api, _ = audited
    is_problem(api.query("/v1/audit/checkpoints", api.token(Role.AUDITOR, "auditor-温江"), status=422, **params),
               "invalid-request", 422)


def test_no_checkpoint_yet_is_an_empty_list(audited) -> None:  # type: ignore[no-untyped-def]
    api, _ = audited
    page = api.query("/v1/audit/checkpoints", api.token(Role.SERVICE, "svc"))
    assert page == {"checkpoints": [], "next_below": None, "witnesses": {"named": [], "policy": 0}}
