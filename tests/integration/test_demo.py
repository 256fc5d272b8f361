"""`gridgov demo`: the same seed tells the same story, on either backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from gridgov.demo import DAY_START, Demo
from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from domain.ids import SeededIds
from tests.fixtures.stores import fresh_store


def run_demo(env: dict[str, str], seed: int):  # type: ignore[no-untyped-def]
    clock = ManualClock(DAY_START)
    application = bootstrap.application(load_settings(env), clock=clock, ids=SeededIds(seed))
    try:
        return Demo(application, clock, seed, riders=36).run()
    finally:
        application.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_same_seed_same_story(backend: str) -> None:
    if backend == "postgres":
        from tests.fixtures.stores import require_postgres

        require_postgres()
    summaries = []
    for _ in range(2):
        env, cleanup = fresh_store(backend)
        try:
            summaries.append(run_demo(env, seed=11))
        finally:
            cleanup()
    first, second = summaries
    assert first == second
    assert first.tasks["verified"] > 0 and first.awarded_fen > 0 and first.appeal.startswith("upheld")


def test_another_seed_tells_another_story(tmp_path: Path) -> None:
    one = run_demo({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "a.sqlite")}, 1)
    two = run_demo({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "b.sqlite")}, 2)
    assert one != two


def test_the_cli_refuses_a_store_that_is_not_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "var" / "gridgov.sqlite"))
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--riders", "12", "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert "events written" in first.output and "top balances" in first.output
    again = runner.invoke(cli, ["demo", "--riders", "12", "--seed", "3"])
    assert again.exit_code == 2
    assert "--reset" in again.output
    reset = runner.invoke(cli, ["demo", "--riders", "12", "--seed", "3", "--reset"])
    assert reset.exit_code == 0
    assert reset.stdout == first.stdout


def test_a_run_across_the_end_of_a_month_allocates_the_new_budget_and_goes_on(tmp_path: Path) -> None:
    from datetime import datetime

    from domain.clock import CHINA

    start = datetime(2026, 11, 30, 7, 0, tzinfo=CHINA)
    clock = ManualClock(start)
    application = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                      "SQLITE_DBNAME": str(tmp_path / "e.sqlite")}), clock=clock, ids=SeededIds(5))
    try:
        summary = Demo(application, clock, 5, riders=24, start=start).run(days=2)
    finally:
        application.close()
    assert summary.days == 2 and summary.tasks["verified"] > 0
    assert summary.awarded_fen > 0, "December's awards were paid from December's budget"
