"""Rebuilding a read model while events arrive and readers read, and verifying
a live copy against a fresh one."""

from __future__ import annotations

import tempfile
import threading

from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from projections.board import BoardQuery, board
from projections.registry import named
from gridgov.bootstrap import log_feed
from projections.engine.rebuild import rebuild, verify
from projections.stores import ReadStore
from tests.fixtures.histories import SEEDS, history
from tests.fixtures.world import START, World


def test_a_read_model_is_rebuilt_behind_the_readers_backs(store: ReadStore) -> None:
    """Events keep arriving during the rebuild; readers only ever see a whole copy;
    afterwards the live feed goes on from the swapped-in positions."""
    folder = tempfile.mkdtemp()
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/e.sqlite"}),
                         clock=clock)
    world = World(app, clock)
    grid, rider = world.scene()
    for _ in range(150):
        world.piece(grid, rider)
    feed = log_feed(app, store)
    feed.catch_up()
    head_before = app.head()
    writing, reading = threading.Event(), threading.Event()
    seen: list[int] = []

    def keep_writing() -> None:
        while not writing.is_set():
            world.piece(grid, rider)

    def keep_reading() -> None:
        while not reading.is_set():
            seen.append(sum(board(store, BoardQuery(), clock.now())["counts"].values()))

    threads = [threading.Thread(target=keep_writing), threading.Thread(target=keep_reading)]
    for t in threads:
        t.start()
    try:
        report = rebuild(app, store, named("all"))
    finally:
        writing.set()
        reading.set()
        for t in threads:
            t.join()
    assert report.events > 0 and not report.dead
    assert app.head() > head_before, "no event arrived during the rebuild: the test proved nothing"
    assert seen and min(seen) >= 150, "a reader saw a half-built board"
    assert all(b >= a for a, b in zip(seen, seen[1:])), "the board went backwards"
    feed.catch_up()
    assert verify(app, store, named("all")) == []
    assert sum(board(store, BoardQuery(), clock.now())["counts"].values()) == len(
        [e for e in world.events() if type(e).__name__ == "TaskPublished"])


def test_verify_finds_a_tampered_row(store: ReadStore) -> None:
    app, events = history(SEEDS[1])
    log_feed(app, store).catch_up()
    assert verify(app, store, named("all")) == []
    with store.transaction() as tx:
        tx.execute("UPDATE balances_slices SET awarded = awarded + 1 WHERE account_id = "
                   "(SELECT MIN(account_id) FROM balances_slices)")
    differences = verify(app, store, named("balances"))
    assert [(d.projection, d.table) for d in differences] == [("balances", "slices")]
    assert differences[0].live[4] == differences[0].fresh[4] + 1
