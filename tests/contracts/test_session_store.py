"""The pages' session store's contract (api.http.sessions.SessionStore), one suite run
on every store: in memory, in a SQLite read store, in a PostgreSQL schema. A session
round-trips whole, is kept under its cookie's hash alone, ends when idle or old, and a
pending sign-in is taken once; the database's are shared by every instance and outlive
a restart."""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from api.http.auth import Principal
from api.http.sessions import (ABSOLUTE_S, IDLE_S, PENDING_S, MemorySessions, Pending, Session, SessionStore,
                               StoredSessions, begin, digest, new_secret)
from domain.events import Role
from projections.stores import ReadStore
from projections.stores.postgres import PostgresStore
from projections.stores.sqlite import SQLiteStore
from tests.fixtures.stores import _dsn

NOW = 1_790_000_000.0
OFFICER = Principal(sub="officer-温江-1-1", role=Role.GRID_OFFICER, districts=frozenset({"温江"}),
                    grids=frozenset({"0b9f3c2e-0000-4000-8000-000000000001"}))


def a_session(now: float = NOW, who: Principal = OFFICER) -> tuple[str, Session]:
    return begin(who, "access.token.x", now + 300, now, refresh_token="refresh-x", id_token="id.token.x")


def a_pending(now: float = NOW) -> tuple[str, Pending]:
    state = new_secret()
    return state, Pending(state_hash=digest(state), nonce=new_secret(), verifier=new_secret() * 2,
                          next="/pages/workbench.html#grid=1", created_at=now)


class SessionStoreContract(ABC):
    @abstractmethod
    def construct(self, request: pytest.FixtureRequest) -> SessionStore: ...

    def reopen(self, sessions: SessionStore, request: pytest.FixtureRequest) -> SessionStore | None:
        """The same sessions as another instance (or a restart) opens them; None if there is no such thing."""
        return None

    @pytest.fixture
    def sessions(self, request: pytest.FixtureRequest) -> SessionStore:
        return self.construct(request)

    def test_a_session_round_trips_whole_under_its_cookies_hash(self, sessions: SessionStore) -> None:
        cookie, session = a_session()
        sessions.put(session)
        assert sessions.get(digest(cookie), NOW) == session
        assert sessions.get(cookie, NOW) is None, "never under the cookie's value itself"
        assert session.id_hash == digest(cookie) and cookie not in session.to_json()

    def test_a_new_version_replaces_the_old_and_delete_ends_it(self, sessions: SessionStore) -> None:
        cookie, session = a_session()
        sessions.put(session)
        renewed = replace(session, access_token="access.token.y", expires_at=NOW + 600,
                          principal=replace(OFFICER, grids=frozenset({"another-grid"})))
        sessions.put(renewed)
        assert sessions.get(digest(cookie), NOW + 1) == renewed
        sessions.delete(digest(cookie))
        sessions.delete(digest(cookie))  # idempotent
        assert sessions.get(digest(cookie), NOW + 1) is None

    def test_a_touch_notes_the_last_use_and_changes_nothing_else(self, sessions: SessionStore) -> None:
        cookie, session = a_session()
        sessions.put(session)
        renewed = replace(session, access_token="access.token.y", refresh_token="refresh-y")
        sessions.put(renewed)  # refreshed by another instance after this one read `session`
        sessions.touch(session, NOW + IDLE_S - 1)
        assert sessions.get(digest(cookie), NOW + IDLE_S + 1) == replace(renewed, seen_at=NOW + IDLE_S - 1)
        sessions.touch(session, NOW + 5)  # an older note never makes it idle sooner
        assert sessions.get(digest(cookie), NOW + IDLE_S + 1) == replace(renewed, seen_at=NOW + IDLE_S - 1)
        sessions.delete(digest(cookie))
        sessions.touch(session, NOW + 10)  # an ended session stays ended
        assert sessions.get(digest(cookie), NOW + 10) is None

    def test_a_session_ends_when_idle_or_old(self, sessions: SessionStore) -> None:
        idle_cookie, idle = a_session()
        old_cookie, old = a_session()
        sessions.put(idle)
        sessions.put(old)
        assert sessions.get(digest(idle_cookie), NOW + IDLE_S - 1) == idle
        assert sessions.get(digest(idle_cookie), NOW + IDLE_S) is None
        for hour in range(1, ABSOLUTE_S // 3600):  # kept in use every hour, it still ends at ABSOLUTE_S
            sessions.put(replace(old, seen_at=NOW + hour * 3600 - 60))
            assert sessions.get(digest(old_cookie), NOW + hour * 3600) is not None
        sessions.put(replace(old, seen_at=NOW + ABSOLUTE_S - 60))
        assert sessions.get(digest(old_cookie), NOW + ABSOLUTE_S) is None

    def test_the_sweep_removes_what_has_ended_and_leaves_the_rest(self, sessions: SessionStore) -> None:
        ended_cookie, ended = a_session(NOW - IDLE_S - 10)
        live_cookie, live = a_session()
        stale_state, stale = a_pending(NOW - PENDING_S - 10)
        fresh_state, fresh = a_pending()
        for session in (ended, live):
            sessions.put(session)
        for pending in (stale, fresh):
            sessions.put_pending(pending)
        assert sessions.sweep(NOW) >= 2
        assert sessions.get(digest(live_cookie), NOW) == live
        assert sessions.take_pending(digest(fresh_state), NOW) == fresh
        assert sessions.get(digest(ended_cookie), NOW) is None
        assert sessions.take_pending(digest(stale_state), NOW) is None

    def test_a_pending_sign_in_is_taken_once_and_not_after_ten_minutes(self, sessions: SessionStore) -> None:
        state, pending = a_pending()
        sessions.put_pending(pending)
        assert sessions.take_pending(digest(state), NOW + 1) == pending
        assert sessions.take_pending(digest(state), NOW + 2) is None
        late_state, late = a_pending()
        sessions.put_pending(late)
        assert sessions.take_pending(digest(late_state), NOW + PENDING_S) is None

    def test_two_returns_with_one_state_make_one_sign_in(self, sessions: SessionStore) -> None:
        state, pending = a_pending()
        sessions.put_pending(pending)
        taken: list[Pending | None] = []
        threads = [threading.Thread(target=lambda: taken.append(sessions.take_pending(digest(state), NOW)))
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [t for t in taken if t is not None] == [pending]

    def test_another_instance_sees_the_same_sessions(self, sessions: SessionStore,
                                                     request: pytest.FixtureRequest) -> None:
        other = self.reopen(sessions, request)
        if other is None:
            pytest.skip("sessions in memory are this process's alone")
        cookie, session = a_session()
        sessions.put(session)
        assert other.get(digest(cookie), NOW) == session
        other.delete(digest(cookie))
        assert sessions.get(digest(cookie), NOW) is None

    # One test per store class: each subclass is an executor of its own (differing_executors), rightly.
    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors])
    @given(sub=st.text(min_size=1, max_size=60), role=st.sampled_from([r for r in Role if r is not Role.SYSTEM]),
           districts=st.frozensets(st.text(max_size=20), max_size=3),
           grids=st.frozensets(st.text(max_size=40), max_size=3))
    def test_any_principal_round_trips(self, sessions: SessionStore, sub: str, role: Role,
                                       districts: frozenset[str], grids: frozenset[str]) -> None:
        cookie, session = a_session(who=Principal(sub=sub, role=role, districts=districts, grids=grids))
        sessions.put(session)
        assert sessions.get(digest(cookie), NOW) == session


