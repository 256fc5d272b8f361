"""A session's access token renewed by the sign-in (api/http/signin.py), without a provider
process: a stand-in provider counts its refresh grants. Many requests that find the token
due at once make one refresh; a refused refresh ends the session; a provider that cannot be
reached keeps it (a 503, not a sign-out); the new token's claims become the session's."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from starlette.requests import Request

from api.http.auth import Principal, Unauthenticated
from api.http.provider_client import GrantRefused, ProviderDown, Tokens
from api.http.sessions import MemorySessions, begin, digest
from api.http.signin import CsrfTokenMissing, SessionEnded, SignIn
from domain.events import Role

OLD = Principal(sub="officer-温江-1", role=Role.GRID_OFFICER, districts=frozenset({"温江"}), grids=frozenset({"g1"}))
NEW = replace(OLD, grids=frozenset({"g2"}))


class Provider:
    """Answers refresh grants as told, slowly enough that concurrent requests overlap."""

    def __init__(self, answer: Any) -> None:
        self.answer, self.refreshes = answer, 0
        self._lock = threading.Lock()

    def refresh(self, refresh_token: str) -> Tokens:
        with self._lock:
            self.refreshes += 1
        time.sleep(0.05)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def verify(token: str) -> Principal:
    if token == "new-access":
        return NEW
    raise Unauthenticated("not a token of this test")


class Verifier:
    accepts_shared_secret = False
    verify = staticmethod(verify)


def request(cookie: str, method: str = "GET", csrf: str | None = None) -> Request:
    headers = [(b"cookie", f"gridgov_session={cookie}".encode())]
    if csrf is not None:
        headers.append((b"x-csrf-token", csrf.encode()))
    return Request({"type": "http", "method": method, "path": "/v1/stats", "headers": headers, "query_string": b""})


def signed_in(answer: Any) -> tuple[SignIn, Provider, Clock, str]:
    clock, provider, sessions = Clock(), Provider(answer), MemorySessions()
    signin = SignIn(sessions, Verifier(), provider=provider, clock=clock)  # type: ignore[arg-type]
    cookie, session = begin(OLD, "old-access", clock.now + 300, clock.now, refresh_token="refresh-1")
    sessions.put(session)
    return signin, provider, clock, cookie


def test_a_due_token_is_refreshed_once_however_many_requests_find_it_due() -> None:
    signin, provider, clock, cookie = signed_in(Tokens("new-access", 1_790_000_600.0, "refresh-2", None))
    assert signin.principal(request(cookie)) == OLD and provider.refreshes == 0
    clock.now += 290  # within the 30 s before expiry
    seen: list[Principal | None] = []
    threads = [threading.Thread(target=lambda: seen.append(signin.principal(request(cookie)))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.refreshes == 1
    assert seen == [NEW] * 8, "the new token's claims are the session's"


def test_a_refused_refresh_ends_the_session() -> None:
    signin, _, clock, cookie = signed_in(GrantRefused("invalid_grant", "Account disabled"))
    clock.now += 299
    with pytest.raises(SessionEnded):
        signin.principal(request(cookie))
    with pytest.raises(SessionEnded):  # ended, not refused again and again
        signin.principal(request(cookie))


def test_a_provider_out_of_reach_keeps_the_session_for_later() -> None:
    signin, provider, clock, cookie = signed_in(ProviderDown("connection refused"))
    clock.now += 299
    with pytest.raises(ProviderDown):
        signin.principal(request(cookie))
    provider.answer = Tokens("new-access", clock.now + 300, None, None)
    assert signin.principal(request(cookie)) == NEW


def test_a_command_needs_the_sessions_csrf_token_and_a_read_does_not() -> None:
    signin, _, _, cookie = signed_in(None)
    csrf = signin.sessions.get(digest(cookie), 0).csrf  # type: ignore[union-attr]
    assert signin.principal(request(cookie)) == OLD
    for sent in (None, "", csrf + "x", csrf.upper()):
        with pytest.raises(CsrfTokenMissing):
            signin.principal(request(cookie, "POST", sent))
    assert signin.principal(request(cookie, "POST", csrf)) == OLD


def test_a_session_idle_for_an_hour_has_ended() -> None:
    signin, _, clock, cookie = signed_in(Tokens("new-access", 1_790_000_600.0, "refresh-2", None))
    clock.now += 3600
    with pytest.raises(SessionEnded):
        signin.principal(request(cookie))


class RefreshedMeanwhile(MemorySessions):
    """Another API instance refreshes the session between this one's read and its note of the session's use."""

    def get(self, id_hash: str, now: float) -> Any:
        stale = super().get(id_hash, now)
        if stale is not None:
            super().put(replace(stale, access_token="refreshed-elsewhere", refresh_token="refresh-2"))
        return stale


def test_noting_a_sessions_use_never_undoes_a_refresh_made_meanwhile() -> None:
    clock, sessions = Clock(), RefreshedMeanwhile()
    signin = SignIn(sessions, Verifier(), provider=Provider(None), clock=clock)  # type: ignore[arg-type]
    cookie, session = begin(OLD, "old-access", clock.now + 300, clock.now, refresh_token="refresh-1")
    MemorySessions.put(sessions, session)
    clock.now += 120  # used again after a while (its use noted), its token not yet due
    assert signin.principal(request(cookie)) == OLD
    kept = MemorySessions.get(sessions, digest(cookie), clock.now)
    assert kept is not None and kept.seen_at == clock.now
    assert (kept.access_token, kept.refresh_token) == ("refreshed-elsewhere", "refresh-2")


def test_a_refresh_refused_because_another_instance_used_the_token_first_keeps_that_instances_session() -> None:
    """With refresh tokens used once (a provider's rotation), two instances that find a session due together
    race: the loser's grant is refused, and it takes the winner's tokens rather than ending the session."""
    signin, provider, clock, cookie = signed_in(GrantRefused("invalid_grant", "Stale token"))
    sessions = signin.sessions
    winner = replace(sessions.get(digest(cookie), clock.now), access_token="new-access",  # type: ignore[arg-type]
                     refresh_token="refresh-2", expires_at=clock.now + 600, principal=NEW, token_at=clock.now + 299)
    refuse = provider.refresh

    def raced(refresh_token: str) -> Tokens:
        sessions.put(winner)  # the other instance's refresh lands first
        return refuse(refresh_token)

    provider.refresh = raced  # type: ignore[method-assign]
    clock.now += 299
    assert signin.principal(request(cookie)) == NEW
