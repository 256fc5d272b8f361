"""`gridgov audit verify` and `gridgov audit checkpoint` on the embedded store after
`gridgov demo`: a tree of no leaves proves nothing, so verify does not call it clean
(its own exit code); a checkpoint refused for want of a key changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.audit_cli import CLEAN, NOTHING_PROVEN
from api.cli import app as cli


def test_verify_before_anything_was_sequenced_says_nothing_is_proven(embedded: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIT_KEY_FILE", raising=False)
    runner = CliRunner()
    unsequenced = runner.invoke(cli, ["audit", "verify"])
    assert unsequenced.exit_code == NOTHING_PROVEN != CLEAN, unsequenced.output
    assert "clean" not in unsequenced.stdout
    assert "nothing proven yet: run `gridgov audit sequence --once`" in unsequenced.stdout
    assert runner.invoke(cli, ["audit", "sequence", "--once"]).exit_code == 0
    sequenced = runner.invoke(cli, ["audit", "verify"])
    assert sequenced.exit_code == CLEAN, sequenced.output
    assert sequenced.stdout.startswith("clean: ")


def test_a_checkpoint_without_a_key_is_refused_before_it_sequences_anything(embedded: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIT_KEY_FILE", raising=False)
    runner = CliRunner()
    refused = runner.invoke(cli, ["audit", "checkpoint"])
    assert refused.exit_code == 2, refused.output
    assert "AUDIT_KEY_FILE" in refused.output
    # The tree is as it was: still no leaf.
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == NOTHING_PROVEN
