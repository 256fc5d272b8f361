"""The event-log adapter's contract (eventlog.EventLog), one suite run on every
backend: the library's in-memory recorder, a SQLite file, a fresh PostgreSQL schema.

As the eventsourcing library tests its recorders: `EventLogContract` holds the tests
and an abstract `construct_env`; each backend is a subclass that says how its event
store is made. The base class is not collected (no Test prefix); the subclasses are.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from typing import Iterator

import pytest

from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from application.service import GridGovernance
from application.unit_of_work import UnitOfWork
from domain.aggregate import Context
from domain.events import Actor, Role
from domain.grids import Grid
from eventlog.keys import writes_keys
from eventlog import EVERY, EventLog, Raw, first_cursor, open_log, share_of, stored_event
from eventlog.popo import POPOLog
from eventlog.postgres import PostgresLog
from eventlog.sqlite import SQLiteLog
from tests.fixtures.world import START, World

PIECES = 4  # a scene and four paid pieces: a few dozen events in a dozen streams, some of them long


class EventLogContract(ABC):
    """What every backend's log adapter must do. A subclass says how its store is made."""

    # The adapter class `open_log` picks for this backend's recorder.
    log_class: type[EventLog]
    # Whether the backend reads the log in (stream id, version) order.
    reads_streams: bool

    @abstractmethod
    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        """The library's settings for a fresh, empty event store of this backend."""

    # --- fixtures -------------------------------------------------------------------------

    @pytest.fixture
    def app(self, request: pytest.FixtureRequest) -> Iterator[GridGovernance]:
        """An application on a fresh store, with a story written through it."""
        clock = ManualClock(START)
        application = bootstrap.application(load_settings(self.construct_env(request)), clock=clock)
        world = World(application, clock)
        grid, rider = world.scene()
        for _ in range(PIECES):
            world.piece(grid, rider)
            clock.advance(60)
        world.report(rider, grid)
        try:
            yield application
        finally:
            application.close()

    @pytest.fixture
    def log(self, app: GridGovernance) -> EventLog:
        return app.eventlog

    @pytest.fixture
    def rows(self, log: EventLog) -> list[Raw]:
        """The whole log, in one page."""
        return log.page(after=0, limit=10**6)

    # --- the adapter ----------------------------------------------------------------------

    def test_open_log_picks_the_adapter_of_the_recorder(self, app: GridGovernance) -> None:
        assert type(app.eventlog) is self.log_class
        again = open_log(app.recorder)
        assert type(again) is self.log_class
        assert again.head() == app.eventlog.head()

    def test_rows_are_plain_tuples_the_mapper_takes(self, app: GridGovernance, rows: list[Raw]) -> None:
        assert len(rows) > 20
        for position, stream, version, topic, state in rows:
            assert type(position) is int and type(version) is int
            assert isinstance(stream, str) and stream == str(uuid.UUID(stream))  # hyphenated, lower case
            assert isinstance(topic, str) and topic
            assert isinstance(state, bytes)
        events = [app.mapper.to_domain_event(stored_event(row)) for row in rows]
        assert [(str(e.originator_id), e.originator_version) for e in events] == [(r[1], r[2]) for r in rows]
        notifications = app.recorder.select_notifications(start=1, limit=10**6)
        assert [(n.id, str(n.originator_id), n.originator_version, n.topic) for n in notifications] == \
            [r[:4] for r in rows]

    @pytest.mark.parametrize("gt, lte, desc, limit", [(gt, lte, desc, limit) for gt in (None, 1) for lte in (None, 3)
                                                      for desc in (False, True) for limit in (None, 2)])
    def test_a_streams_events_are_selected_as_the_library_says(self, app: GridGovernance, rows: list[Raw],
                                                               gt: int | None, lte: int | None, desc: bool,
                                                               limit: int | None) -> None:
        """Every shape of the library's select_events (PostgreSQL's recorder writes its own query text)."""
        stream = max({r[1] for r in rows}, key=lambda s: sum(r[1] == s for r in rows))  # the longest stream
        expected = [(r[1], r[2], r[3], r[4]) for r in rows if r[1] == stream and (gt is None or r[2] > gt)
                    and (lte is None or r[2] <= lte)]
        expected = (expected[::-1] if desc else expected)[:limit]
        got = app.recorder.select_events(uuid.UUID(stream), gt=gt, lte=lte, desc=desc, limit=limit)
        assert [(str(e.originator_id), e.originator_version, e.topic, bytes(e.state)) for e in got] == expected
        assert len(expected) >= 1 + (limit is None and gt is None and lte is None)

    # --- head and page --------------------------------------------------------------------

    def test_head_is_the_last_position(self, log: EventLog, rows: list[Raw]) -> None:
        assert log.head() == rows[-1][0]
        assert log.page(after=log.head(), limit=10) == []

    def test_head_of_an_empty_log_is_zero(self, request: pytest.FixtureRequest) -> None:
        application = bootstrap.application(load_settings(self.construct_env(request)), clock=ManualClock(START))
        try:
            assert application.eventlog.head() == 0
            assert application.eventlog.page(after=0, limit=10) == []
        finally:
            application.close()

    def test_a_page_is_in_log_order(self, rows: list[Raw]) -> None:
        positions = [r[0] for r in rows]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)

    def test_a_page_holds_at_most_limit_rows_after_after(self, log: EventLog, rows: list[Raw]) -> None:
        assert log.page(after=0, limit=3) == rows[:3]
        assert log.page(after=rows[2][0], limit=3) == rows[3:6]
        assert log.page(after=rows[-2][0], limit=3) == rows[-1:]
        assert len(log.page(after=0, limit=1)) == 1

    def test_paging_through_reads_every_row_once(self, log: EventLog, rows: list[Raw]) -> None:
        read: list[Raw] = []
        after = 0
        while page := log.page(after=after, limit=4):
            assert len(page) <= 4
            read += page
            after = page[-1][0]
        assert read == rows

    def test_a_page_stops_at_stop(self, log: EventLog, rows: list[Raw]) -> None:
        assert log.page(after=0, limit=100, stop=rows[5][0]) == rows[:6]
        assert log.page(after=rows[1][0], limit=100, stop=rows[4][0]) == rows[2:5]
        assert log.page(after=rows[1][0], limit=2, stop=rows[4][0]) == rows[2:4]
        assert log.page(after=rows[4][0], limit=100, stop=rows[4][0]) == []

    def test_a_page_of_topics_holds_only_those_in_log_order(self, log: EventLog, rows: list[Raw]) -> None:
        topics = sorted({r[3] for r in rows})
        assert len(topics) > 3
        for chosen in ([topics[0]], topics[1:3]):
            wanted = [r for r in rows if r[3] in chosen]
            assert wanted and log.page(after=0, limit=10**6, topics=chosen) == wanted
            assert log.page(after=wanted[0][0], limit=1, topics=chosen) == wanted[1:2]
        assert log.page(after=0, limit=10**6, topics=["gridgov.NoSuchEvent"]) == []

    def test_a_page_of_a_share_holds_every_row_of_that_share(self, log: EventLog, rows: list[Raw]) -> None:
        # A backend may return other streams too (the caller checks); none of the share's may be missing.
        for part in range(2):
            page = log.page(after=0, limit=10**6, share=(part, 2))
            assert [r for r in page if share_of(r[1], 2) == part] == [r for r in rows if share_of(r[1], 2) == part]
        assert log.page(after=0, limit=10**6, share=EVERY) == rows

    # --- positions and streams ------------------------------------------------------------

    def test_position_of_an_event_is_its_position_in_the_pages(self, log: EventLog, rows: list[Raw]) -> None:
        for position, stream, version, _, _ in rows:
            assert log.position_of(uuid.UUID(stream), version) == position

    def test_changes_after_a_position_name_the_pages_streams_and_versions(self, log: EventLog,
                                                                         rows: list[Raw]) -> None:
        expected = [(position, uuid.UUID(stream), version) for position, stream, version, _, _ in rows]
        middle = rows[len(rows) // 2][0]
        assert log.changes_after(0, len(rows) + 5) == expected
        assert log.changes_after(middle, 3) == [e for e in expected if e[0] > middle][:3]
        assert log.changes_after(log.head(), 10) == []

    def test_position_of_a_missing_event_is_none(self, log: EventLog, rows: list[Raw]) -> None:
        assert log.position_of(uuid.uuid4(), 1) is None
        _, stream, _, _, _ = rows[0]
        last = max(r[2] for r in rows if r[1] == stream)
        assert log.position_of(uuid.UUID(stream), last + 1) is None

    def test_positions_of_many_events_at_once_are_each_ones(self, log: EventLog, rows: list[Raw]) -> None:
        missing = [(uuid.uuid4(), 1), (uuid.UUID(rows[0][1]), 10**6)]
        asked = [(uuid.UUID(stream), version) for _, stream, version, _, _ in rows] + missing
        assert log.positions_of(asked + asked[:5]) == {(uuid.UUID(r[1]), r[2]): r[0] for r in rows}
        assert log.positions_of([]) == {}

    def test_a_stream_is_its_events_in_version_order(self, log: EventLog, rows: list[Raw]) -> None:
        streams = {r[1] for r in rows}
        assert any(sum(r[1] == s for r in rows) > 3 for s in streams), "no long stream: the test proves little"
        for stream in streams:
            mine = [r for r in rows if r[1] == stream]
            events = log.stream(uuid.UUID(stream))
            assert [(e.originator_version, e.topic, bytes(e.state)) for e in events] == \
                [(r[2], r[3], r[4]) for r in mine]
            through = mine[len(mine) // 2][2]
            assert [e.originator_version for e in log.stream(uuid.UUID(stream), through=through)] == \
                [r[2] for r in mine if r[2] <= through]
        assert list(log.stream(uuid.uuid4())) == []

    def test_many_streams_at_once_are_each_one_as_stream_gives_it(self, log: EventLog, rows: list[Raw]) -> None:
        streams = sorted({uuid.UUID(r[1]) for r in rows})
        got = log.streams([*streams, uuid.uuid4(), streams[0]])
        assert sorted(got) == streams, "each stream asked for that has events, once; no empty ones"
        for stream in streams:
            assert [(e.originator_id, e.originator_version, e.topic, bytes(e.state)) for e in got[stream]] == \
                [(e.originator_id, e.originator_version, e.topic, bytes(e.state)) for e in log.stream(stream)]
        assert log.streams([]) == {}

    # --- stream order -----------------------------------------------------------------------

    def test_reads_streams_says_what_the_backend_can(self, log: EventLog) -> None:
        assert log.reads_streams is self.reads_streams

    def _in_stream_order(self, log: EventLog, stop: int, limit: int, share: tuple[int, int] = EVERY,
                         topics: tuple[str, ...] = ()) -> list[Raw]:
        read: list[Raw] = []
        after = first_cursor(share)
        while page := log.streams_page(after, stop, topics, limit, share):
            assert len(page) <= limit
            read += page
            after = (page[-1][1], page[-1][2])
        return read

    def test_stream_order_pages_cover_each_stream_in_version_order(self, log: EventLog, rows: list[Raw]) -> None:
        if not self.reads_streams:
            with pytest.raises(NotImplementedError):
                log.streams_page(first_cursor(EVERY), log.head(), (), 10)
            return
        by_stream = sorted(rows, key=lambda r: (uuid.UUID(r[1]).int, r[2]))
        for limit in (1, 3, 10**6):
            assert self._in_stream_order(log, log.head(), limit) == by_stream

    def test_stream_order_pages_stop_at_stop_and_keep_to_topics(self, log: EventLog, rows: list[Raw]) -> None:
        if not self.reads_streams:
            pytest.skip("this backend does not read the log in stream order")
        stop = rows[len(rows) // 2][0]
        assert self._in_stream_order(log, stop, 5) == \
            sorted((r for r in rows if r[0] <= stop), key=lambda r: (uuid.UUID(r[1]).int, r[2]))
        topics = tuple(sorted({r[3] for r in rows})[:2])
        assert self._in_stream_order(log, log.head(), 5, topics=topics) == \
            sorted((r for r in rows if r[3] in topics), key=lambda r: (uuid.UUID(r[1]).int, r[2]))

    def test_stream_order_pages_of_the_shares_make_the_whole(self, log: EventLog, rows: list[Raw]) -> None:
        if not self.reads_streams:
            pytest.skip("this backend does not read the log in stream order")
        parts = [self._in_stream_order(log, log.head(), 3, share=(part, 2)) for part in range(2)]
        for part, read in enumerate(parts):
            assert read and all(share_of(r[1], 2) == part for r in read)
            assert read == sorted(read, key=lambda r: (uuid.UUID(r[1]).int, r[2]))
        assert sorted(parts[0] + parts[1]) == sorted(rows)

    # --- the key store ----------------------------------------------------------------------

    def test_a_key_is_made_once_and_kept(self, log: EventLog) -> None:
        keys = log.keys()
        rider = uuid.uuid4()
        assert keys.get(rider) is None
        key = keys.get_or_create(rider)
        assert isinstance(key, bytes) and len(key) == 32
        assert keys.get_or_create(rider) == key  # idempotent
        assert keys.get(rider) == key
        assert log.keys().get(rider) == key
        other = keys.get_or_create(uuid.uuid4())
        assert other != key

    def test_a_deleted_key_is_gone_and_only_that_one(self, log: EventLog) -> None:
        keys = log.keys()
        rider, other = uuid.uuid4(), uuid.uuid4()
        key = keys.get_or_create(rider)
        kept = keys.get_or_create(other)
        keys.delete(rider)
        assert keys.get(rider) is None
        assert keys.get(other) == kept
        keys.delete(rider)  # deleting again is no error
        assert keys.get_or_create(rider) != key  # a new key, not the erased one

    def test_each_kind_of_key_is_kept_apart(self, log: EventLog) -> None:
        """Erasing a rider deletes only that rider's key, whatever else has the same id."""
        owner = uuid.uuid4()
        rider, redemption = log.keys().get_or_create(owner), log.keys("redemption").get_or_create(owner)
        assert rider != redemption
        log.keys().delete(owner)
        assert log.keys("redemption").get(owner) == redemption

    # --- keys written with the events (eventlog/keys.py: NewKey) ------------------------------

    def test_the_recorder_writes_a_commands_new_keys(self, app: GridGovernance) -> None:
        assert writes_keys(app.recorder), type(app.recorder).__name__

    def test_a_new_key_lands_with_the_events_it_came_with(self, app: GridGovernance) -> None:
        uow = UnitOfWork(app)
        owner = uuid.uuid4()
        key = uow.new_key(app.code_keys, owner)
        uow.new(Grid).register(context(), "温江", "柳城街道", "光华社区", "网格一")
        head = app.head()
        written = app._write(uow)
        assert written is not None and len(written) == 1 and written[0] > head
        assert app.code_keys.get(owner) == key

    def test_a_commit_refused_as_a_conflict_leaves_no_new_key(self, app: GridGovernance) -> None:
        """Two commands deciding on the same stream: the second's key goes with its events, nowhere."""
        grid = uuid.uuid4()
        first, second = UnitOfWork(app), UnitOfWork(app)
        for uow in (first, second):
            uow.new(Grid, grid).register(context(), "温江", "柳城街道", "光华社区", "网格一")
        assert app._write(first) is not None
        owner = uuid.uuid4()
        second.new_key(app.code_keys, owner)
        head = app.head()
        assert app._write(second) is None  # a conflict: decided again by the caller
        assert app.code_keys.get(owner) is None
        assert app.head() == head

    def test_a_key_already_there_refuses_the_commit_and_its_events(self, app: GridGovernance) -> None:
        """Two commands that each made the key of one new owner (a code renewed twice at once):
        the first keeps it, the second's commit is a conflict, its events are not written."""
        owner = uuid.uuid4()
        first = UnitOfWork(app)
        kept = first.new_key(app.code_keys, owner)
        first.new(Grid).register(context(), "温江", "柳城街道", "光华社区", "网格一")
        assert app._write(first) is not None
        second = UnitOfWork(app)
        second.new_key(app.code_keys, owner)
        grid = second.new(Grid)
        grid.register(context(), "温江", "柳城街道", "光华社区", "网格二")
        head = app.head()
        assert app._write(second) is None
        assert app.code_keys.get(owner) == kept
        assert app.head() == head and app.eventlog.position_of(grid.id, 1) is None

    def test_a_key_asked_for_twice_in_one_command_is_made_once(self, app: GridGovernance) -> None:
        uow = UnitOfWork(app)
        owner = uuid.uuid4()
        assert uow.key(app.keys, owner) == uow.key(app.keys, owner)
        assert len(uow.keys) == 1 and app.keys.get(owner) is None  # not stored until the events are

    def test_a_key_stored_before_is_the_one_a_command_gets(self, app: GridGovernance) -> None:
        owner = uuid.uuid4()
        stored = app.keys.get_or_create(owner)
        uow = UnitOfWork(app)
        assert uow.key(app.keys, owner) == stored and uow.keys == []


def context() -> Context:
    return Context(actor=Actor(role=Role.DISTRICT_ADMIN, id="admin"), now=START, command_id=uuid.uuid4(),
                   correlation_id=uuid.uuid4())


class TestMemoryEventLog(EventLogContract):
    log_class = POPOLog
    reads_streams = False

    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class TestSQLiteEventLog(EventLogContract):
    log_class = SQLiteLog
    reads_streams = True

    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        tmp_path = request.getfixturevalue("tmp_path")
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(tmp_path / f"{uuid.uuid4().hex}.sqlite")}


@pytest.mark.postgres
class TestPostgresEventLog(EventLogContract):
    log_class = PostgresLog
    reads_streams = True

    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        # A fresh schema, dropped after the test: skipped locally without PostgreSQL, failing in CI.
        return request.getfixturevalue("postgres_schema")
