"""The reads of the board, a rider's money and points, a district's budgets and
history, an award's chain and the statistics; what each caller may read of them is
scoping.py's to say. Each takes `?position=&wait_ms=` for read-your-writes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.http import operations, responses, scoping
from api.http.auth import Principal
from api.http.operations import Reads
from api.http.paging import cursor, cursor_of
from domain import commands as c
from domain.clock import CHINA
from domain.errors import AwardNotFound, InvalidInput
from domain.time_bounds import DAY_RULE, Day
from projections.audit import AUDITED, HistoryFilter, award_chain, district_history_page, in_log_order, log_order
from projections.balances import balance_as_of, district_budgets, rider_balances
from projections.board import BoardQuery, board
from projections.facts import ts
from projections.pieces import rider_pieces
from projections.points import rider_points
from projections.stats import statistics_for

POSITION, WAIT = operations.POSITION, operations.WAIT
StepKind = Literal[tuple(sorted(AUDITED))]  # type: ignore[valid-type]


def china_midnight(day: date) -> str:
    """The UTC instant a day in China begins, as the read models write time."""
    return ts(datetime.combine(day, time(0), tzinfo=CHINA))


def routes(reads: Reads) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])
    for add in (_board, _rider_money, _district_books, _chain_and_stats):  # in this order in the OpenAPI document
        add(router, reads)
    return router


def _board(router: APIRouter, reads: Reads) -> None:
    @router.get("/board", response_model=responses.Board)
    async def get_board(district: str | None = None, grid_id: str | None = None, status: str | None = None,
                  kind: str | None = None, after: str | None = None, limit: int = Query(100, ge=1, le=1000),
                  position: int | None = POSITION, wait_ms: int = WAIT, who: Principal = Depends(reads.principal)
                  ) -> dict[str, Any]:
        """The grid-task board of a district: its tasks by status (a lapsed claim counts as open),
        with the counts per status; riders may read any district's."""
        query = BoardQuery(district=scoping.district_of(who, district), grid_id=grid_id, status=status, kind=kind,
                           after=after, limit=limit)
        await reads.wait("board", position, wait_ms)
        found = await run_in_threadpool(board, reads.store, query, reads.governance.clock.now())
        scoping.completions_for(who, found["tasks"])
        return found


def _rider_money(router: APIRouter, reads: Reads) -> None:
    store = reads.store

    @router.get("/riders/{rider_id}/balances", response_model=responses.Balances)
    async def get_balances(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                     who: Principal = Depends(reads.principal)) -> dict[str, Any]:
        """A rider's subsidy per month and district (fen): awarded, withheld by a cap, reversed,
        paid and payable, and their sum. The rider sees every district's; others their own."""
        districts = scoping.rider_money(who, rider_id)
        await reads.wait("balances", position, wait_ms)
        # A rider sees every district's slice and their sum; anyone else its districts' slices.
        return await run_in_threadpool(rider_balances, store, str(rider_id), districts)

    @router.get("/riders/{rider_id}/pieces", response_model=responses.Pieces)
    async def get_pieces(rider_id: UUID, period: c.Period | None = None, limit: int = Query(100, ge=1, le=500),
                         position: int | None = POSITION, wait_ms: int = WAIT,
                         who: Principal = Depends(reads.principal)) -> dict[str, Any]:
        """A rider's pieces, newest first (fen): what each rate said, what was awarded, what was
        withheld and by what (day_cap, month_cap, budget), what a reversal took and why. Whose: as balances."""
        districts = scoping.rider_money(who, rider_id)
        await reads.wait("pieces", position, wait_ms)
        found = await run_in_threadpool(rider_pieces, store, str(rider_id), districts, period, limit)
        return {"rider_id": str(rider_id), "pieces": found}

    @router.get("/riders/{rider_id}/balance-at", response_model=responses.BalanceAt)
    async def get_balance_at(rider_id: UUID, at: c.AwareDatetime, position: int | None = POSITION,
                             wait_ms: int = WAIT, who: Principal = Depends(reads.principal)) -> dict[str, Any]:
        """What a rider's balance was at an instant, across districts (fen): for the rider itself."""
        scoping.rider_itself(who, rider_id, "a balance across districts is for the rider itself", scoping.OWN_MONEY)
        await reads.wait("balances", position, wait_ms)
        balance = await run_in_threadpool(balance_as_of, store, str(rider_id), at)
        return {"rider_id": str(rider_id), "at": at.isoformat(), "balance_fen": balance}

    @router.get("/riders/{rider_id}/points", response_model=responses.Points)
    async def get_points(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                   who: Principal = Depends(reads.principal)) -> dict[str, Any]:
        """A rider's points (积分): balance, earned, redeemed, expired, and what it redeemed."""
        scoping.rider_itself(who, rider_id, "points are for the rider itself", scoping.OWN_MONEY)
        await reads.wait("points", position, wait_ms)
        points = await run_in_threadpool(rider_points, store, str(rider_id))
        by_district = await run_in_threadpool(reads.governance.points_by_district, rider_id)
        return {**points, "by_district": [{"district": d, "available": n} for d, n in sorted(by_district.items())]}


