"""Fresh stores outside pytest fixtures, for hypothesis state machines that need
one per example. Same rules as conftest: PostgreSQL is required in CI."""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Callable

import psycopg
import pytest

from tests.conftest import _dsn, postgres_settings

Cleanup = Callable[[], None]


def fresh_store(kind: str) -> tuple[dict[str, str], Cleanup]:
    if kind == "sqlite":
        folder = tempfile.TemporaryDirectory()
        return ({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder.name}/events.sqlite"},
                folder.cleanup)
    settings = postgres_settings()
    schema = f"p_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_dsn(settings), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(_dsn(settings), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    return {**settings, "POSTGRES_SCHEMA": schema}, drop


def require_postgres() -> None:
    try:
        psycopg.connect(_dsn(postgres_settings())).close()
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {e}")
        pytest.skip(f"PostgreSQL not reachable: {e}")


def fresh_app(kind: str):  # type: ignore[no-untyped-def]
    """A GridGovernance on a fresh store, its manual clock, a World to tell
    stories with, and the cleanup; for state machines that need one per example."""
    from domain.clock import ManualClock
    from domain.service import GridGovernance
    from tests.conftest import START
    from tests.world import World

    env, cleanup = fresh_store(kind)
    clock = ManualClock(START)
    app = GridGovernance(env=env, clock=clock)
    return app, clock, World(app, clock), cleanup


def run_machine(machine: type, backend: str, examples: int) -> None:  # type: ignore[type-arg]
    """Run a state machine whose class attribute `backend` picks the store."""
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    if backend == "postgres":
        require_postgres()
    subclass = type(f"{machine.__name__}_{backend}", (machine,), {"backend": backend})
    run_state_machine_as_test(subclass, settings=settings(max_examples=examples, stateful_step_count=30,
                                                          deadline=None, suppress_health_check=[HealthCheck.too_slow]))
