"""The pages' sessions, kept by the server (a backend-for-frontend): the browser holds
only a random 256-bit id in an HttpOnly cookie; the tokens stay here.

A store keeps a session under the SHA-256 of its cookie value, never the value itself,
so a copy of the store signs nobody in. Two stores with one contract
(tests/contracts/test_session_store.py): in memory (tests, the demo) and in the read
store's database (SQLite or PostgreSQL), so sessions outlive a restart and every API
instance sees the same ones. Each also keeps the pending sign-ins (state, nonce, PKCE
verifier) between the redirect to the provider and its return, taken once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from api.http.auth import Principal
from domain.events import Role
from projections.stores import ReadStore

COOKIE = "gridgov_session"
ABSOLUTE_S = 8 * 3600  # a working day: then the provider is asked again
IDLE_S = 3600  # an hour without a request ends it
PENDING_S = 600  # from the redirect to the provider to its return

SESSIONS = "signin_sessions"
PENDING = "signin_pending"


def new_secret() -> str:
    """A random 256-bit value, URL-safe: a cookie's id, a CSRF token, a state."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Session:
    """One signed-in person at one browser. `id_hash` is the SHA-256 of the cookie's value;
    `expires_at` is when the access token does (refreshed before, if there is a refresh token);
    `ends_at` when the session does, whichever of idle and absolute comes first."""

    id_hash: str
    csrf: str
    principal: Principal
    access_token: str
    expires_at: float
    created_at: float
    seen_at: float
    refresh_token: str | None = None
    id_token: str | None = None
    token_at: float = 0.0  # when the access token was had (at the start, or the last refresh)

    @property
    def ends_at(self) -> float:
        return min(self.created_at + ABSOLUTE_S, self.seen_at + IDLE_S)

    def renew_by(self, ahead_s: float) -> float:
        """When to refresh: `ahead_s` before the access token expires, or a quarter of its life
        before if that is sooner, so a token of seconds is not refreshed on every request."""
        life = self.expires_at - self.token_at if self.token_at else ahead_s * 4
        return self.expires_at - min(ahead_s, life / 4)

    def to_json(self) -> str:
        data = asdict(self)
        who = self.principal
        data["principal"] = {"sub": who.sub, "role": who.role.value, "districts": sorted(who.districts),
                             "grids": sorted(who.grids)}
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Session:
        data = json.loads(text)
        who = data.pop("principal")
        return cls(principal=Principal(sub=who["sub"], role=Role(who["role"]), districts=frozenset(who["districts"]),
                                       grids=frozenset(who["grids"])), **data)


def begin(principal: Principal, access_token: str, expires_at: float, now: float, refresh_token: str | None = None,
          id_token: str | None = None) -> tuple[str, Session]:
    """A new session: (the cookie's value, the session the store keeps under its hash)."""
    cookie = new_secret()
    return cookie, Session(id_hash=digest(cookie), csrf=new_secret(), principal=principal, access_token=access_token,
                           expires_at=expires_at, created_at=now, seen_at=now, refresh_token=refresh_token,
                           id_token=id_token, token_at=now)


@dataclass(frozen=True)
class Pending:
    """A sign-in between the redirect to the provider and its return, kept under its state's hash."""

    state_hash: str
    nonce: str
    verifier: str
    next: str
    created_at: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ends_at(self) -> float:
        return self.created_at + PENDING_S


class SessionStore(Protocol):
    def put(self, session: Session) -> None:
        """Keeps the session (a new one, or a new version of one under the same hash)."""

    def get(self, id_hash: str, now: float) -> Session | None:
        """The session, or None if there is none or it has ended (an ended one is removed)."""

    def touch(self, session: Session, seen_at: float) -> None:
        """Notes the session's last use (a later one than it has), changing nothing else: a refresh
        another request or instance stored meanwhile stands. Nothing for an ended session."""

    def delete(self, id_hash: str) -> None: ...

    def put_pending(self, pending: Pending) -> None: ...

    def take_pending(self, state_hash: str, now: float) -> Pending | None:
        """The pending sign-in, removed: a state is good for one return only."""

    def sweep(self, now: float) -> int:
        """Removes every ended session and pending sign-in; how many."""


