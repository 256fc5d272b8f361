"""A store written before event names were declared: its events carry the module
path of the time as their topic (`domain.tasks:TaskClaimed`). The engine reads
such history as it reads its own: aggregates load and take new commands, and the
read models folded from it are the same rows."""

from __future__ import annotations

import psycopg
import pytest

from gridgov import bootstrap
from gridgov.settings import load_settings
from domain import commands as c
from domain.clock import ManualClock
from domain.events import EVENT_TYPES, legacy_topic
from application.service import GridGovernance
from gridgov.bootstrap import log_feed
from tests.fixtures.histories import dump
from tests.fixtures.stores import _dsn, new_store
from tests.fixtures.world import START, World, rider_actor, tour_of_every_event_type


def rewrite_topics_as_before(app: GridGovernance, env: dict[str, str]) -> int:
    """Every stored topic back to what the version before declared names wrote."""
    pairs = [(legacy_topic(cls), f"gridgov.{name}") for name, cls in EVENT_TYPES.items()]
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        with app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.executemany("UPDATE stored_events SET topic = ? WHERE topic = ?", pairs)
            cursor.execute("SELECT COUNT(*) FROM stored_events WHERE topic LIKE 'domain.%'")
            return int(cursor.fetchone()[0])
    with psycopg.connect(_dsn(env), autocommit=True) as conn:
        table = f'"{env["POSTGRES_SCHEMA"]}".gridgov_events'
        with conn.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET topic = %s WHERE topic = %s", pairs)
        return int(conn.execute(f"SELECT COUNT(*) FROM {table} WHERE topic LIKE 'domain.%%'").fetchone()[0])


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_history_stored_under_module_paths_reads_as_under_names(request, kind: str) -> None:  # type: ignore[no-untyped-def]
    env = request.getfixturevalue("sqlite_file" if kind == "sqlite" else "postgres_schema")
    clock = ManualClock(START)
    app = bootstrap.application(load_settings(env), clock=clock)
    world = World(app, clock)
    tour_of_every_event_type(world)
    grid, rider = world.scene()
    task = world.task(grid)
    head = app.head()
    names_store, drop_names = new_store("sqlite")
    legacy_store, drop_legacy = new_store("sqlite")
    try:
        log_feed(app, names_store).catch_up()
        expected = dump(names_store)
        app.close()

        legacy = bootstrap.application(load_settings(env), clock=clock)
        rewritten = rewrite_topics_as_before(legacy, env)
        assert rewritten == head, "every stored event now carries its legacy topic"

        log_feed(legacy, legacy_store).catch_up()
        assert dump(legacy_store) == expected, "the read models fold the legacy topics to the same rows"

        # The aggregates load from legacy history and take new commands, stored under names.
        world = World(legacy, clock)
        outcome = world.do(c.ClaimTask(task_id=task, rider_id=rider), rider_actor(rider))
        assert [row[3] for row in legacy.eventlog.page(head, 10)] == ["gridgov.TaskClaimed"]
        assert outcome.position == head + 1
        legacy.close()
    finally:
        drop_names()
        drop_legacy()
