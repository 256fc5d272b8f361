"""The FastAPI application: one POST route per command, GET routes for the read
models, all under /v1; errors as problem+json.

The command routes are made from the command models themselves, so the OpenAPI
document has each one's exact body schema.
"""

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.http import (audit, auditors, casework, dashboards, docs, operations, pages, problems, responses, rewards,
                      subscription)
from api.http.paging import cursor, cursor_of
from api.http.auth import Principal, decode
from consumers.lag import KafkaLag
from domain import commands as c
from domain.errors import AwardNotFound, InvalidInput, OutOfScope
from domain.clock import CHINA
from domain.time_bounds import DAY_RULE, Day
from domain.events import Role
from application.handlers import HANDLERS
from application.service import GridGovernance
from projections.audit import AUDITED, HistoryFilter, award_chain, district_history
from projections.balances import balance_as_of, district_budgets, rider_balances
from projections.board import BoardQuery, board
from projections.registry import instances
from projections.facts import ts
from projections.points import rider_points
from projections.engine.projector import Projector
from projections.stats import statistics_for
from projections.stores import ReadStore
from transparency.log import TransparencyLog


POSITION, WAIT = operations.POSITION, operations.WAIT
StepKind = Literal[tuple(sorted(AUDITED))]  # type: ignore[valid-type]


def china_midnight(day: date) -> str:
    """The UTC instant a day in China begins, as the read models write time."""
    return ts(datetime.combine(day, time(0), tzinfo=CHINA))


class CommandAccepted(BaseModel):
    position: int
    result: dict[str, Any]
    replayed: bool


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def create_app(governance: GridGovernance, store: ReadStore, secret: str, kafka: KafkaLag | None = None,
               tlog: TransparencyLog | None = None, ready_max_lag: int = 5000) -> FastAPI:
    """`kafka`: set when consumers feed the read models from Kafka (for lag in /readyz and /metrics);
    `tlog`: the transparency log, whose checkpoints and proofs are then served; `ready_max_lag`: how
    many events behind a read model may be while /readyz still says ready."""
    # /docs is served from this package (docs.py); ReDoc would load from a CDN, so there is none.
    app = FastAPI(title="gridgov", version="1.0.0", docs_url=None, redoc_url=None,
                  description="Event-sourced grid governance: commands append events; queries read projections. "
                              "Errors are problem+json; send `Accept-Language: zh-CN` for their words in Chinese.")
    # The queries read these tables: made here (empty), so a server started before
    # its consumers answers "behind", not a 500.
    Projector(store, instances()).create_tables()
    problems.install(app)
    metrics = operations.Metrics()
    operations.install(app, governance, store, metrics, kafka, tlog, ready_max_lag)

    def principal(request: Request, authorization: str | None = Header(None)) -> Principal:
        who = decode(secret, authorization)
        if who.role is Role.PARTNER:
            partner_may_read(request)
        request.state.principal = who  # read again by the access log's recorder (auditors.py)
        return who

    commands = APIRouter(prefix="/v1/commands", tags=["commands"])
    for command_type in HANDLERS:
        commands.add_api_route(f"/{kebab(command_type.__name__)}",
                               command_route(governance, command_type, principal, metrics),
                               methods=["POST"], response_model=CommandAccepted, name=command_type.__name__,
                               summary=command_type.__name__,
                               description=" ".join((command_type.__doc__ or "").split()))
    app.include_router(commands)
    app.include_router(query_routes(governance, store, principal, tlog))
    app.include_router(casework.routes(governance, store, principal))
    app.include_router(dashboards.routes(governance, store, principal))
    app.include_router(rewards.routes(governance, store, principal))
    app.include_router(subscription.routes(governance, principal))
    if tlog is not None:
        audit.install(app, tlog, principal)
    auditors.install(app, governance, store, tlog, principal)
    pages.install(app)
    docs.install(app)
    app.add_middleware(problems.Guard)
    # Outermost, around even the Guard: its 500s and refusals to an auditor are accesses too.
    app.add_middleware(auditors.AccessRecorder, governance=governance, tlog=tlog, secret=secret)
    return app


# What a partner's token may read (its commands are the domain's to decide): its queue, its
# district's rewards, its own events, and the transparency log, which any token may read.
PARTNER_READS = frozenset({"/v1/stations", "/v1/districts/{district}/stations", "/v1/districts/{district}/partners",
                           "/v1/districts/{district}/points-policy", "/v1/districts/{district}/catalogue",
                           "/v1/partners/{partner_id}/queue", "/v1/events/stream"})


