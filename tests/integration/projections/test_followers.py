"""Any number of followers into one read-model store — API instances following the
log in-process, each a process with its own connections — and each event still
changes each read model once (issue 24, finding 11: two instances on one PostgreSQL
counted a reversal twice). Part of the demo's day is told while three followers
race on the same store; at the end every read model equals a fresh fold. (The Kafka
consumers apply through the same Projector.apply, and so take the same claim.)"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from typing import Any

from domain.clock import ManualClock
from domain.ids import SeededIds
from gridgov import bootstrap, demo
from gridgov.demo import DAY_START, Demo
from gridgov.settings import load_settings
from projections.registry import instances, named
from projections.engine.feed import Follower, LogFeed
from projections.engine.projector import Projector
from projections.engine.rebuild import verify
from projections.stores import ReadStore
from projections.stores.postgres import PostgresStore
from projections.stores.sqlite import SQLiteStore
from tests.fixtures.histories import dump
from tests.fixtures.stores import new_store

# Small pages of different sizes: many transactions, and a batch of one follower
# overlaps parts of two of another's.
PAGES = (7, 11, 13)


def another_connection(store: ReadStore) -> ReadStore:
    """The same store as another process opens it: connections of its own."""
    if isinstance(store, PostgresStore):
        return PostgresStore(store.conninfo, store.schema)
    assert isinstance(store, SQLiteStore)
    return SQLiteStore(store.path)


def follow(events: dict[str, str], store: ReadStore, page: int, stop: Any) -> None:
    """An API instance's in-process follower, in a process of its own (forked: it
    opens connections of its own and leaves the ones it inherits alone)."""
    app = bootstrap.application(load_settings(events))
    mine = another_connection(store)
    follower = Follower(LogFeed(app.eventlog, app.mapper, Projector(mine, instances()), page=page),
                        interval=0.005).start()
    stop.wait()
    follower.stop()
    mine.close()


def test_three_followers_on_one_store_apply_each_event_once(store: ReadStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(demo, "TICKS", 64)  # 07:00 to 12:20, then the evening's settling and appeal
    events = {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
              "SQLITE_DBNAME": f"{tempfile.mkdtemp(prefix='gridgov-followers-')}/events.sqlite"}
    clock = ManualClock(DAY_START)
    app = bootstrap.application(load_settings(events), clock=clock, ids=SeededIds(11))
    feed = bootstrap.log_feed(app, store)  # the tables, made once (making them together is another test's)
    fork = multiprocessing.get_context("fork")
    stop = fork.Event()
    followers = [fork.Process(target=follow, args=(events, store, page, stop), daemon=True) for page in PAGES]
    for follower in followers:
        follower.start()
    try:
        Demo(app, clock, 11, riders=6).run()
        head = app.eventlog.head()
        deadline = time.monotonic() + 60
        while feed.position() < head:
            assert time.monotonic() < deadline, "the followers fell behind"
            assert all(f.is_alive() for f in followers), "a follower died"
            time.sleep(0.05)
    finally:
        stop.set()
        for follower in followers:
            follower.join(30)
    differences = verify(app, store, named("all"), limit=10)
    assert differences == [], "\n".join(f"{d.projection}.{d.table} {d.key}: live {d.live} != fresh {d.fresh}"
                                         for d in differences)
    # And the same rows as one follower alone makes.
    alone, cleanup = new_store(store.dialect)
    try:
        bootstrap.log_feed(app, alone).catch_up()
        assert dump(store) == dump(alone)
    finally:
        cleanup()
