"""`gridgov witness keygen|serve|evidence`: a key file and its verifier key, bad options
refused with a message and exit 2 (never a traceback), no evidence on a fresh state."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli import app as cli
from transparency.cosignature import CosignatureSigner, CosignatureVerifier


def test_keygen_writes_a_key_and_prints_its_verifier_key_once(tmp_path: Path) -> None:
    key = tmp_path / "w.key"
    made = CliRunner().invoke(cli, ["witness", "keygen", "witness.test/w1", "--out", str(key)])
    assert made.exit_code == 0, made.output
    vkey = made.stdout.strip().splitlines()[-1]
    assert CosignatureVerifier(vkey).name == "witness.test/w1"
    assert CosignatureSigner.parse(key.read_text()).vkey() == vkey
    assert key.stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(cli, ["witness", "keygen", "witness.test/w1", "--out", str(key)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    assert CosignatureSigner.parse(key.read_text()).vkey() == vkey


def test_serve_refuses_a_bad_log_or_key_with_a_message(tmp_path: Path) -> None:
    key = tmp_path / "w.key"
    key.write_text(CosignatureSigner.generate("witness.test/w1").text())
    base = ["witness", "serve", "--key", str(key), "--state", str(tmp_path / "w.db"), "--port", "0"]
    for extra, says in [(["--name", "witness.test/w1", "--log", "no-equals"], "--log"),
                        (["--name", "witness.test/w1", "--log", "o=not+a+key"], "--log o=not+a+key"),
                        (["--name", "witness.test/other", "--log", "o=x"], "not 'witness.test/other'")]:
        result = CliRunner().invoke(cli, base + extra)
        assert result.exit_code == 2 and says in result.output, result.output
    missing = CliRunner().invoke(cli, ["witness", "serve", "--name", "n", "--key", str(tmp_path / "none"),
                                       "--log", "o=x"])
    assert missing.exit_code == 2 and "cannot read the witness key" in missing.output


def test_evidence_on_a_fresh_state_is_none_and_on_no_state_a_message(tmp_path: Path) -> None:
    from transparency.witness.state import WitnessState

    WitnessState(tmp_path / "w.db").close()
    fresh = CliRunner().invoke(cli, ["witness", "evidence", "--state", str(tmp_path / "w.db")])
    assert fresh.exit_code == 0 and "no evidence" in fresh.output
    absent = CliRunner().invoke(cli, ["witness", "evidence", "--state", str(tmp_path / "none.db")])
    assert absent.exit_code == 2 and "no witness state" in absent.output
