"""`gridgov simulate` refuses what it cannot run in one line each, before it starts anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app as cli


def test_without_kafka_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    result = CliRunner().invoke(cli, ["simulate", "--riders", "10"])
    assert result.exit_code == 2 and "KAFKA_BOOTSTRAP_SERVERS is not set" in result.output


@pytest.mark.parametrize("day", ["2026-13-01", "tomorrow", "2026/06/26"])
def test_a_day_that_is_not_a_date_is_refused(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # never reached: the day is checked first
    result = CliRunner().invoke(cli, ["simulate", "--day", day])
    assert result.exit_code == 2 and "--day takes a date as YYYY-MM-DD" in result.output


@pytest.mark.parametrize("args", [["--riders", "0"], ["--speed", "0"], ["--kills", "0"]])
def test_numbers_out_of_range_are_refused(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", *args])
    assert result.exit_code == 2


@pytest.mark.parametrize("asked", ["board", "board=0", "board=9", "nosuch=2", "board=two"])
def test_instances_must_name_a_read_model_and_a_count(monkeypatch: pytest.MonkeyPatch, asked: str) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # never reached: the option is checked first
    result = CliRunner().invoke(cli, ["simulate", "--instances", asked])
    assert result.exit_code == 2 and "--instances takes NAME=N" in result.output and repr(asked) in result.output
