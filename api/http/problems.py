"""Errors as RFC 9457 problem details (application/problem+json), with a stable
`type` per domain error; never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import eventsourcing.persistence as persistence
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.auth import ProviderUnavailable, Unauthenticated
from api.http.language import Language, chosen, words
from domain import errors

log = logging.getLogger("gridgov.http")
TYPE_BASE = "urn:gridgov:problem:"
MAX_BODY = 64 * 1024  # the largest command (a report with 20 evidence hashes and 2,000 characters) is ~6 KiB
STATUS = {errors.NotFound: 404, errors.Conflict: 409, errors.Invalid: 422, errors.Forbidden: 403}
# The database not answering, as the library and the driver say it (psycopg_pool's
# PoolTimeout is a psycopg.OperationalError): a 503, never a 500 with a traceback.
UNREACHABLE = (persistence.OperationalError, persistence.InterfaceError, psycopg.OperationalError,
               psycopg.InterfaceError)


def problem(status: int, code: str, title: str, detail: str, request: Request | None = None,
            **extra: Any) -> JSONResponse:
    """A problem response, its title and detail in the language the request asks for."""
    title, detail = words(code, language_of(request), title, detail)
    return JSONResponse({"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail, **extra},
                        status_code=status, media_type="application/problem+json",
                        headers={"WWW-Authenticate": "Bearer", "Vary": "Accept-Language"} if status == 401
                        else {"Vary": "Accept-Language"})


def language_of(request: Request | None) -> Language:
    return chosen(request.headers.get("accept-language") if request is not None else None)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def domain_error(request: Request, e: errors.DomainError) -> JSONResponse:
        # Not a family of its own: a read model that is behind (read-your-writes timed out).
        status = next((s for family, s in STATUS.items() if isinstance(e, family)), 503)
        facts = {k: v for k, v in e.facts.items() if k != "errors"}
        return problem(status, e.code, type(e).__name__, e.message, request, **({"facts": facts} if facts else {}))

    async def store_unavailable(request: Request, e: Exception) -> JSONResponse:
        first_line = (str(e).splitlines() or [type(e).__name__])[0]
        log.warning("database unreachable in %s %s: %s", request.method, request.url.path, first_line)
        return await domain_error(request, errors.StoreUnavailable(
            "the database did not answer (a failover may be under way); retry with the same Idempotency-Key"))

    for unreachable in UNREACHABLE:
        app.add_exception_handler(unreachable, store_unavailable)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, e: RequestValidationError) -> JSONResponse:
        issues = [{"where": ".".join(map(str, err["loc"])), "problem": err["msg"]} for err in e.errors()]
        code, title = (("amount-too-large", "Amount too large") if any(err["type"] == "amount_too_large"
                                                                       for err in e.errors())
                       else ("invalid-request", "Invalid request"))
        return problem(422, code, title, "; ".join(f"{i['where']}: {i['problem']}" for i in issues), request,
                       issues=issues)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        code = {404: "no-such-route", 405: "method-not-allowed"}.get(e.status_code, "http-error")
        return problem(e.status_code, code, str(e.detail), str(e.detail), request)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, e: Unauthenticated) -> JSONResponse:
        return problem(401, e.code, "Unauthenticated", str(e), request)

    @app.exception_handler(ProviderUnavailable)
    async def provider_unavailable(request: Request, e: ProviderUnavailable) -> JSONResponse:
        return problem(503, "identity-provider-unavailable", "Identity provider unavailable", str(e), request)


class BodyTooLarge(Exception):
    pass


class Guard:
    """The outermost layer of the app: a request body over MAX_BODY is a 413, and
    an exception nothing else answered is a 500 in problem+json, logged here and
    not raised on, so the server keeps the connection (it reset the next request
    on it before).

    `larger`: the only exceptions to MAX_BODY, a limit of their own by the POST route's
    path (a photo's upload, api/http/photos.py); their bodies are counted and cut the same way."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            # No store keeps a NUL in text (PostgreSQL refuses it): refused for every route at once.
            return await self._answer(scope, send, 422, "invalid-request", "Invalid request",
                                      "a NUL character is not allowed in a path or a query")
        limit = self.larger.get(scope["path"], self.max_body) if scope["method"] == "POST" else self.max_body
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._answer(scope, send, 413, "body-too-large", "Request body too large",
                                      f"a request body may hold at most {limit} bytes")
        started = False
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:
            if not started:
                await self._answer(scope, send, 413, "body-too-large", "Request body too large",
                                   f"a request body may hold at most {limit} bytes")
        except Exception as e:
            log.exception("unanswered error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await self._answer(scope, send, 500, "internal-error", "Internal error",
                                   f"the server failed on this request ({type(e).__name__}); the error is logged")

    @staticmethod
    async def _answer(scope: Scope, send: Send, status: int, code: str, title: str, detail: str) -> None:
        header = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
        title, detail = words(code, chosen(header), title, detail)
        body = orjson.dumps({"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail})
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"vary", b"Accept-Language")]})
        await send({"type": "http.response.body", "body": body})