class TestMemorySessions(SessionStoreContract):
    def construct(self, request: pytest.FixtureRequest) -> SessionStore:
        return MemorySessions()


class StoredContract(SessionStoreContract):
    @abstractmethod
    def store(self, request: pytest.FixtureRequest) -> ReadStore: ...

    @abstractmethod
    def same_store(self, store: ReadStore) -> ReadStore: ...

    def construct(self, request: pytest.FixtureRequest) -> SessionStore:
        read_store = self.store(request)
        request.addfinalizer(read_store.close)
        return StoredSessions(read_store)

    def reopen(self, sessions: SessionStore, request: pytest.FixtureRequest) -> SessionStore:
        assert isinstance(sessions, StoredSessions)
        again = self.same_store(sessions.store)
        request.addfinalizer(again.close)
        return StoredSessions(again)


class TestSQLiteSessions(StoredContract):
    def store(self, request: pytest.FixtureRequest) -> ReadStore:
        return SQLiteStore(str(request.getfixturevalue("tmp_path") / f"{uuid.uuid4().hex}.sqlite"))

    def same_store(self, store: ReadStore) -> ReadStore:
        assert isinstance(store, SQLiteStore)
        return SQLiteStore(store.path)


@pytest.mark.postgres
class TestPostgresSessions(StoredContract):
    def store(self, request: pytest.FixtureRequest) -> ReadStore:
        settings_ = request.getfixturevalue("postgres_schema")
        return PostgresStore(_dsn(settings_), settings_["POSTGRES_SCHEMA"])

    def same_store(self, store: ReadStore) -> ReadStore:
        assert isinstance(store, PostgresStore)
        return PostgresStore(store.conninfo, store.schema)


def test_nothing_of_a_session_reaches_the_store_but_the_cookies_hash() -> None:
    """A copy of the store signs nobody in: it holds no cookie value."""
    kept = MemorySessions()
    cookies = []
    for _ in range(20):
        cookie, session = a_session()
        kept.put(session)
        cookies.append(cookie)
    dump = " ".join(s.to_json() for s in kept._sessions.values()) + " ".join(kept._sessions)
    assert not any(cookie in dump for cookie in cookies)

