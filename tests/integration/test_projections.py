"""Read models: exactly-once effect under any delivery order Kafka allows, the
same answers on SQLite and PostgreSQL, point-in-time balances, rebuild and verify."""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections import defaultdict
from datetime import timedelta
from typing import Iterator

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.clock import ManualClock
from domain.service import GridGovernance
from domain.subsidies import PayoutSettled, SubsidyAwarded, SubsidyReversed
from domain.tasks import TaskClaimed
from projections.board import Board
from projections.balances import balance_as_of, district_budgets, rider_balances
from projections.board import BoardQuery, board
from projections.catalog import PROJECTIONS, named
from projections.engine.feed import LogFeed, feed_for
from projections.audit import award_chain
from projections.points import Points, rider_points
from projections.facts import from_event
from projections.engine.projector import Delivery, Filler, Projector
from projections.engine.rebuild import rebuild, verify
from projections.stats import statistics_for
from projections.stores import ReadStore
from tests.fixtures.histories import SEEDS, dump, history, projected_in_order, reference
from tests.fixtures.projections import Rejecting, Slow, Unflushable, Unwritable
from tests.fixtures.stores import new_store, require_postgres
from tests.fixtures.world import START, World, rider_actor


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request) -> Iterator[ReadStore]:  # type: ignore[no-untyped-def]
    if request.param == "postgres":
        require_postgres()
    read_store, cleanup = new_store(request.param)
    yield read_store
    cleanup()


def kafka_like(events, rng: random.Random, partitions: int = 3) -> list[Delivery]:
    """Any interleaving of streams that keeps each stream's own order, with
    redeliveries of earlier events (a relay that re-publishes after a crash, a
    consumer that re-reads after a rebalance)."""
    streams: dict = defaultdict(list)
    for event in events:
        streams[event.originator_id].append(event)
    pending = {stream: list(evs) for stream, evs in streams.items()}
    sent: dict = defaultdict(list)
    offsets = [0] * partitions
    out: list[Delivery] = []
    while pending:
        stream = rng.choice(list(pending))
        partition = hash(stream) % partitions
        if sent[stream] and rng.random() < 0.15:
            event = rng.choice(sent[stream])  # a redelivery
        else:
            event = pending[stream].pop(0)
            sent[stream].append(event)
            if not pending[stream]:
                del pending[stream]
        offsets[partition] += 1
        out.append(Delivery(from_event(event), f"gridgov.events/{partition}", offsets[partition]))
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), order=st.integers(0, 2**32), batch=st.integers(1, 300))
def test_any_kafka_order_with_redeliveries_gives_the_same_read_models(seed: int, order: int, batch: int) -> None:
    _, events = history(seed)
    deliveries = kafka_like(events, random.Random(order))
    read_store, cleanup = new_store("sqlite")
    try:
        projector = Projector(read_store, [cls() for cls in PROJECTIONS.values()])
        projector.create_tables()
        for i in range(0, len(deliveries), batch):
            result = projector.apply(deliveries[i:i + batch])
            assert not result.dead
        assert dump(read_store) == reference(seed)
    finally:
        cleanup()


def test_sqlite_and_postgres_read_models_answer_alike() -> None:
    require_postgres()
    app, events = history(SEEDS[0])
    stores = [new_store("sqlite"), new_store("postgres")]
    try:
        for read_store, _ in stores:
            feed_for(app, read_store, [cls() for cls in PROJECTIONS.values()]).catch_up()
        (lite, _), (pg, _) = stores
        assert dump(lite) == dump(pg)
        now = app.clock.now()
        rider = str(next(e.rider_id for e in events if isinstance(e, SubsidyAwarded)))
        piece = str(next(e.piece_id for e in events if isinstance(e, SubsidyAwarded)))
        for query in (lambda s: board(s, BoardQuery(district="温江", limit=7), now),
                      lambda s: board(s, BoardQuery(status="open"), now),
                      lambda s: rider_balances(s, rider), lambda s: rider_points(s, rider),
                      lambda s: district_budgets(s, "锦江"), lambda s: award_chain(s, piece),
                      lambda s: statistics_for(s), lambda s: statistics_for(s, "青羊"),
                      lambda s: balance_as_of(s, rider, now - timedelta(hours=6))):
            assert query(lite) == query(pg)
    finally:
        for _, cleanup in stores:
            cleanup()