class MemorySessions:
    """Sessions in this process only: tests and the demo."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def put(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.id_hash] = session

    def get(self, id_hash: str, now: float) -> Session | None:
        with self._lock:
            session = self._sessions.get(id_hash)
            if session is not None and session.ends_at <= now:
                del self._sessions[id_hash]
                return None
            return session

    def touch(self, session: Session, seen_at: float) -> None:
        with self._lock:
            current = self._sessions.get(session.id_hash)
            if current is not None and seen_at > current.seen_at:
                self._sessions[session.id_hash] = replace(current, seen_at=seen_at)

    def delete(self, id_hash: str) -> None:
        with self._lock:
            self._sessions.pop(id_hash, None)

    def put_pending(self, pending: Pending) -> None:
        with self._lock:
            self._pending[pending.state_hash] = pending

    def take_pending(self, state_hash: str, now: float) -> Pending | None:
        with self._lock:
            pending = self._pending.pop(state_hash, None)
        return pending if pending is not None and pending.ends_at > now else None

    def sweep(self, now: float) -> int:
        with self._lock:
            ended = [k for k, s in self._sessions.items() if s.ends_at <= now]
            stale = [k for k, p in self._pending.items() if p.ends_at <= now]
            for key in ended:
                del self._sessions[key]
            for key in stale:
                del self._pending[key]
        return len(ended) + len(stale)


class StoredSessions:
    """Sessions in the read store's database (SQLite or PostgreSQL), in tables of their
    own: not a read model's (no event writes them; a rebuild leaves them alone)."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        with store.transaction() as tx:
            store.lock_tables(tx)  # several instances start at once: IF NOT EXISTS alone races on PostgreSQL
            # A session's last use has a column of its own: noted without rewriting (and undoing) the rest.
            tx.execute(f"CREATE TABLE IF NOT EXISTS {SESSIONS} (id_hash TEXT PRIMARY KEY, data TEXT NOT NULL, "
                       "ends_at BIGINT NOT NULL, seen_at DOUBLE PRECISION NOT NULL)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {PENDING} (id_hash TEXT PRIMARY KEY, data TEXT NOT NULL, "
                       "ends_at BIGINT NOT NULL)")

    def put(self, session: Session) -> None:
        with self.store.transaction() as tx:
            tx.execute(f"INSERT INTO {SESSIONS} (id_hash, data, ends_at, seen_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, ends_at = excluded.ends_at, "
                       "seen_at = excluded.seen_at",
                       (session.id_hash, session.to_json(), int(session.ends_at) + 1, session.seen_at))

    def get(self, id_hash: str, now: float) -> Session | None:
        rows = self.store.read(f"SELECT data, seen_at FROM {SESSIONS} WHERE id_hash = ?", (id_hash,))
        if not rows:
            return None
        session = replace(Session.from_json(rows[0][0]), seen_at=float(rows[0][1]))
        if session.ends_at <= now:
            self.delete(id_hash)
            return None
        return session

    def touch(self, session: Session, seen_at: float) -> None:
        noted = replace(session, seen_at=seen_at)
        with self.store.transaction() as tx:
            tx.execute(f"UPDATE {SESSIONS} SET seen_at = ?, ends_at = ? WHERE id_hash = ? AND seen_at < ?",
                       (seen_at, int(noted.ends_at) + 1, session.id_hash, seen_at))

    def delete(self, id_hash: str) -> None:
        with self.store.transaction() as tx:
            tx.execute(f"DELETE FROM {SESSIONS} WHERE id_hash = ?", (id_hash,))

    def put_pending(self, pending: Pending) -> None:
        with self.store.transaction() as tx:
            tx.execute(f"INSERT INTO {PENDING} (id_hash, data, ends_at) VALUES (?, ?, ?)",
                       (pending.state_hash, json.dumps(asdict(pending), ensure_ascii=False), int(pending.ends_at) + 1))

    def take_pending(self, state_hash: str, now: float) -> Pending | None:
        with self.store.transaction() as tx:
            row = tx.fetchone(f"SELECT data FROM {PENDING} WHERE id_hash = ?", (state_hash,))
            # Only the one whose DELETE removed the row has it: two returns with one state, one sign-in.
            if row is None or tx.execute(f"DELETE FROM {PENDING} WHERE id_hash = ?", (state_hash,)).rowcount != 1:
                return None
        pending = Pending(**json.loads(row[0]))
        return pending if pending.ends_at > now else None

    def sweep(self, now: float) -> int:
        removed = 0
        with self.store.transaction() as tx:
            for table in (SESSIONS, PENDING):
                removed += tx.execute(f"DELETE FROM {table} WHERE ends_at <= ?", (int(now),)).rowcount
        return removed

