"""Signing people in to the pages (a backend-for-frontend): the routes under /auth and
who a session cookie names.

With a provider (OIDC_ISSUER): /auth/login sends the browser to the provider's login
page (authorization code with PKCE S256; state, nonce and verifier kept here, a
pending sign-in of 10 minutes), /auth/callback takes the code back, checks the id
token, has the access token checked by the API's Authenticator (so claims that do not
map stop here, in words, not as a session) and starts a session. Its access token is
refreshed before it expires, one refresh per session at a time; a refresh the
provider refuses (the account disabled, its session ended) ends ours. /auth/logout
ends ours and then the provider's (RP-initiated logout).

Without one (the demo, the tests): /auth/login shows the demo's people to choose from,
and /auth/token-session turns a test token into a session.

Every session's cookie is HttpOnly, Secure, SameSite=Lax; a command sent with it must
carry the session's CSRF token in X-CSRF-Token.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.http import signin_pages
from api.http.auth import Principal, Unauthenticated, decode
from api.http.language import TEXTS, words
from api.http.problems import problem
from api.http.provider_client import BadIdToken, GrantRefused, ProviderClient, ProviderDown
from api.http.sessions import (ABSOLUTE_S, COOKIE, PENDING_S, MemorySessions, Pending, Session, SessionStore, begin,
                               digest, new_secret)

log = logging.getLogger("gridgov.signin")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
LOGIN_CSRF = "gridgov_signin_csrf"  # the demo chooser's pre-session: its form posts this cookie's value back
# The state of the sign-in this browser started: a return from the provider counts only in the browser that
# went there (RFC 6749 §10.12), else another site could sign a person in as itself.
STATE_COOKIE, CALLBACK = "gridgov_signin_state", "/auth/callback"
REFRESH_AHEAD_S = 30  # refresh this long before the access token expires, so no request meets it expired
SEEN_EVERY_S = 60  # how often a session's last use is written (its idle lifetime), not on every request
SWEEP_EVERY_S = 600  # ended sessions nobody asks for again are removed this often, as sessions start


class SessionEnded(Unauthenticated):
    """The cookie names no session (ended, signed out, never ours), or the provider refused to renew it: 401."""

    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, "session-ended")


class CsrfTokenMissing(Unauthenticated):
    """A command sent with the session's cookie but without its CSRF token: 403.
    (An Unauthenticated, so whatever only asks who is calling counts it as nobody.)"""

    status = 403

    def __init__(self, message: str) -> None:
        super().__init__(message, "csrf-token-missing")


class SignInFailed(Exception):
    """A sign-in that did not come to a session: a page in words (or a problem, to a program)."""

    def __init__(self, status: int, code: str, message: str, next_path: str = "/") -> None:
        super().__init__(message)
        self.status, self.code, self.next_path = status, code, next_path


def verifier_of(authenticator: Any) -> Callable[[str], Principal]:
    """A token's Principal, by the API's Authenticator; a str is the shared HS256 secret."""
    if isinstance(authenticator, str):
        return lambda token: decode(authenticator, f"Bearer {token}")
    return authenticator.verify


class SignIn:
    def __init__(self, sessions: SessionStore, authenticator: Any, provider: ProviderClient | None = None,
                 demo_people: dict[str, str] | None = None, public_url: str = "", token_sessions: bool | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """`authenticator`: the API's (or the HS256 secret); `demo_people`: role -> a token of someone of
        the demo, for the chooser; `token_sessions`: whether POST /auth/token-session turns a token into a
        session (the demo and the tests, never beside a provider alone); `public_url`: the origin the
        provider sends people back to (else the request's own)."""
        self.sessions, self.verify, self.provider = sessions, verifier_of(authenticator), provider
        self.demo_people, self.public_url = demo_people or {}, public_url.rstrip("/")
        self.token_sessions = (getattr(authenticator, "accepts_shared_secret", isinstance(authenticator, str))
                               if token_sessions is None else token_sessions)
        self.clock = clock
        self._refreshing: dict[str, threading.Lock] = {}
        self._swept = 0.0
        self._locks = threading.Lock()

    # -- who a cookie names --------------------------------------------------------------------------------

    def principal(self, request: Request) -> Principal | None:
        """None without a cookie; else the session's Principal, or SessionEnded / CsrfTokenMissing."""
        session = self.session(request)
        if session is None:
            return None
        if request.method not in SAFE_METHODS and not _same(request.headers.get(CSRF_HEADER), session.csrf):
            raise CsrfTokenMissing(f"a command sent with the session's cookie needs its {CSRF_HEADER} header")
        return session.principal

    def session(self, request: Request) -> Session | None:
        cookie = request.cookies.get(COOKIE)
        if cookie is None:
            return None
        now = self.clock()
        session = self.sessions.get(digest(cookie), now)
        if session is None:
            raise SessionEnded("this session has ended or was never ours: sign in again")
        if session.renew_by(REFRESH_AHEAD_S) <= now:
            session = self._renewed(session, now)
        if now - session.seen_at >= SEEN_EVERY_S:
            self.sessions.touch(session, now)
            session = replace(session, seen_at=now)
        return session

    def _renewed(self, session: Session, now: float) -> Session:
        """The session with a fresh access token (and the Principal its claims now give), refreshed once
        however many requests find it due at once; ended if it cannot be."""
        with self._locks:
            lock = self._refreshing.setdefault(session.id_hash, threading.Lock())
        with lock:
            try:
                current = self.sessions.get(session.id_hash, now)
                if current is None:
                    raise SessionEnded("this session has ended: sign in again")
                if current.renew_by(REFRESH_AHEAD_S) > now:
                    return current  # another request refreshed it meanwhile
                if current.refresh_token is None or self.provider is None:
                    if current.expires_at > now:
                        return current
                    self.sessions.delete(current.id_hash)
                    raise SessionEnded("this session's token has expired: sign in again")
                try:
                    tokens = self.provider.refresh(current.refresh_token)
                    who = self.verify(tokens.access_token)
                except (GrantRefused, Unauthenticated) as e:
                    # Another instance may have used the refresh token first (a provider that rotates them
                    # refuses it a second time): its tokens, then, not an end.
                    kept = self.sessions.get(current.id_hash, now)
                    if kept is not None and kept.refresh_token != current.refresh_token:
                        return kept
                    self.sessions.delete(current.id_hash)
                    raise SessionEnded(f"the identity provider no longer vouches for this session ({e}): "
                                       "sign in again") from None
                renewed = replace(current, principal=who, access_token=tokens.access_token,
                                  expires_at=tokens.expires_at,
                                  refresh_token=tokens.refresh_token or current.refresh_token,
                                  id_token=tokens.id_token or current.id_token, token_at=now)
                self.sessions.put(renewed)
                return renewed
            finally:
                with self._locks:
                    self._refreshing.pop(session.id_hash, None)

    # -- the routes -----------------------------------------------------------------------------------------

    def install(self, app: FastAPI) -> None:
        for error in (SessionEnded, CsrfTokenMissing):
            app.add_exception_handler(error, _unauthenticated)
        app.add_exception_handler(SignInFailed, _failed)
        app.add_exception_handler(ProviderDown, _provider_down)
        app.add_api_route("/auth/session", self.session_route, methods=["GET"], include_in_schema=False)
        app.add_api_route("/auth/token-session", self.token_session, methods=["POST"], include_in_schema=False)
        app.add_api_route("/auth/logout", self.logout, methods=["POST"], include_in_schema=False)
        app.add_api_route("/auth/login", self.login, methods=["GET"], include_in_schema=False)
        app.add_api_route("/auth/callback", self.callback, methods=["GET"], include_in_schema=False)
        app.add_api_route("/auth/demo-session", self.demo_session, methods=["POST"], include_in_schema=False)

    def session_route(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            raise Unauthenticated("not signed in: sign in first")
        who = session.principal
        return JSONResponse({"role": who.role.value, "sub": who.sub, "districts": sorted(who.districts),
                             "grids": sorted(who.grids), "csrf": session.csrf,
                             "expires_at": _utc(session.ends_at), "provider": self.provider is not None},
                            headers={"Cache-Control": "no-store"})

    def token_session(self, request: Request) -> Response:
        if not self.token_sessions:
            raise SignInFailed(403, "token-sessions-off", "this server signs people in through its identity "
                                                          "provider only: sign in at /auth/login")
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise Unauthenticated("send Authorization: Bearer <token>")
        token = header[7:].strip()
        who = self.verify(token)
        return self._start(request, Response(status_code=204), who, token, _expiry(token, self.clock()))

    async def logout(self, request: Request) -> Response:
        cookie = request.cookies.get(COOKIE)
        session = self.sessions.get(digest(cookie), self.clock()) if cookie else None
        away = RedirectResponse("/", status_code=303)
        if session is not None:
            form = await request.form() if "form" in request.headers.get("content-type", "") else {}
            sent = request.headers.get(CSRF_HEADER) or form.get("csrf")
            if not _same(sent if isinstance(sent, str) else None, session.csrf):
                raise CsrfTokenMissing("signing out needs the session's CSRF token (form field csrf or "
                                       f"header {CSRF_HEADER})")
            self.sessions.delete(session.id_hash)
            if self.provider is not None:
                try:
                    end = self.provider.end_session_url(session.id_token, f"{self._origin(request)}/")
                except ProviderDown:
                    end = None  # ours has ended; the provider's ends when it times out
                if end:
                    away = RedirectResponse(end, status_code=303)
        away.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="lax")
        away.headers["Cache-Control"] = "no-store"
        return away

    def login(self, request: Request, next: str = "/") -> Response:  # noqa: A002 (the parameter's name)
        target = same_origin_path(next)
        if self.provider is not None:
            state, nonce, verifier = new_secret(), new_secret(), new_secret() + new_secret()
            self.sessions.put_pending(Pending(state_hash=digest(state), nonce=nonce, verifier=verifier,
                                              next=target, created_at=self.clock()))
            url = self.provider.authorization_url(self._callback(request), state, nonce, verifier)
            away = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
            # Lax: the provider's return is a top-level GET from its site, which Lax cookies go with.
            away.set_cookie(STATE_COOKIE, state, max_age=PENDING_S, path=CALLBACK, secure=True, httponly=True,
                            samesite="lax")
            return away
        if not self.demo_people:
            raise SignInFailed(404, "no-identity-provider", "this server has no identity provider to sign in "
                                                            "with; send a bearer token instead", target)
        people = [(role, "、".join(sorted(self.verify(token).districts)))
                  for role, token in self.demo_people.items()]
        csrf = new_secret()
        page = signin_pages.chooser(people, csrf, target)
        page.set_cookie(LOGIN_CSRF, csrf, max_age=600, path="/auth", secure=True, httponly=True, samesite="strict")
        return page

    async def demo_session(self, request: Request) -> Response:
        form = await request.form()
        target = same_origin_path(str(form.get("next") or "/"))
        if not _same(request.cookies.get(LOGIN_CSRF), str(form.get("csrf") or "")) or not form.get("csrf"):
            raise SignInFailed(403, "csrf-token-missing", "the sign-in form was not this browser's: "
                                                          "open the sign-in page again", target)
        token = self.demo_people.get(str(form.get("person") or ""))
        if token is None:
            raise SignInFailed(400, "sign-in-failed", "nobody of the demo was chosen", target)
        away = self._start(request, RedirectResponse(target, status_code=303), self.verify(token), token,
                           _expiry(token, self.clock()))
        away.delete_cookie(LOGIN_CSRF, path="/auth", secure=True, httponly=True, samesite="strict")
        return away

    def callback(self, request: Request, state: str = "", code: str = "", error: str = "",
                 error_description: str = "") -> Response:
        ours = bool(state) and _same(request.cookies.get(STATE_COOKIE), state)
        pending = self.sessions.take_pending(digest(state), self.clock()) if ours else None
        target = pending.next if pending else "/"
        if error:
            cancelled = error in ("access_denied", "login_required", "consent_required")
            raise SignInFailed(401, "sign-in-cancelled" if cancelled else "sign-in-failed",
                               f"the identity provider said {error}: {error_description or 'no reason given'}",
                               target)
        if pending is None:
            raise SignInFailed(400, "sign-in-state-unknown", "this sign-in is unknown, older than 10 minutes, "
                                                             "used already or begun in another browser: sign in "
                                                             "again")
        if not code:
            raise SignInFailed(400, "sign-in-failed", "the identity provider sent no code back", target)
        try:
            tokens = self.provider.exchange(code, pending.verifier, self._callback(request))  # type: ignore[union-attr]
            if tokens.id_token is None:
                raise BadIdToken("the provider sent no id token")
            self.provider.check_id_token(tokens.id_token, pending.nonce)  # type: ignore[union-attr]
        except (GrantRefused, BadIdToken) as e:
            raise SignInFailed(401, "sign-in-failed", str(e), target) from None
        except ProviderDown as e:
            raise SignInFailed(503, "identity-provider-unavailable", str(e), target) from None
        try:
            who = self.verify(tokens.access_token)
        except Unauthenticated as e:  # most often ClaimsUnmapped: the provider's account lacks the attributes
            raise SignInFailed(401, e.code if e.code != "unauthenticated" else "sign-in-failed", str(e),
                               target) from None
        signed_in = self._start(request, RedirectResponse(target, status_code=303), who, tokens.access_token,
                                tokens.expires_at, tokens.refresh_token, tokens.id_token)
        signed_in.delete_cookie(STATE_COOKIE, path=CALLBACK, secure=True, httponly=True, samesite="lax")
        return signed_in

    # -- helpers ---------------------------------------------------------------------------------------------

    def _start(self, request: Request, response: Response, who: Principal, access_token: str, expires_at: float,
               refresh_token: str | None = None, id_token: str | None = None) -> Response:
        """A new session (a new id: never one the browser brought), the one this browser held ended."""
        if (held := request.cookies.get(COOKIE)) is not None:
            self.sessions.delete(digest(held))  # the last person at a shared counter, signed out by the next
        now = self.clock()
        if now - self._swept >= SWEEP_EVERY_S:
            self._swept = now
            self.sessions.sweep(now)
        cookie, session = begin(who, access_token, expires_at, now, refresh_token, id_token)
        self.sessions.put(session)
        # No max-age: the cookie goes with the browser; the session ends here whatever the browser keeps.
        response.set_cookie(COOKIE, cookie, path="/", secure=True, httponly=True, samesite="lax")
        response.headers["Cache-Control"] = "no-store"
        return response

    def _origin(self, request: Request) -> str:
        return self.public_url or str(request.base_url).rstrip("/")

    def _callback(self, request: Request) -> str:
        return f"{self._origin(request)}/auth/callback"


CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def same_origin_path(next_path: str) -> str:
    """`next` if it is a path of this origin (a hash allowed), else a SignInFailed: never a redirect away."""
    parts = urlsplit(next_path)
    if (not next_path.startswith("/") or next_path.startswith("//") or CONTROL.search(next_path)
            or parts.scheme or parts.netloc or len(next_path) > 2000):
        raise SignInFailed(400, "next-not-same-origin", "after signing in, a page of this site only: "
                                                        f"{next_path[:100]!r} is not one")
    return next_path


def _same(sent: str | None, expected: str) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode())


