"""What a district's auditors take away and who looked (docs/audit.md):

- `GET /v1/districts/{district}/audit-export` — the district's awards of some
  months with their chains and totals, tied to a checkpoint, as XLSX or a ZIP of CSVs;
- `GET /v1/districts/{district}/accesses` — the access log: every request an
  auditor's token made, each one an event in the log (domain/access.py);
- `AccessRecorder`, the outermost layer, which records each of those requests once
  its status is known and before the answer leaves: an access that could not be
  recorded is not served.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Literal
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import callers, operations, responses, scoping
from api.http.auth import Authenticator, Principal, ProviderUnavailable, Unauthenticated
from api.http.paging import cursor, cursor_of
from api.http.problems import problem
from domain.errors import InvalidInput
from domain.events import Role
from application.service import GridGovernance
from domain.time_bounds import MONTH_PATTERN, MONTH_RULE
from exports.build import Months, build
from exports.names import riders_of
from exports.files import MEDIA_TYPE, filename, write
from projections.access import district_accesses
from projections.stores import ReadStore
from transparency.log import TransparencyLog

# Checked by Months.parse (a problem naming `from` or `to`, and the window); the schema says the same.
MONTH_QUERY = {"examples": ["2026-11"], "json_schema_extra": {"pattern": MONTH_PATTERN, "minLength": 7, "maxLength": 7}}
log = logging.getLogger("gridgov.http")


def install(app: FastAPI, governance: GridGovernance, store: ReadStore, tlog: TransparencyLog | None,
            principal: Callable[..., Principal]) -> None:
    app.include_router(routes(governance, store, tlog, principal))


class AccessRecorder:
    """Every request an auditor's token makes — any method, any route or none, any
    status, the Guard's 500s and refusals too — is one `AuditAccessed`, written when
    the answer's status is known and before anything of it is sent. Outermost, so
    that nothing answers an auditor without passing here; pure ASGI, so that an
    exception inside cannot pass it by."""

    def __init__(self, app: ASGIApp, governance: GridGovernance, tlog: TransparencyLog | None,
                 authenticator: Authenticator, signin: callers.Sessions | None = None) -> None:
        self.app, self.governance, self.tlog = app, governance, tlog
        self.authenticator, self.signin = authenticator, signin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not callers.may_be_calling(Request(scope)):
            return await self.app(scope, receive, send)
        started = refused = False

        async def recorded(message: Message) -> None:
            nonlocal started, refused
            if message["type"] == "http.response.start" and not started:
                started = True
                who = scope.get("state", {}).get("principal")
                if who is None:  # no route, or refused before its dependency ran: a token seen before is
                    # answered here; a new one, or a session, is asked in a thread (it may fetch keys)
                    who = callers.known(Request(scope), self.authenticator) or \
                        await run_in_threadpool(self._caller, scope)
                who = _auditor(who)
                if who is not None:
                    try:
                        await run_in_threadpool(_record, self.governance, self.tlog, scope, who, message["status"])
                    except Exception as e:  # an access that leaves no trace is not given
                        log.exception("an auditor's access could not be recorded")
                        refused = True
                        await _not_recorded(scope, receive, send, e)
                        return
            if not refused:
                await send(message)

        await self.app(scope, receive, recorded)

    def _caller(self, scope: Scope) -> Principal | None:
        """Who holds the token or the session, whatever else refused the request: a command
        refused for its missing CSRF token is still that auditor's access, so it is asked as a read."""
        try:
            return callers.caller(Request({**scope, "method": "GET"}), self.authenticator, self.signin)
        except (Unauthenticated, ProviderUnavailable):
            return None


def _auditor(who: Principal | None) -> Principal | None:
    return who if who is not None and who.role is Role.AUDITOR else None


async def _not_recorded(scope: Scope, receive: Receive, send: Send, e: Exception) -> None:
    await problem(503, "access-not-recorded", "Access not recorded",
                  f"this request could not be written to the access log ({type(e).__name__}); "
                  "nothing was served; try again", Request(scope))(scope, receive, send)


