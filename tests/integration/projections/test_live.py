"""Read models kept live: the embedded follower catches up by itself, and a
reader never waits for a writer holding its transaction."""

from __future__ import annotations

import threading
import time

from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from projections.board import BoardQuery, board
from projections.registry import named
from gridgov.bootstrap import log_feed
from projections.engine.rebuild import verify
from projections.stores import ReadStore
from tests.fixtures.world import START, World


def test_the_embedded_follower_keeps_read_models_caught_up(store: ReadStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from projections.engine.feed import Follower

    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                              "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}), clock=clock)
    world = World(app, clock)
    follower = Follower(log_feed(app, store), interval=0.01).start()
    try:
        grid, rider = world.scene()
        tasks = [world.piece(grid, rider)[0] for _ in range(5)]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if board(store, BoardQuery(), clock.now())["counts"].get("verified") == len(tasks):
                break
            time.sleep(0.02)
        assert board(store, BoardQuery(), clock.now())["counts"] == {"verified": 5}
    finally:
        follower.stop()
    assert verify(app, store, named("all")) == []


def test_a_reader_does_not_wait_for_a_writer_holding_its_transaction(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Rebuild helpers write into the same SQLite file as readers read; a reader that
    # took the write lock would wait for each of their batches (or time out).
    from projections.stores.sqlite import SQLiteStore

    store = SQLiteStore(str(tmp_path / "rm.sqlite"))
    with store.transaction() as tx:
        tx.execute("CREATE TABLE t (x)")
        tx.execute("INSERT INTO t VALUES (1)")
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO t VALUES (2)")
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        assert store.read("SELECT x FROM t") == [(1,)]  # the last commit's snapshot
    finally:
        release.set()
        thread.join()
    assert store.read("SELECT x FROM t ORDER BY x") == [(1,), (2,)]