def _expiry(token: str, now: float) -> float:
    """When a token the Authenticator has accepted expires (its `exp`; an hour if it names none)."""
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    # Compared before made a float: an exp of 10**400 is a valid integer and no float; a session
    # ends at its absolute end anyway.
    return float(min(exp, now + ABSOLUTE_S)) if isinstance(exp, (int, float)) else now + 3600


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


async def _unauthenticated(request: Request, e: Exception) -> Response:
    assert isinstance(e, (SessionEnded, CsrfTokenMissing))
    return problem(e.status, e.code, type(e).__name__, str(e), request)


async def _failed(request: Request, e: Exception) -> Response:
    assert isinstance(e, SignInFailed)
    if "text/html" not in request.headers.get("accept", ""):
        return problem(e.status, e.code, e.code, str(e), request)
    en_title = TEXTS.get(e.code, ("Sign-in failed",))[0]
    zh_title, zh_detail = words(e.code, "zh", en_title, str(e))
    return signin_pages.failure(e.status, zh_title, zh_detail, en_title, str(e), e.next_path)


async def _provider_down(request: Request, e: Exception) -> Response:
    try:  # 重新登录 aims back where the person was going, if that was a page of ours
        target = same_origin_path(request.query_params.get("next", "/"))
    except SignInFailed:
        target = "/"
    return await _failed(request, SignInFailed(503, "identity-provider-unavailable", str(e), target))


def default(authenticator: Any, demo_people: dict[str, str] | None = None) -> SignIn:
    """Every app's, unless given one: no provider, sessions in memory, test tokens turned into sessions."""
    return SignIn(MemorySessions(), authenticator, demo_people=demo_people)

