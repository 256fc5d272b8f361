"""Making the read-model tables: a table a new version adds is made and the
operator told to rebuild; processes starting at once on an empty PostgreSQL all get theirs."""

from __future__ import annotations

from projections.registry import instances

import threading

import pytest

from projections.registry import named
from gridgov.bootstrap import log_feed
from projections.engine.projector import Projector
from projections.engine.rebuild import rebuild, verify
from projections.stores import ReadStore
from tests.fixtures.histories import SEEDS, history
from tests.fixtures.stores import require_postgres


def test_a_table_added_by_a_new_version_is_made_and_the_operator_told_to_rebuild(
        store: ReadStore, caplog: pytest.LogCaptureFixture) -> None:
    app, _ = history(SEEDS[0])
    log_feed(app, store)  # makes the tables
    with store.transaction() as tx:  # the audit trail as an earlier version made it: no pieces table
        tx.execute("DROP TABLE audit_pieces")
    with caplog.at_level("WARNING"):
        feed = log_feed(app, store)
    assert "audit_pieces new in this version" in caplog.text and "projections rebuild audit" in caplog.text
    feed.catch_up()
    assert store.read("SELECT COUNT(*) FROM projection_dead_letters")[0][0] == 0
    rebuild(app, store, named("audit"))
    assert verify(app, store, named("all")) == []


@pytest.mark.postgres
def test_processes_starting_at_once_on_an_empty_postgresql_all_get_their_tables() -> None:
    """The API and each consumer make the read-model schema and tables at start; on
    an empty database they start at the same moment. PostgreSQL's IF NOT EXISTS
    does not hold against a concurrent CREATE (a unique violation in pg_type)."""
    import uuid

    import psycopg

    from projections.stores.postgres import PostgresStore
    from tests.fixtures.stores import _dsn, postgres_settings

    require_postgres()
    settings = postgres_settings()
    schema = f"race_{uuid.uuid4().hex[:12]}"
    starting = threading.Barrier(6)
    errors: list[BaseException] = []

    def start() -> None:
        starting.wait()
        try:
            store = PostgresStore(_dsn(settings), schema, pool_size=1)
            try:
                Projector(store, instances()).create_tables()
            finally:
                store.close()
        except BaseException as e:  # noqa: BLE001 - collected, asserted below
            errors.append(e)

    try:
        for _ in range(3):
            with psycopg.connect(_dsn(settings), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            threads = [threading.Thread(target=start) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
    finally:
        with psycopg.connect(_dsn(settings), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
