"""Who is calling: the one answer for the routes' dependency (app.py) and the
access log's recorder (auditors.py), so the two never disagree.

An `Authorization: Bearer` header goes through the Authenticator (the provider's
keys, or the demo's and tests' shared secret); without one, the pages' session
cookie through the sign-in (`SignIn.principal`, api/http/signin.py); neither is a 401.
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from api.http.auth import Authenticator, Principal, Unauthenticated, bearer


class Sessions(Protocol):
    """What the sign-in offers here: the session's person, None without a cookie."""

    def principal(self, request: Request) -> Principal | None: ...


def caller(request: Request, authenticator: Authenticator, signin: Sessions | None) -> Principal:
    header = request.headers.get("authorization")
    if header is not None:
        return authenticator.verify(bearer(header))
    if signin is not None and (who := signin.principal(request)) is not None:
        return who
    raise Unauthenticated("sign in, or send Authorization: Bearer <token>")


def known(request: Request, authenticator: Authenticator) -> Principal | None:
    """The caller, when its bearer token was verified before (most requests): answered with no
    thread, as nothing is fetched or checked; None sends `caller` the rest (cookies, new tokens, errors)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    try:
        return authenticator.known(bearer(header))
    except Unauthenticated:
        return None


def may_be_calling(request: Request) -> bool:
    """Whether the request carries anything `caller` would read (cheap: no verification)."""
    return "authorization" in request.headers or "gridgov_session" in request.cookies
