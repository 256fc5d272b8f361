"""`gridgov audit checkpoints` lists the signed checkpoints (size, time, root,
cosigners), and `gridgov audit verify` says which witnesses cosigned the newest,
how old it is, and whether the witness policy is met (`--witnessed` makes an
unmet policy exit 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.audit_cli import CLEAN, UNWITNESSED
from api.cli import app as cli
from gridgov.bootstrap import bootstrap
from gridgov.settings import load_settings
from transparency.checkpoints import Signer
from transparency.cosignature import CosignatureSigner
from transparency.store import Cosignature
from transparency.witness.protocol import split_note

A, B = CosignatureSigner.generate("witness-a"), CosignatureSigner.generate("witness-b")


@pytest.fixture
def signed(embedded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    key = tmp_path / "audit.key"
    key.write_text(Signer.generate("gridgov.test/cli").text())
    monkeypatch.setenv("AUDIT_KEY_FILE", str(key))
    monkeypatch.setenv("AUDIT_ORIGIN", "gridgov.test/cli")
    monkeypatch.setenv("AUDIT_WITNESSES", f"http://127.0.0.1:9/={A.vkey()},http://127.0.0.1:9/b={B.vkey()}")
    monkeypatch.setenv("AUDIT_WITNESS_POLICY", "2")
    engine = bootstrap(load_settings(), feed=False)
    try:
        sequencer, sizes = engine.tlog.sequencer(), []
        sequencer.batch = 40
        while sequencer.step():
            sizes.append(engine.tlog.checkpoint().size)
        newest = engine.tlog.latest()
        text, _ = split_note(newest.note)
        engine.tlog.tree.add_cosignature(newest.size, Cosignature(
            "witness-a", A.cosign(text, 1_796_000_000), "2026-12-05T22:40:00+00:00"))
    finally:
        engine.close()
    return sizes


def test_checkpoints_are_listed_largest_first_with_their_cosigners(signed: list[int]) -> None:
    listed = CliRunner().invoke(cli, ["audit", "checkpoints", "--limit", "2", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [row["size"] for row in rows] == signed[::-1][:2]
    assert rows[0]["cosigners"] == ["witness-a"] and rows[1]["cosigners"] == []
    assert all(len(bytes.fromhex(row["root"])) == 32 and row["made_at"] for row in rows)
    table = CliRunner().invoke(cli, ["audit", "checkpoints"])
    assert table.exit_code == 0 and f"{signed[-1]:,}" in table.stdout and "witness-a" in table.stdout


def test_verify_says_who_cosigned_the_newest_and_whether_the_policy_is_met(signed: list[int]) -> None:
    runner = CliRunner()
    told = runner.invoke(cli, ["audit", "verify"])
    assert told.exit_code == CLEAN, told.output  # the log is intact; the policy is told, not failed
    assert "cosigned by witness-a (1 of 2 named; the policy asks 2): NOT witnessed" in told.stdout
    assert f"newest checkpoint: {signed[-1]:,} leaves, made" in told.stdout
    strict = runner.invoke(cli, ["audit", "verify", "--witnessed"])
    assert strict.exit_code == UNWITNESSED, strict.output
    mine = runner.invoke(cli, ["audit", "verify", "--witnessed", "--witnesses", f"http://w.test={A.vkey()}",
                               "--policy", "1"])
    assert mine.exit_code == CLEAN, mine.output
    assert "cosigned by witness-a (1 of 1 named; the policy asks 1): witnessed" in mine.stdout


def test_sequence_once_collects_the_witnesses_cosignatures_before_it_exits(embedded: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.witnesses import ORIGIN, Log, WitnessProcess

    key = Signer.generate(ORIGIN)
    (tmp_path / "audit.key").write_text(key.text())
    witness = WitnessProcess(tmp_path / "w", "witness-a", [Log(signer=key)]).start()
    try:
        monkeypatch.setenv("AUDIT_KEY_FILE", str(tmp_path / "audit.key"))
        monkeypatch.setenv("AUDIT_ORIGIN", ORIGIN)
        monkeypatch.setenv("AUDIT_WITNESSES", f"{witness.url}={witness.vkey},http://127.0.0.1:9={B.vkey()}")
        monkeypatch.setenv("AUDIT_WITNESS_POLICY", "1")
        once = CliRunner().invoke(cli, ["audit", "sequence", "--once"])
        assert once.exit_code == 0, once.output
        assert "cosigned by witness-a" in once.output
        listed = CliRunner().invoke(cli, ["audit", "checkpoints", "--limit", "1", "--json"])
        assert json.loads(listed.stdout)["cosigners"] == ["witness-a"]
        told = CliRunner().invoke(cli, ["audit", "verify", "--witnessed"])
        assert told.exit_code == CLEAN, told.output
    finally:
        witness.stop()
