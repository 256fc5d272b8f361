"""Tampering with the event store by direct SQL, on SQLite and PostgreSQL, and what
`verify` says: each kind of change is reported at the position it was made; and a
checkpoint an auditor kept catches a history rewritten with its tree recomputed
(and re-signed) to match, which nothing kept on the server can."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

import pytest

from domain.clock import ManualClock
from application.service import GridGovernance
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World, tour_of_every_event_type
from transparency.checkpoints import Signer
from transparency.log import TransparencyLog
from transparency.store import open_tree_store
from transparency.verify import Helper, Report, hash_range, verify

ORIGIN = "gridgov.test/tamper"
SIGNER = Signer.generate(ORIGIN)


class Store:
    """One backend's event table, for direct SQL: `{t}` its name, `{pos}` its position column."""

    def __init__(self, app: GridGovernance, kind: str, env: dict[str, str], clock: ManualClock) -> None:
        self.app, self.kind, self.env, self.clock = app, kind, env, clock
        self.table_names = "stored_events" if kind == "sqlite" else f'"{env["POSTGRES_SCHEMA"]}".gridgov_events'
        self.pos = "rowid" if kind == "sqlite" else "notification_id"
        self.prefix = "" if kind == "sqlite" else f'"{env["POSTGRES_SCHEMA"]}".'

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        statement = statement.format(t=self.table_names, pos=self.pos, prefix=self.prefix)
        if self.kind == "postgres":
            statement = statement.replace("?", "%s")
        with self.app.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(statement, params)

    def move(self, source: int, target: int) -> None:
        self.sql("UPDATE {t} SET {pos} = ? WHERE {pos} = ?", (target, source))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
    env = request.getfixturevalue("sqlite_file" if request.param == "sqlite" else "postgres_schema")
    clock = ManualClock(START)
    app = bootstrap.application(load_settings(env), clock=clock)
    world = World(app, clock)
    tour_of_every_event_type(world)
    grid, rider = world.scene()
    while app.eventlog.head() < 3 * 256 + 40:  # complete chunks (verify compares 256 leaves at once) and a tail
        with world.batched():  # ten pieces (~60 events) at a time: the tail stays short of a fourth chunk
            for _ in range(10):
                world.piece(grid, rider)
                clock.advance(60)
    assert app.eventlog.head() < 4 * 256
    tlog = tree_of(app)
    tlog.sequencer().catch_up()
    tlog.checkpoint()
    try:
        yield Store(app, request.param, env, clock)
    finally:
        app.close()


def tree_of(app: GridGovernance) -> TransparencyLog:
    return TransparencyLog(app.eventlog, open_tree_store(app.eventlog), ORIGIN, SIGNER, app.mapper.decode_state)


def check(store: Store, kept: str | None = None, deep: bool = False, helper: Helper | None = None) -> Report:
    """`helper`: the later half of the log read and hashed by it (split at any size)."""
    tlog = tree_of(store.app)
    return verify(store.app.eventlog, tlog.tree, store.app.mapper.decode_state, SIGNER.verifier(), kept, ORIGIN,
                  deep=deep, helper=helper, split_at_least=1)


def in_a_thread(store: Store) -> Helper:
    """The split of verify without a second process: the same work, beside this thread."""
    pool = ThreadPoolExecutor(1)
    return lambda after, stop: pool.submit(hash_range, store.app.eventlog, store.app.mapper.decode_state, after, stop)


def flip_a_byte(store: Store, at: int) -> None:
    store.sql("UPDATE {t} SET state = ? WHERE {pos} = ?", (_flipped(store, at), at))