def test_an_award_chain_is_every_step_of_its_clue_task_appeal_and_piece(store: ReadStore) -> None:
    # The query goes by two indexes (the steps' key, and pieces by subject); the
    # reference is a scan of every step, by what each step is about.
    app, events = history(SEEDS[0])
    feed_for(app, store, [cls() for cls in PROJECTIONS.values()]).catch_up()
    columns = ("stream_id", "version", "subject_id", "kind", "district", "actor_id", "actor_role", "at",
               "correlation_id", "detail")
    steps = [dict(zip(columns, row)) for row in store.read(f"SELECT {', '.join(columns)} FROM audit_steps")]
    pieces = {str(e.piece_id) for e in events if isinstance(e, SubsidyAwarded)}
    assert len(pieces) > 5
    for piece in sorted(pieces):
        chain = award_chain(store, piece)
        assert chain is not None
        award = next(s for s in steps if s["subject_id"] == piece and s["kind"] == "SubsidyAwarded")
        about = {piece, chain["clue_id"], orjson.loads(award["detail"]).get("appeal_id")} - {None}
        wanted = sorted((s for s in steps if s["subject_id"] in about),
                        key=lambda s: (s["at"], s["stream_id"], s["version"]))
        assert [(s["stream_id"], s["version"]) for s in chain["steps"]] == \
            [(s["stream_id"], s["version"]) for s in wanted]
        assert any(s["kind"] == "SubsidyAwarded" for s in chain["steps"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_balance_at_an_instant_is_the_fold_of_the_events_up_to_it(data: st.DataObject) -> None:
    app, events = history(SEEDS[0])
    ledger = [e for e in events if isinstance(e, (SubsidyAwarded, SubsidyReversed, PayoutSettled))]
    rider_of = {e.originator_id: e.rider_id for e in ledger if isinstance(e, SubsidyAwarded)}
    rider = data.draw(st.sampled_from(sorted({e.rider_id for e in ledger if isinstance(e, SubsidyAwarded)}, key=str)))
    instant = data.draw(st.sampled_from([e.timestamp for e in ledger])) + timedelta(
        seconds=data.draw(st.sampled_from([-1, 0, 1, 3600])))
    expected = sum(
        (e.fen if isinstance(e, SubsidyAwarded) else -e.fen)
        for e in ledger if rider_of[e.originator_id] == rider and e.timestamp <= instant)
    read_store = _projected_store(SEEDS[0])
    assert balance_as_of(read_store, str(rider), instant) == expected


_STORES: dict[int, ReadStore] = {}


def _projected_store(seed: int) -> ReadStore:
    if seed not in _STORES:
        app, _ = history(seed)
        read_store, _ = new_store("sqlite")
        feed_for(app, read_store, [cls() for cls in PROJECTIONS.values()]).catch_up()
        _STORES[seed] = read_store
    return _STORES[seed]


def test_a_read_model_is_rebuilt_behind_the_readers_backs(store: ReadStore) -> None:
    """Events keep arriving during the rebuild; readers only ever see a whole copy;
    afterwards the live feed goes on from the swapped-in positions."""
    folder = tempfile.mkdtemp()
    clock = ManualClock(START)
    app = GridGovernance(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/e.sqlite"},
                         clock=clock)
    world = World(app, clock)
    grid, rider = world.scene()
    for _ in range(150):
        world.piece(grid, rider)
    feed = feed_for(app, store, [cls() for cls in PROJECTIONS.values()])
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


def test_an_event_that_cannot_be_applied_is_dead_lettered_and_the_rebuild_goes_on(store: ReadStore) -> None:
    app, events = history(SEEDS[0])
    victim = next(e for e in events if isinstance(e, TaskClaimed))

    class Fragile(Board):
        def apply(self, rows, fact):  # type: ignore[no-untyped-def]
            if fact.stream == str(victim.originator_id) and fact.version == victim.originator_version:
                raise ValueError("cannot apply this one")
            super().apply(rows, fact)

    report = rebuild(app, store, [Fragile])
    assert [(name, error) for name, _, error in report.dead] == [("board", "ValueError: cannot apply this one")]
    position = report.dead[0][1]
    rows = store.read("SELECT projection, position, stream_id, version, event_type FROM projection_dead_letters")
    assert rows == [("board", position, str(victim.originator_id), victim.originator_version, "TaskClaimed")]
    notification = app.recorder.select_notifications(start=position, limit=1)[0]
    assert (notification.originator_id, notification.originator_version) == (victim.originator_id,
                                                                              victim.originator_version)
    assert report.events > 1000


def test_a_rebuild_split_across_processes_makes_the_same_read_models_as_one_process(
        store: ReadStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import projections.engine.rebuild as rebuilding

    app, events = history(SEEDS[0])
    classes = [Rejecting, *named("all")[1:]]  # the board that cannot apply rejections, and the rest
    monkeypatch.setenv("REBUILD_WORKERS", "1")
    alone = rebuild(app, store, classes)
    in_one = dump(store)
    letters = store.read("SELECT projection, position, stream_id, version FROM projection_dead_letters")
    with store.transaction() as tx:
        tx.execute("DELETE FROM projection_dead_letters")

    helped: list[object] = []
    original = rebuilding.fill_in_parallel

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        helped.append(original(*args, **kwargs))
        return helped[-1]

    monkeypatch.setattr(rebuilding, "fill_in_parallel", spy)
    monkeypatch.setenv("REBUILD_WORKERS", "2")
    split = rebuild(app, store, classes)
    assert helped and helped[0] is not None, "the rebuild did not use helper processes"
    assert dump(store) == in_one
    assert sorted(split.dead) == sorted(alone.dead) and len(alone.dead) == len(
        [e for e in events if type(e).__name__ == "CompletionRejected"]) > 0
    assert sorted(store.read("SELECT projection, position, stream_id, version FROM projection_dead_letters")) == \
        sorted(letters)
    assert (split.events, split.position) == (alone.events, alone.position)
    assert verify(app, store, named("all")[1:]) == []


KILLED_REBUILD = """
import pickle, sys
import projections.engine.rebuild as rebuilding
from tests.fixtures.projections import Slow

rebuilding.REBUILD_PAGE = 40  # under a second a page, with Slow
app_class, env, opener = pickle.load(sys.stdin.buffer)
rebuilding.rebuild(app_class(env=env), opener(), [Slow], progress=lambda position, head: print(position, flush=True))
"""


def test_a_rebuild_killed_mid_fill_leaves_no_helper_writing_and_the_next_rebuild_is_right(
        store: ReadStore) -> None:
    """SIGKILL the rebuilding process while its helpers fill: the helpers stop at once
    (a helper left running would write its next page into the shadow tables, which a
    new rebuild makes again), the live copy is untouched, and a rebuild then is right."""
    import os
    import pickle
    import signal
    import subprocess
    import sys
    from functools import partial

    from projections.stores.postgres import PostgresStore
    from projections.stores.sqlite import SQLiteStore

    app, _ = history(SEEDS[0])
    feed_for(app, store, [Board()]).catch_up()
    live = dump(store, [Board()])
    opener = partial(SQLiteStore, store.path) if isinstance(store, SQLiteStore) else \
        partial(PostgresStore, store.conninfo, store.schema)
    rebuilding = subprocess.Popen([sys.executable, "-c", KILLED_REBUILD], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env={**os.environ, "REBUILD_WORKERS": "2"})
    assert rebuilding.stdin is not None and rebuilding.stdout is not None
    pickle.dump((type(app), app.env, opener), rebuilding.stdin)
    rebuilding.stdin.close()
    assert rebuilding.stdout.readline().strip().isdigit()  # a first page filled, in helpers
    rebuilding.send_signal(signal.SIGKILL)
    rebuilding.wait()

    def filled() -> int:
        return sum(store.read(f"SELECT COUNT(*) FROM {table}")[0][0] for table in Slow(prefix="shadow_").t.values())

    before = filled()
    assert before > 0
    time.sleep(3)  # several pages' time: a helper still running would have written one
    assert filled() == before
    assert dump(store, [Board()]) == live
    rebuild(app, store, [Board])
    assert dump(store, [Board()]) == live
    assert verify(app, store, [Board]) == []


def test_a_helper_fills_its_share_from_the_start_whatever_another_share_has_reached(store: ReadStore) -> None:
    """The shares of a projection fill the same shadow tables, positions included: a
    helper that starts after another has committed a page must still read the log
    from its start, not from where that other share has got to."""
    from eventlog import share_of
    from projections.engine.parallel import FillJob, fill_shares

    app, events = history(SEEDS[0])
    stop = app.head()
    shares = [FillJob(cls, 1, 2) for cls in named("all")]
    opener = store.for_helper()
    assert opener is not None
    other = opener()  # the other share, done already: the log read to its end
    with other.transaction() as tx:
        for share in shares:
            shadow = share.shadow()
            shadow.create(tx, indexes=False)
            tx.execute(shadow.sql("INSERT INTO {positions} VALUES ('log', ?)"), (stop,))
    other.close()
    said: list[tuple[object, ...]] = []
    fill_shares(type(app), app.env, opener, shares, stop, 1000, lambda *message: said.append(message))
    mine = sum(1 for e in events for cls in named("all")
               if type(e).__name__ in cls().types and share_of(str(e.originator_id), 2) == 1)
    assert said[-1][:2] == ("done", mine) and mine > 1000


@pytest.mark.parametrize("page", [1, 7, 60])
def test_a_fill_in_stream_order_makes_what_the_log_in_order_makes_wherever_pages_end(
        store: ReadStore, page: int) -> None:
    """A fill reads the log stream by stream, a page ending where a stream does, and
    looks nothing up for a stream it has not met; a stream longer than a page goes
    on in the next one, whose rows are then looked up (the demo's month accounts
    run to dozens of events)."""
    app, _ = history(SEEDS[0])
    projector = Filler(store, [cls() for cls in PROJECTIONS.values()])
    projector.create_tables()
    feed = LogFeed(app.eventlog, app.mapper, projector, page=page)
    reported: list[int] = []
    feed.fill(app.head(), progress=reported.append)
    assert dump(store) == projected_in_order(SEEDS[0])
    assert reported == sorted(reported) and reported[-1] == app.head()


@pytest.mark.parametrize("refusing", [Unwritable, Unflushable])
def test_a_fill_the_database_refuses_part_of_makes_what_the_log_in_order_makes(store: ReadStore,
                                                                                refusing: type[Points]) -> None:
    """Folding one event at a time after a refused batch, each event's rows are where
    the one before it wrote them: in the copy, not in memory, and must be looked up
    even for a stream the fill had not met before that batch. (A fill folds a batch
    of new streams before its transaction: a batch that fails is done again in one.)"""
    app, events = history(SEEDS[0])
    redemptions = len([e for e in events if type(e).__name__ == "PointsRedeemed"])
    reference, cleanup = new_store("sqlite")
    try:
        for target, fill in ((reference, False), (store, True)):
            projector = Filler(target, [refusing()])
            projector.create_tables()
            feed = LogFeed(app.eventlog, app.mapper, projector, page=500)
            applied = feed.fill(app.head()) if fill else feed.catch_up(app.head(), after=0)
            assert len(applied.dead) == redemptions > 0
            assert all("a pending transaction" not in error for _, _, error in applied.dead)
        assert dump(store, [refusing()]) == dump(reference, [refusing()])
    finally:
        cleanup()


def test_a_partition_read_to_offset_zero_is_tracked(store: ReadStore) -> None:
    # Kafka offsets start at 0: a partition whose only message was applied must say
    # so, or its consumer lag never comes down to 0 (found by the HTTP-over-Kafka test).
    app, events = history(SEEDS[0])
    projector = Projector(store, [Board()])
    projector.create_tables()
    first = next(e for e in events if type(e).__name__ == "TaskPublished")
    projector.apply([Delivery(from_event(first), "gridgov.tasks.v1/3", 0)])
    assert store.read("SELECT source, position FROM board_positions") == [("gridgov.tasks.v1/3", 0)]


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


def test_verify_finds_a_tampered_row(store: ReadStore) -> None:
    app, events = history(SEEDS[1])
    feed_for(app, store, [cls() for cls in PROJECTIONS.values()]).catch_up()
    assert verify(app, store, named("all")) == []
    with store.transaction() as tx:
        tx.execute("UPDATE balances_slices SET awarded = awarded + 1 WHERE account_id = "
                   "(SELECT MIN(account_id) FROM balances_slices)")
    differences = verify(app, store, named("balances"))
    assert [(d.projection, d.table) for d in differences] == [("balances", "slices")]
    assert differences[0].live[4] == differences[0].fresh[4] + 1


def test_the_embedded_follower_keeps_read_models_caught_up(store: ReadStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from projections.engine.feed import Follower

    clock = ManualClock(START)
    app = GridGovernance(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                              "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}, clock=clock)
    world = World(app, clock)
    follower = Follower(feed_for(app, store, [cls() for cls in PROJECTIONS.values()]), interval=0.01).start()
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


def test_a_month_earned_in_two_districts_audits_each_step_in_its_own_district(store: ReadStore) -> None:
    # A subsidy account is the rider's month, whatever district each piece was in (one
    # in nine of the demo's accounts spans two). A cap or a reversal names only its
    # piece: it belongs to the district of that piece's award, not the account's first.
    from domain import commands as c
    from projections.audit import district_history

    clock = ManualClock(START)
    app = GridGovernance(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"},
                         clock=clock)
    jinjiang, wenjiang = World(app, clock, "锦江"), World(app, clock, "温江")
    home, rider = jinjiang.scene()
    jinjiang.piece(home, rider)
    away = wenjiang.grid()
    wenjiang.schedule(cap_day=800)  # the day's second piece (500 fen) is capped to 300
    wenjiang.budget()
    wenjiang.do(c.JoinGrid(rider_id=rider, grid_id=away), rider_actor(rider))
    piece, _ = wenjiang.piece(away, rider)
    wenjiang.do(c.ReverseAward(rider_id=rider, period=wenjiang.period, piece_id=piece, reason="photo unclear"),
                wenjiang.admin)
    feed_for(app, store, [cls() for cls in PROJECTIONS.values()]).catch_up()

    def money_steps(district: str) -> list[tuple[str, str]]:
        return [(s["kind"], s["subject_id"]) for s in district_history(store, district, limit=1000)
                if s["kind"].startswith("Subsidy")]

    assert money_steps("温江") == [("SubsidyAwarded", str(piece)), ("SubsidyCapped", str(piece)),
                                   ("SubsidyReversed", str(piece))]
    assert [kind for kind, subject in money_steps("锦江")] == ["SubsidyAwarded"]
    ledger = store.read("SELECT kind, district, delta FROM balances_ledger ORDER BY version")
    assert [tuple(row) for row in ledger] == [("award", "锦江", 500), ("award", "温江", 300),
                                              ("reversal", "温江", -300)]
    assert verify(app, store, named("all")) == []
    app.close()


def test_a_table_added_by_a_new_version_is_made_and_the_operator_told_to_rebuild(
        store: ReadStore, caplog: pytest.LogCaptureFixture) -> None:
    app, _ = history(SEEDS[0])
    feed_for(app, store, [cls() for cls in PROJECTIONS.values()])  # makes the tables
    with store.transaction() as tx:  # the audit trail as an earlier version made it: no pieces table
        tx.execute("DROP TABLE audit_pieces")
    with caplog.at_level("WARNING"):
        feed = feed_for(app, store, [cls() for cls in PROJECTIONS.values()])
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
                Projector(store, [cls() for cls in PROJECTIONS.values()]).create_tables()
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
