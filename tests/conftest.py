"""Fixtures shared by every test: a manual clock, and the application on each backend.

The `app` fixture runs a test once on SQLite and once on PostgreSQL. PostgreSQL
comes from scripts/postgres.sh (or POSTGRES_* settings); each test gets a schema
of its own, dropped afterwards. Locally a missing server skips those runs; in CI
(CI=true) it fails them, so a green CI always means both backends ran.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import Iterator

import psycopg
import pytest

from domain.clock import CHINA, ManualClock
from domain.service import GridGovernance
from tests.world import World

START = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)


def postgres_settings() -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "POSTGRES_PORT": os.environ.get("POSTGRES_PORT", "5432"),
        "POSTGRES_DBNAME": os.environ.get("POSTGRES_DBNAME", "gridgov"),
        "POSTGRES_USER": os.environ.get("POSTGRES_USER", "gridgov"),
        "POSTGRES_PASSWORD": os.environ.get("POSTGRES_PASSWORD", "gridgov"),
    }


def _dsn(settings: dict[str, str]) -> str:
    return (f"host={settings['POSTGRES_HOST']} port={settings['POSTGRES_PORT']} dbname={settings['POSTGRES_DBNAME']} "
            f"user={settings['POSTGRES_USER']} password={settings['POSTGRES_PASSWORD']} connect_timeout=3")


@pytest.fixture
def postgres_schema() -> Iterator[dict[str, str]]:
    """Settings for a fresh PostgreSQL schema, dropped after the test."""
    settings = postgres_settings()
    try:
        conn = psycopg.connect(_dsn(settings), autocommit=True)
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {e}")
        pytest.skip(f"PostgreSQL not reachable (start it with scripts/postgres.sh start): {e}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield {**settings, "POSTGRES_SCHEMA": schema}
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


@pytest.fixture
def sqlite_file(tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if request.param == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_file")
    request.applymarker(pytest.mark.postgres)
    return request.getfixturevalue("postgres_schema")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(backend: dict[str, str], clock: ManualClock) -> Iterator[GridGovernance]:
    application = GridGovernance(env=backend, clock=clock)
    yield application
    application.close()


@pytest.fixture
def world(app: GridGovernance, clock: ManualClock) -> World:
    return World(app, clock)
