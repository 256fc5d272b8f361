"""`gridgov simulate`, short, with chaos: a small city's day through the real
pipeline (PostgreSQL, the broker, the relay and one consumer process per read
model) while workers are SIGKILLed at random and the broker — the test's own, so that
the other workers' tests keep theirs — is restarted once.
Every read model must equal a fresh fold of the store and the subsidy totals
must agree to the fen. The machine is loaded (tests/fixtures/load.py), as a loaded CI
machine would be."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from consumers.settings import KafkaSettings
from domain.clock import CHINA
from gridgov.settings import load_settings
from gridgov.simulate import simulate
from tests.fixtures.kafka import own_broker
from tests.fixtures.load import busy_machine  # noqa: F401  (a fixture)
from tests.fixtures.stores import postgres_settings, require_postgres


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[KafkaSettings]:
    with own_broker(9392, tmp_path / "broker") as settings:
        yield settings


def test_a_short_day_with_kills_and_a_broker_restart_ends_exact(tmp_path: Path, busy_machine: None,
                                                               broker: KafkaSettings) -> None:
    require_postgres()
    settings = load_settings({**postgres_settings(), "PERSISTENCE_MODULE": "eventsourcing.postgres",
                              "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap})
    report = simulate(settings, riders=600, day=datetime(2026, 6, 26, 7, tzinfo=CHINA), seed=11, chaos=True,
                      logs=tmp_path, progress=lambda *_: None, kills=5, chaos_pace_s=(0.5, 2.0),
                      grids_per_street=4, instances_of={"board": 2})  # two of one group, killed as the others
    try:
        print("\n".join(f"{measure}: {value}" for measure, value in report.rows()))
        assert report.kills >= 5 and report.broker_restarts == 1
        assert "board ×2" in report.consumers and "board.2" in report.peak_rss_mib, "the board's second instance ran"
        assert report.day_events > 1000, "a day with something in it"
        assert report.mismatches == [], "every read model equals a fresh fold; totals agree to the fen"
        assert report.crashes == [], "no worker died but those killed on purpose"
        assert report.totals[0] > 0 and report.lag_ms, "money moved, and the lag was measured"
        slowest = max(lag for samples in report.lag_ms_by_model.values() for lag in samples)
        assert report.lag_ms_by_model["board"] and slowest <= max(report.lag_ms), "a command waits for its slowest"
    finally:
        with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as conn:
            for schema in (report.run, f"{report.run}_rm"):
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