def _flipped(store: Store, at: int) -> bytes:
    [row] = store.app.eventlog.page(at - 1, 1)
    state = bytearray(row[4])
    state[len(state) // 2] ^= 0x01
    return bytes(state)


def delete_a_row(store: Store, at: int) -> None:
    store.sql("DELETE FROM {t} WHERE {pos} = ?", (at,))


def swap_two_rows(store: Store, at: int) -> None:
    store.move(at, -1)
    store.move(at + 3, at)
    store.move(-1, at + 3)


def insert_a_forged_row(store: Store, at: int) -> None:
    """A forged event slipped into the middle of history: the rows after it moved up one."""
    [row] = store.app.eventlog.page(at - 1, 1)
    head = store.app.eventlog.head()
    for position in range(head, at - 1, -1):
        store.move(position, position + 1)
    stream = uuid.uuid4()
    store.sql("INSERT INTO {t} ({pos}, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
              (at, stream.hex if store.kind == "sqlite" else stream, 1, row[3], bytes(row[4])))


def change_a_version(store: Store, at: int) -> None:
    store.sql("UPDATE {t} SET originator_version = originator_version + 1000 WHERE {pos} = ?", (at,))


TAMPERINGS: dict[str, Callable[[Store, int], None]] = {
    "a flipped byte in a payload": flip_a_byte, "a deleted row": delete_a_row, "two rows swapped": swap_two_rows,
    "a forged row inserted": insert_a_forged_row, "a version changed": change_a_version}


def test_an_untouched_store_is_clean(store: Store) -> None:
    report = check(store)
    assert report.clean and report.first_bad is None
    assert report.events == report.tree_size == store.app.eventlog.head() and report.checkpoints == 1


@pytest.mark.parametrize("where,deep", [("in a complete chunk", False), ("in the last, incomplete chunk", False),
                                        ("in a complete chunk", True)], ids=["chunk", "tail", "deep"])
@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_each_tampering_is_reported_at_its_position(store: Store, tampering: str, where: str, deep: bool) -> None:
    head = store.app.eventlog.head()
    at = head // 2 if where == "in a complete chunk" else head - 10
    TAMPERINGS[tampering](store, at)
    report = check(store, deep=deep)
    assert not report.clean
    assert report.first_bad == at, report.problems
    assert any("root signed" in p or "longer than the log" in p for p in report.problems)  # and the checkpoint


@pytest.mark.parametrize("where", ["at the split", "in the later half's last chunk"])
@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_a_split_verify_reports_the_same_positions(store: Store, tampering: str, where: str) -> None:
    """Verify with the log's later half hashed elsewhere: the split falls at head // 2,
    so the first case changes the last row of the first half."""
    head = store.app.eventlog.head()
    at = head // 2 if where == "at the split" else head - 10
    TAMPERINGS[tampering](store, at)
    report = check(store, helper=in_a_thread(store))
    assert report.first_bad == at, report.problems
    assert report.problems == check(store).problems


def test_a_helper_process_verifies_the_same_log(store: Store) -> None:
    """The helper verify uses from the command line: a process of its own, which
    opens the store again from its settings."""
    from gridgov.bootstrap import log_hasher

    helper = log_hasher(load_settings(store.env), store.env)
    assert helper is not None
    clean = check(store, helper=helper)
    assert clean.clean and clean.events == store.app.eventlog.head()
    at = store.app.eventlog.head() * 3 // 4
    flip_a_byte(store, at)
    assert check(store, helper=helper).first_bad == at


@pytest.mark.parametrize("height,deep", [(3, True), (8, False), (8, True), (9, False)])
def test_a_changed_tree_node_is_reported(store: Store, height: int, deep: bool) -> None:
    """Any stored subtree with `deep`; by chunks, those of 256 leaves and up (what
    proofs above a chunk are made of), and leaves and nodes under a chunk that differs."""
    store.sql("UPDATE {prefix}tlog_nodes SET hash = ? WHERE key = ?", (bytes(32), height << 48))  # the first subtree of that height
    report = check(store, deep=deep)
    assert not report.clean
    assert any(f"subtree of height {height} at index 0 " in p for p in report.problems), report.problems


def test_a_kept_checkpoint_catches_a_history_rewritten_with_its_tree(store: Store) -> None:
    kept = tree_of(store.app).latest().note
    at = store.app.eventlog.head() // 3
    flip_a_byte(store, at)
    # The rewriter recomputes the whole tree from the rewritten rows and re-signs it
    # (it has the server's key): the store alone now looks clean.
    for table in ("tlog_nodes", "tlog_leaves", "tlog_checkpoints"):
        store.sql(f"DELETE FROM {{prefix}}{table}")
    rewritten = tree_of(store.app)
    rewritten.sequencer().catch_up()
    rewritten.checkpoint()
    assert check(store).clean
    report = check(store, kept=kept)
    assert not report.clean
    assert any("does not extend the kept checkpoint" in p for p in report.problems), report.problems


def test_events_written_after_the_tree_are_lag_not_damage(store: Store) -> None:
    # The app's own clock: a new schedule takes effect now or later, and the app's now is past START.
    world = World(store.app, store.clock)
    grid, rider = world.scene()
    world.piece(grid, rider)
    report = check(store)
    assert report.clean and report.unsequenced == store.app.eventlog.head() - report.tree_size > 0