def partner_may_read(request: Request) -> None:
    """One list, not a check in every route: a read added later is closed to partners
    until it is named here."""
    path = getattr(request.scope.get("route"), "path", "")
    if request.method == "GET" and path not in PARTNER_READS and not path.startswith("/v1/audit/"):
        raise OutOfScope("a partner's token reads its queue, its district's rewards and its own events, "
                         "nothing else")


def command_route(governance: GridGovernance, command_type: type[c.Command], principal: Callable[..., Principal],
                  metrics: operations.Metrics) -> Callable[..., CommandAccepted]:
    timer = metrics.commands.labels(command_type.__name__)

    def run(body: Any, who: Principal = Depends(principal),
            idempotency_key: str | None = Header(None, max_length=200)) -> CommandAccepted:
        # Authenticated only: what the token may do is the command's to decide (application.handlers).
        with timer.time():
            outcome = governance.execute(body, who.actor, idempotency_key=idempotency_key, scope=who.scope)
        return CommandAccepted(position=outcome.position, result=outcome.result, replayed=outcome.replayed)

    run.__annotations__["body"] = command_type
    return run


def query_routes(governance: GridGovernance, store: ReadStore, principal: Callable[..., Principal],
                 tlog: TransparencyLog | None = None) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])

    def scoped_district(who: Principal, district: str | None) -> str | None:
        if who.role is Role.RIDER:
            return district  # the board is public to riders; their own data is guarded below
        if district is None:
            if len(who.districts) != 1:
                raise OutOfScope("name a district this token covers (?district=…)")
            return next(iter(who.districts))
        who.require_district(district)
        return district

    def own_rider(who: Principal, rider_id: UUID) -> set[str] | None:
        """Districts whose data of this rider the caller may see (None: all of it)."""
        if who.role is Role.RIDER:
            if who.sub != str(rider_id):
                raise OutOfScope("a rider sees only its own balances and points")
            return None
        return set(who.districts)

    @router.get("/board", response_model=responses.Board)
    async def get_board(district: str | None = None, grid_id: str | None = None, status: str | None = None,
                  kind: str | None = None, after: str | None = None, limit: int = Query(100, ge=1, le=1000),
                  position: int | None = POSITION, wait_ms: int = WAIT, who: Principal = Depends(principal)
                  ) -> dict[str, Any]:
        """The grid-task board of a district: its tasks by status (a lapsed claim counts as open),
        with the counts per status; riders may read any district's."""
        query = BoardQuery(district=scoped_district(who, district), grid_id=grid_id, status=status, kind=kind,
                           after=after, limit=limit)
        await operations.wait_for(governance, store, "board", position, wait_ms)
        return await run_in_threadpool(board, store, query, governance.clock.now())

    @router.get("/riders/{rider_id}/balances", response_model=responses.Balances)
    async def get_balances(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                     who: Principal = Depends(principal)) -> dict[str, Any]:
        """A rider's subsidy per month and district (fen): awarded, withheld by a cap, reversed,
        paid and payable, and their sum. The rider sees every district's; others their own."""
        districts = own_rider(who, rider_id)
        await operations.wait_for(governance, store, "balances", position, wait_ms)
        # A rider sees every district's slice and their sum; anyone else its districts' slices.
        return await run_in_threadpool(rider_balances, store, str(rider_id), districts)

    @router.get("/riders/{rider_id}/balance-at", response_model=responses.BalanceAt)
    async def get_balance_at(rider_id: UUID, at: c.AwareDatetime, position: int | None = POSITION,
                             wait_ms: int = WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """What a rider's balance was at an instant, across districts (fen): for the rider itself."""
        if own_rider(who, rider_id) is not None and who.role is not Role.RIDER:
            raise OutOfScope("a balance across districts is for the rider itself")
        await operations.wait_for(governance, store, "balances", position, wait_ms)
        balance = await run_in_threadpool(balance_as_of, store, str(rider_id), at)
        return {"rider_id": str(rider_id), "at": at.isoformat(), "balance_fen": balance}

    @router.get("/riders/{rider_id}/points", response_model=responses.Points)
    async def get_points(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                   who: Principal = Depends(principal)) -> dict[str, Any]:
        """A rider's points (积分): balance, earned, redeemed, expired, and what it redeemed."""
        if who.role is not Role.RIDER:
            raise OutOfScope("points are for the rider itself")
        own_rider(who, rider_id)
        await operations.wait_for(governance, store, "points", position, wait_ms)
        points = await run_in_threadpool(rider_points, store, str(rider_id))
        by_district = await run_in_threadpool(governance.points_by_district, rider_id)
        return {**points, "by_district": [{"district": d, "available": n} for d, n in sorted(by_district.items())]}

    @router.get("/districts/{district}/budgets", response_model=list[responses.Budget])
    async def get_budgets(district: str, period: c.Period | None = None, position: int | None = POSITION,
                          wait_ms: int = WAIT, who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A district's subsidy budget per month (fen): allocated, committed by awards, remaining."""
        who.require_district(district)
        await operations.wait_for(governance, store, "balances", position, wait_ms)
        return await run_in_threadpool(district_budgets, store, district, period)

    @router.get("/districts/{district}/history", response_model=responses.History)
    async def get_history(district: str,
                          after: str | None = Query(None, max_length=400, description="the `next` of the page before"),
                          limit: int = Query(100, ge=1, le=1000),
                          kind: list[StepKind] = Query([], description="only steps of these event types"),  # type: ignore[valid-type]
                          rider: UUID | None = Query(None, description="only what this rider did or is named in"),
                          grid: UUID | None = Query(None, description="only the steps of this grid's clues and tasks"),
                          since: Day | None = Query(None, alias="from", description=f"first day (China), {DAY_RULE}"),
                          until: Day | None = Query(None, alias="to", description=f"last day (China), {DAY_RULE}"),
                          position: int | None = POSITION, wait_ms: int = WAIT,
                          who: Principal = Depends(principal)) -> dict[str, Any]:
        """Every audited step in a district, oldest first, narrowed by kind, rider, grid and
        days: the political-legal committee's view of its history."""
        if who.role in (Role.RIDER, Role.GRID_OFFICER):
            raise OutOfScope("a district's history is for its admins, auditors and services")
        who.require_district(district)
        if since is not None and until is not None and until < since:
            raise InvalidInput("`to` is before `from`", **{"from": since.isoformat(), "to": until.isoformat()})
        only = HistoryFilter(kinds=tuple(kind), rider=str(rider) if rider else None, grid=str(grid) if grid else None,
                             since=china_midnight(since) if since else None,
                             until=china_midnight(until + timedelta(days=1)) if until else None)
        key = cursor_of(after)
        await operations.wait_for(governance, store, "audit", position, wait_ms)
        steps = await run_in_threadpool(district_history, store, district, key, limit, only)
        last = steps[-1] if len(steps) == limit else None
        return {"district": district, "steps": steps,
                "next": cursor((last["at"], last["stream_id"], last["version"])) if last else None}

    @router.get("/awards/{piece_id}/chain", response_model=responses.Chain)
    async def get_chain(request: Request, piece_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                        checkpoint: int | None = Query(None, ge=1, le=2**62, description=(
                            "a checkpoint's tree size: each step then carries its inclusion proof in it")),
                        who: Principal = Depends(principal)) -> dict[str, Any]:
        """An award's whole chain, each step with its log position and leaf index in the
        transparency log (and, with `checkpoint`, its inclusion proof there)."""
        if who.role is Role.RIDER:
            raise OutOfScope("the audit trail is for officers, admins and auditors")
        await operations.wait_for(governance, store, "audit", position, wait_ms)
        chain = await run_in_threadpool(award_chain, store, str(piece_id), set(who.districts))
        if chain is None:
            raise AwardNotFound(f"no award for piece {piece_id} in this token's districts", piece_id=str(piece_id))
        request.state.access_districts = [chain["district"]]
        if tlog is not None:
            kept = await run_in_threadpool(tlog.place, [*chain["steps"], *chain["payouts"]], checkpoint)
            if kept is not None:
                request.state.checkpoint = (kept.size, kept.root.hex())
                chain["checkpoint"] = {"size": kept.size, "root": kept.root.hex(), "note": kept.note}
        elif checkpoint is not None:
            raise InvalidInput("this server keeps no transparency log to prove steps in")
        return chain

    @router.get("/stats", response_model=responses.Statistics)
    async def get_stats(district: str | None = None, position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(principal)) -> dict[str, Any]:
        """A district's statistics: clues per day and category, duplicates, the median times
        from clue to task and from claim to verification, appeals open and decided."""
        scoped = scoped_district(who, district)
        await operations.wait_for(governance, store, "stats", position, wait_ms)
        return await run_in_threadpool(statistics_for, store, scoped)

    return router


def app_of(engine: Any, secret: str) -> FastAPI:
    """The HTTP API over what the composition root built (a gridgov.bootstrap.Engine):
    the composition root imports no entry point, so the app is made here, from its parts."""
    return create_app(engine.app, engine.store, secret, engine.kafka, engine.tlog, engine.settings.READY_MAX_LAG)
