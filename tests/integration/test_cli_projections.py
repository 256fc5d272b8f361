"""`gridgov projections rebuild|verify` on the embedded store: output and exit codes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app as cli


def test_verify_rebuild_verify(embedded: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["projections", "verify", "all"])
    assert ok.exit_code == 0 and "match the event store" in ok.stdout
    with sqlite3.connect(embedded) as conn:
        conn.execute("UPDATE points_accounts SET available = available + 7")
    bad = runner.invoke(cli, ["projections", "verify", "points"])
    assert bad.exit_code == 1 and "points.accounts" in bad.stdout
    rebuilt = runner.invoke(cli, ["projections", "rebuild", "points"])
    assert rebuilt.exit_code == 0 and "rebuilt points" in rebuilt.stdout
    assert runner.invoke(cli, ["projections", "verify", "all"]).exit_code == 0


def test_an_unknown_projection_is_named_as_such(embedded: Path) -> None:
    result = CliRunner().invoke(cli, ["projections", "rebuild", "nope"])
    assert result.exit_code == 2
    assert "no projection 'nope'" in result.output


def test_dead_letters_fail_verify_until_a_rebuild_applies_their_events(embedded: Path) -> None:
    """A fresh fold fails on the same events as the live copy, so the two match:
    verify must look at the letters too (it printed "match" with letters stored)."""
    runner = CliRunner()
    with sqlite3.connect(embedded) as conn:
        conn.execute("INSERT INTO projection_dead_letters VALUES ('balances', 'log', 3, 's', 1, 'BudgetAllocated', "
                     "'OverflowError: Python int too large to convert to SQLite INTEGER', '2026-01-01T00:00:00+00:00')")
    bad = runner.invoke(cli, ["projections", "verify", "all"])
    assert bad.exit_code == 1, bad.stdout
    assert "dead letter" in bad.stdout and "balances at log position 3" in bad.stdout and "1 balances" in bad.stdout
    assert runner.invoke(cli, ["projections", "verify", "points"]).exit_code == 0  # not points' letter
    # A rebuild re-applies every event: letters it does not meet again go with the old copy.
    assert runner.invoke(cli, ["projections", "rebuild", "balances"]).exit_code == 0
    assert runner.invoke(cli, ["projections", "verify", "all"]).exit_code == 0


def test_help_lists_the_projections_to_choose_from() -> None:
    from projections.registry import PROJECTIONS

    runner = CliRunner()
    for command in (["consume", "--help"], ["projections", "rebuild", "--help"], ["projections", "verify", "--help"]):
        shown = " ".join(runner.invoke(cli, command, terminal_width=200).stdout.split())
        assert all(name in shown for name in PROJECTIONS), (command, shown)


def test_an_unreachable_kafka_ends_in_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    with __import__("socket").socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_"))}
    env.update(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}", SQLITE_DBNAME=str(tmp_path / "events.sqlite"))
    result = subprocess.run([sys.executable, "-m", "api.cli", "relay", "--wait-for-kafka", "0"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"gridgov: cannot reach Kafka at 127.0.0.1:{port}") and "kafka.sh start" in last


def test_a_worker_started_while_the_broker_is_away_waits_for_it_and_says_so(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    with __import__("socket").socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_"))}
    env.update(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}", SQLITE_DBNAME=str(tmp_path / "events.sqlite"))
    result = subprocess.run([sys.executable, "-m", "api.cli", "relay", "--wait-for-kafka", "12"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"relay: Kafka at 127.0.0.1:{port} does not answer" in result.stderr, "it said it was waiting"
    assert result.stderr.strip().splitlines()[-1].startswith("gridgov: cannot reach Kafka")