def _district_books(router: APIRouter, reads: Reads) -> None:
    @router.get("/districts/{district}/budgets", response_model=list[responses.Budget])
    async def get_budgets(district: str, period: c.Period | None = None, position: int | None = POSITION,
                          wait_ms: int = WAIT, who: Principal = Depends(reads.principal)) -> list[dict[str, Any]]:
        """A district's subsidy budget per month (fen): allocated, committed by awards, remaining."""
        scoping.require_district(who, district)
        await reads.wait("balances", position, wait_ms)
        return await run_in_threadpool(district_budgets, reads.store, district, period)

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
                          who: Principal = Depends(reads.principal)) -> dict[str, Any]:
        """Every audited step in a district, oldest first, narrowed by kind, rider, grid and
        days: the political-legal committee's view of its history."""
        scoping.staff_of(who, district, "a district's history is for its admins, auditors and services")
        if since is not None and until is not None and until < since:
            raise InvalidInput("`to` is before `from`", **{"from": since.isoformat(), "to": until.isoformat()})
        only = HistoryFilter(kinds=tuple(kind), rider=str(rider) if rider else None, grid=str(grid) if grid else None,
                             since=china_midnight(since) if since else None,
                             until=china_midnight(until + timedelta(days=1)) if until else None)
        key = cursor_of(after)
        await reads.wait("audit", position, wait_ms)
        steps, last = await run_in_threadpool(district_history_page, reads.store, district, key, limit, only)
        if reads.tlog is not None:  # each instant's steps (one command's) as the log holds them
            steps = await run_in_threadpool(in_log_order, steps, reads.tlog.eventlog.positions_of)
        return {"district": district, "steps": steps, "next": cursor(last) if last else None}


def _chain_and_stats(router: APIRouter, reads: Reads) -> None:
    @router.get("/awards/{piece_id}/chain", response_model=responses.Chain)
    async def get_chain(request: Request, piece_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                        checkpoint: int | None = Query(None, ge=1, le=2**62, description=(
                            "a checkpoint's tree size: each step then carries its inclusion proof in it")),
                        who: Principal = Depends(reads.principal)) -> dict[str, Any]:
        """An award's whole chain, each step with its log position and leaf index in the
        transparency log (and, with `checkpoint`, its inclusion proof there)."""
        districts = scoping.trail_districts(who)
        await reads.wait("audit", position, wait_ms)
        chain = await run_in_threadpool(award_chain, reads.store, str(piece_id), districts)
        if chain is None:
            raise AwardNotFound(f"no award for piece {piece_id} in this token's districts", piece_id=str(piece_id))
        request.state.access_districts = [chain["district"]]
        if reads.tlog is not None:
            kept = await run_in_threadpool(reads.tlog.place, [*chain["steps"], *chain["payouts"]], checkpoint)
            for part in ("steps", "payouts"):
                chain[part].sort(key=log_order)
            if kept is not None:
                request.state.checkpoint = (kept.size, kept.root.hex())
                chain["checkpoint"] = {"size": kept.size, "root": kept.root.hex(), "note": kept.note}
        elif checkpoint is not None:
            raise InvalidInput("this server keeps no transparency log to prove steps in")
        return chain

    @router.get("/stats", response_model=responses.Statistics)
    async def get_stats(district: str | None = None, position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(reads.principal)) -> dict[str, Any]:
        """A district's statistics: clues per day and category, duplicates, the median times
        from clue to task and from claim to verification, appeals open and decided."""
        scoped = scoping.district_of(who, district)
        await reads.wait("stats", position, wait_ms)
        return await run_in_threadpool(statistics_for, reads.store, scoped)