def _record(governance: GridGovernance, tlog: TransparencyLog | None, scope: Scope, who: Principal,
            status: int) -> None:
    state = scope.get("state", {})
    route = scope.get("route")
    what = f"{scope['method']} {getattr(route, 'path', None) or scope['path']}"
    path = {k: str(v) for k, v in scope.get("path_params", {}).items()}
    query: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        had = query.get(name)
        query[name] = value if had is None else [*([had] if isinstance(had, str) else had), value]
    # The districts it asked about (by the route's answer, the path or the query); the
    # auditor's own as well when it named none, or one not its own (a refusal, seen by both).
    asked = query.get("district", [])
    named = [*state.get("access_districts", []), path.get("district", ""),
             *([asked] if isinstance(asked, str) else asked)]
    named = [d for d in dict.fromkeys(named) if d]
    own = sorted(who.districts)
    districts = named if named and set(named) <= who.districts else [*own, *named]
    checkpoint = state.get("checkpoint")
    if checkpoint is None and tlog is not None:
        latest = tlog.tree.checkpoint()
        checkpoint = (latest.size, latest.root.hex()) if latest else None
    governance.record_access(who.actor, what, path, districts, status, checkpoint, query)


def routes(governance: GridGovernance, store: ReadStore, tlog: TransparencyLog | None,
           principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1/districts/{district}", tags=["audit"])

    @router.get("/audit-export", response_class=Response, responses={200: {"content": {
        MEDIA_TYPE["xlsx"]: {}, MEDIA_TYPE["csv"]: {}}, "description": "the export, as a file"}})
    async def audit_export(request: Request, district: str,
                           first: str = Query(..., alias="from", description=f"the first month: {MONTH_RULE}",
                                              **MONTH_QUERY),  # type: ignore[arg-type]
                           last: str | None = Query(None, alias="to", description="the last month (default: from)",
                                                    **MONTH_QUERY),  # type: ignore[arg-type]
                           format: Literal["xlsx", "csv"] = Query("xlsx", description="xlsx, or csv: a ZIP of CSVs"),
                           lang: Literal["zh", "en"] = Query("zh", description="headers and labels: 中文 or English"),
                           position: int | None = operations.POSITION, wait_ms: int = operations.WAIT,
                           who: Principal = Depends(principal)) -> Response:
        """The district's awards of some months, each with its whole chain, the payouts,
        totals per rider, grid and month re-added against the balances read model, and
        the checkpoint that holds every row: for the district's auditors."""
        scoping.auditor_of(who, district)
        months = Months.parse(first, last or first)
        if tlog is None:
            raise InvalidInput("this server keeps no transparency log to tie an export to")
        for model in ("audit", "balances"):
            await operations.wait_for(governance, store, model, position, wait_ms)
        export = await run_in_threadpool(build, store, tlog, district, months, who.sub,
                                         rider_name=riders_of(governance))
        request.state.checkpoint = (export.checkpoint.size, export.checkpoint.root)
        body = await run_in_threadpool(write, export, format, lang)
        name = filename(district, months, format)
        return Response(body, media_type=MEDIA_TYPE[format], headers={
            "Content-Disposition": f"attachment; filename=\"gridgov-audit.{name.rpartition('.')[2]}\"; "
                                   f"filename*=UTF-8''{quote(name)}",
            "X-Checkpoint-Size": str(export.checkpoint.size),
            "X-Reconciled": "true" if export.reconciled else "false"})

    @router.get("/accesses", response_model=responses.Accesses)
    async def accesses(district: str,
                       after: str | None = Query(None, max_length=400, description="the `next` of the page before"),
                       limit: int = Query(100, ge=1, le=1000), position: int | None = operations.POSITION,
                       wait_ms: int = operations.WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """Who looked into this district, newest first: every request an auditor's token made
        about it (refusals too, and another district's auditor's refused attempts) and every
        export, each an event in the log, so in the transparency log too."""
        scoping.auditor_of(who, district)
        key = cursor_of(after)
        await operations.wait_for(governance, store, "access", position, wait_ms)
        rows = await run_in_threadpool(district_accesses, store, district, key[:2] if key else None, limit)
        last = rows[-1] if len(rows) == limit else None
        return {"district": district, "accesses": rows,
                "next": cursor((last["at"], last["stream_id"], 1)) if last else None}

    return router
