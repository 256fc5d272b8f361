"""Errors as RFC 9457 problem details (application/problem+json), with a stable
`type` per domain error; never a 500 for bad input."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http.auth import OutOfScope, Unauthenticated
from domain import errors

TYPE_BASE = "urn:gridgov:problem:"
STATUS = {errors.NotFound: 404, errors.Conflict: 409, errors.Invalid: 422, errors.Forbidden: 403}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail, **extra},
                        status_code=status, media_type="application/problem+json",
                        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def domain_error(_: Request, e: errors.DomainError) -> JSONResponse:
        # Not a family of its own: a read model that is behind (read-your-writes timed out).
        status = next((s for family, s in STATUS.items() if isinstance(e, family)), 503)
        facts = {k: v for k, v in e.facts.items() if k != "errors"}
        return problem(status, e.code, type(e).__name__, e.message, **({"facts": facts} if facts else {}))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, e: RequestValidationError) -> JSONResponse:
        issues = [{"where": ".".join(map(str, err["loc"])), "problem": err["msg"]} for err in e.errors()]
        return problem(422, "invalid-request", "Invalid request", "; ".join(f"{i['where']}: {i['problem']}"
                                                                            for i in issues), issues=issues)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, e: StarletteHTTPException) -> JSONResponse:
        code = {404: "no-such-route", 405: "method-not-allowed"}.get(e.status_code, "http-error")
        return problem(e.status_code, code, str(e.detail), str(e.detail))

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(_: Request, e: Unauthenticated) -> JSONResponse:
        return problem(401, "unauthenticated", "Unauthenticated", str(e))

    @app.exception_handler(OutOfScope)
    async def out_of_scope(_: Request, e: OutOfScope) -> JSONResponse:
        return problem(403, "out-of-scope", "Outside this token's scope", str(e))
