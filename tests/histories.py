"""Event histories for projection tests, made once per seed by the demo simulator,
and read-model stores on each backend."""

from __future__ import annotations

import tempfile
import uuid
from functools import lru_cache
from typing import Any, Callable

import psycopg

from gridgov.demo import DAY_START, Demo
from domain.clock import ManualClock
from domain.events import Event
from domain.ids import SeededIds
from domain.service import GridGovernance
from projections.base import Projection
from projections.catalog import PROJECTIONS
from projections.stores.postgres import PostgresStore
from projections.stores.sqlite import SQLiteStore
from projections.stores import ReadStore
from tests.conftest import _dsn, postgres_settings


@lru_cache(maxsize=None)
def history(seed: int, riders: int = 24) -> tuple[GridGovernance, tuple[Event, ...]]:
    """A demo day on a SQLite event store (kept for the whole test session)."""
    folder = tempfile.mkdtemp(prefix="gridgov-history-")
    clock = ManualClock(DAY_START)
    app = GridGovernance(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/events.sqlite"},
                         clock=clock, ids=SeededIds(seed))
    Demo(app, clock, seed, riders=riders).run()
    notifications = app.recorder.select_notifications(start=1, limit=10**7)
    return app, tuple(app.mapper.to_domain_event(n) for n in notifications)


def new_store(kind: str) -> tuple[ReadStore, Callable[[], None]]:
    if kind == "sqlite":
        store = SQLiteStore(f"{tempfile.mkdtemp(prefix='gridgov-rm-')}/readmodels.sqlite")
        return store, store.close
    settings = postgres_settings()
    schema = f"rm_{uuid.uuid4().hex[:12]}"
    store = PostgresStore(_dsn(settings), schema)

    def drop() -> None:
        store.close()
        with psycopg.connect(_dsn(settings), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    return store, drop


def dump(store: ReadStore, projections: list[Projection] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table (positions aside: they depend on the
    source), sorted, for comparing two stores or two ways of feeding one."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for projection in projections or [cls() for cls in PROJECTIONS.values()]:
        for table in [*projection.tables, "streams"]:
            rows = store.read(f"SELECT * FROM {projection.t[table]}")  # noqa: S608
            out[projection.t[table]] = sorted(tuple(row) for row in rows)
    return out
