"""What a district's auditors take away and who looked (docs/audit.md):

- `GET /v1/districts/{district}/audit-export` — the district's awards of some
  months with their chains and totals, tied to a checkpoint, as XLSX or a ZIP of CSVs;
- `GET /v1/districts/{district}/accesses` — the access log: every query an
  auditor made, each one an event in the log (domain/access.py);
- the layer that records those accesses, after each auditor's request is answered
  and before the answer leaves: an access that could not be recorded is not served.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from api.http import operations
from api.http.auth import Principal
from api.http.paging import cursor, cursor_of
from api.http.problems import problem
from domain.errors import InvalidInput, OutOfScope
from domain.events import Role
from domain.service import GridGovernance
from exports.build import Months, build
from exports.files import MEDIA_TYPE, filename, write
from projections.access import district_accesses
from projections.stores import ReadStore
from transparency.log import TransparencyLog

MONTH_QUERY = {"min_length": 7, "max_length": 7, "examples": ["2026-11"]}


def install(app: FastAPI, governance: GridGovernance, store: ReadStore, tlog: TransparencyLog | None,
            principal: Callable[..., Principal]) -> None:
    app.include_router(routes(governance, store, tlog, principal))

    @app.middleware("http")
    async def record_access(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        who: Principal | None = getattr(request.state, "principal", None)
        # Queries only: a command an auditor tries is refused, and a refusal writes nothing.
        if who is None or who.role is not Role.AUDITOR or request.method not in ("GET", "HEAD"):
            return response
        try:
            await run_in_threadpool(_record, governance, tlog, request, who, response.status_code)
        except Exception as e:  # an access that leaves no trace is not given
            return problem(503, "access-not-recorded", "Access not recorded",
                           f"this request could not be written to the access log ({type(e).__name__}); "
                           "nothing was served; try again", request)
        return response


def _record(governance: GridGovernance, tlog: TransparencyLog | None, request: Request, who: Principal,
            status: int) -> None:
    route = request.scope.get("route")
    what = getattr(route, "path", request.url.path)
    named = request.path_params.get("district") or request.query_params.get("district")
    districts = getattr(request.state, "access_districts", None) or (
        [named] if named in who.districts else sorted(who.districts))
    checkpoint = getattr(request.state, "checkpoint", None)
    if checkpoint is None and tlog is not None:
        latest = tlog.tree.checkpoint()
        checkpoint = (latest.size, latest.root.hex()) if latest else None
    parameters = {**{k: str(v) for k, v in request.path_params.items()}, **dict(request.query_params)}
    governance.record_access(who.actor, what, parameters, districts, status, checkpoint)


def auditor_of(who: Principal, district: str) -> None:
    if who.role is not Role.AUDITOR:
        raise OutOfScope("a district's exports and access log are for its auditors")
    who.require_district(district)


def routes(governance: GridGovernance, store: ReadStore, tlog: TransparencyLog | None,
           principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1/districts/{district}", tags=["audit"])

    @router.get("/audit-export", response_class=Response, responses={200: {"content": {
        MEDIA_TYPE["xlsx"]: {}, MEDIA_TYPE["csv"]: {}}, "description": "the export, as a file"}})
    async def audit_export(request: Request, district: str,
                           first: str = Query(..., alias="from", description="the first month, YYYY-MM",
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
        auditor_of(who, district)
        months = Months.parse(first, last or first)
        if tlog is None:
            raise InvalidInput("this server keeps no transparency log to tie an export to")
        for model in ("audit", "balances"):
            await operations.wait_for(governance, store, model, position, wait_ms)
        export = await run_in_threadpool(build, store, tlog, district, months, who.sub)
        request.state.checkpoint = (export.checkpoint.size, export.checkpoint.root)
        body = await run_in_threadpool(write, export, format, lang)
        name = filename(district, months, format)
        return Response(body, media_type=MEDIA_TYPE[format], headers={
            "Content-Disposition": f"attachment; filename=\"gridgov-audit.{name.rpartition('.')[2]}\"; "
                                   f"filename*=UTF-8''{quote(name)}",
            "X-Checkpoint-Size": str(export.checkpoint.size),
            "X-Reconciled": "true" if export.reconciled else "false"})

    @router.get("/accesses")
    async def accesses(district: str,
                       after: str | None = Query(None, max_length=400, description="the `next` of the page before"),
                       limit: int = Query(100, ge=1, le=1000), position: int | None = operations.POSITION,
                       wait_ms: int = operations.WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """Who queried or exported this district's history, newest first: each of an
        auditor's requests is an event in the log, so in the transparency log too."""
        auditor_of(who, district)
        key = cursor_of(after)
        await operations.wait_for(governance, store, "access", position, wait_ms)
        rows = await run_in_threadpool(district_accesses, store, district, key[:2] if key else None, limit)
        last = rows[-1] if len(rows) == limit else None
        return {"district": district, "accesses": rows,
                "next": cursor((last["at"], last["stream_id"], 1)) if last else None}

    return router
