"""The leaves of the transparency log come from the stored rows alone: a store's
tree is the same however it is read, and any change to a stored row by direct
SQL changes the leaf at that row's position and no other."""

from __future__ import annotations

import pytest

from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from transparency.leaves import leaf_data, leaf_hashes
from transparency.merkle import Tree
from tests.fixtures.world import START, World, tour_of_every_event_type


def leaves(app) -> list[tuple[int, bytes]]:  # type: ignore[no-untyped-def]
    return list(leaf_hashes(app.eventlog, decode=app.mapper.decode_state))


@pytest.fixture
def told(backend: dict[str, str]):  # type: ignore[no-untyped-def]
    clock = ManualClock(START)
    app = bootstrap.application(load_settings(backend), clock=clock)
    tour_of_every_event_type(World(app, clock))
    yield app
    app.close()


def test_a_leaf_holds_the_rows_own_fields(told) -> None:  # type: ignore[no-untyped-def]
    row = told.eventlog.page(0, 1)[0]
    data = leaf_data(row, told.mapper.decode_state)
    position, stream, version, topic, state = row
    head, _, payload = data.partition(b"\n" + str(len(state)).encode() + b"\n")
    assert payload == bytes(state)
    assert head.split(b"\n")[:5] == [b"gridgov-leaf-v1", str(position).encode(), stream.encode(),
                                      str(version).encode(), topic.encode()]


def test_one_leaf_per_stored_event_in_log_order(told) -> None:  # type: ignore[no-untyped-def]
    got = leaves(told)
    assert [position for position, _ in got] == list(range(1, told.head() + 1))
    assert len({h for _, h in got}) == len(got)  # each event's leaf is its own
    assert Tree([h for _, h in got]).size == told.head()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_payload_changed_by_sql_changes_its_leaf_only(request, kind: str) -> None:  # type: ignore[no-untyped-def]
    env = request.getfixturevalue("sqlite_file" if kind == "sqlite" else "postgres_schema")
    clock = ManualClock(START)
    app = bootstrap.application(load_settings(env), clock=clock)
    try:
        tour_of_every_event_type(World(app, clock))
        before = leaves(app)
        target = len(before) // 2
        if kind == "sqlite":
            with app.recorder.datastore.transaction(commit=True) as cursor:
                cursor.execute("UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), '\"meta\"', "
                               "'\"mEta\"') AS BLOB) WHERE rowid = ?", (target,))
        else:
            with app.recorder.datastore.transaction(commit=True) as cursor:
                cursor.execute(f'UPDATE "{env["POSTGRES_SCHEMA"]}".gridgov_events SET state = '
                               "convert_to(replace(convert_from(state, 'UTF8'), '\"meta\"', '\"mEta\"'), 'UTF8') "
                               "WHERE notification_id = %s", (target,))
        after = leaves(app)
        changed = [p for (p, a), (_, b) in zip(before, after) if a != b]
        assert changed == [target]
        assert Tree([h for _, h in before]).root() != Tree([h for _, h in after]).root()
    finally:
        app.close()
