"""`gridgov demo`: the same seed tells the same story, on either backend: the same one."""

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


def story_on(backend: str, seed: int):  # type: ignore[no-untyped-def]
    env, cleanup = fresh_store(backend)
    try:
        return run_demo(env, seed)
    finally:
        cleanup()


@pytest.fixture(scope="module")
def story_11():  # type: ignore[no-untyped-def]
    """Seed 11's story on SQLite, told once for the module's tests to hold the others against."""
    return story_on("sqlite", 11)


def test_same_seed_same_story(story_11) -> None:  # type: ignore[no-untyped-def]
    assert story_on("sqlite", 11) == story_11
    assert story_11.tasks["verified"] > 0 and story_11.awarded_fen > 0 and story_11.appeal.startswith("upheld")


@pytest.mark.postgres
def test_same_seed_same_story_on_postgresql(story_11) -> None:  # type: ignore[no-untyped-def]
    """Not only again on PostgreSQL, but the very story SQLite told."""
    from tests.fixtures.stores import require_postgres

    require_postgres()
    assert story_on("postgres", 11) == story_11


def test_another_seed_tells_another_story(story_11) -> None:  # type: ignore[no-untyped-def]
    assert story_on("sqlite", 2) != story_11


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
