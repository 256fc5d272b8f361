"""A read model's fold is a function of its rows and the events, nothing more:
folded in memory, without a database, every read model holds exactly the rows
the engine writes into SQLite from the same log."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from application.service import GridGovernance
from gridgov.bootstrap import log_feed
from projections.base import Projection
from projections.registry import PROJECTIONS
from projections.facts import Fact, from_raw
from projections.stores.sqlite import SQLiteStore
from tests.fixtures.world import START, World, tour_of_every_event_type


@pytest.fixture(scope="module")
def story() -> tuple[GridGovernance, list[Fact]]:
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock=clock)
    tour_of_every_event_type(World(app, clock))
    facts = [from_raw(topic, stream, version, state) for _, stream, version, topic, state in app.eventlog.page(0, 10**6)]
    return app, facts


def in_memory(projection: Projection, facts: list[Fact]) -> dict[str, list[tuple[Any, ...]]]:
    rows = projection.rows(new_streams=True)  # nothing to look up: every row is made here
    for fact in facts:
        if fact.type in projection.types:
            rows.begin()
            projection.apply(rows, fact)
    return {table: sorted([spec.values_of(row) for row in rows.loaded[table].values() if row is not None]
                          + [spec.values_of(row) for row in rows.added[table]], key=repr)
            for table, spec in projection.tables.items()}


@pytest.mark.parametrize("name", sorted(PROJECTIONS))
def test_a_read_model_folded_in_memory_equals_the_engines_fold(story, tmp_path, name: str) -> None:  # type: ignore[no-untyped-def]
    app, facts = story
    folded = in_memory(PROJECTIONS[name](), facts)
    assert any(folded.values()), f"the tour made no {name} rows: the test would prove nothing"
    store = SQLiteStore(str(tmp_path / "rm.sqlite"))
    try:
        projection = PROJECTIONS[name]()
        applied = log_feed(app, store, [projection]).catch_up()
        assert not applied.dead
        engine = {table: sorted(map(tuple, store.read(f"SELECT * FROM {projection.table_names[table]}")), key=repr)
                  for table in projection.tables}
    finally:
        store.close()
    assert folded == engine
