"""The reads people work from: clues and the triage queue, appeals and their
queue, rate schedules, riders' profiles, and a rider's own clues, tasks and
appeals. Each is scoped like the rest of the API (a rider sees itself, an
officer its grids, admins, auditors and services their districts) and each
takes `?position=&wait_ms=` for read-your-writes. Outside its scope a token
finds nothing: one thing is a 404, a list leaves it out."""

from __future__ import annotations

from typing import Any, Callable, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.http import operations, responses
from api.http.auth import Principal
from domain import errors
from domain.clues import ClueStatus
from domain.events import Role
from application.service import GridGovernance
from projections.appeals import appeal, appeals_where
from projections.balances import rate_schedules
from projections.board import grid_district, rider_tasks
from projections.clues import clue, clues_where
from projections.riders import rider_profile
from projections.stores import ReadStore

POSITION = operations.POSITION
WAIT = operations.WAIT
AFTER = Query(None, max_length=100, description="the `next` of the page before")
LIMIT = Query(100, ge=1, le=1000)
ClueState = Literal[tuple(s.value for s in ClueStatus)]  # type: ignore[valid-type]
AppealState = Literal["filed", "assigned", "decided"]


def sees(who: Principal, district: str, grid: str | None = None, rider: str | None = None) -> bool:
    """Whether `who` may see a thing of `district` (in `grid`, about `rider`)."""
    if who.role is Role.RIDER:
        return rider is not None and rider == who.sub
    if who.role is Role.GRID_OFFICER:
        return district in who.districts and grid is not None and grid in who.grids
    return district in who.districts


def others(who: Principal, rider_id: UUID, *, officers: bool = True) -> tuple[set[str] | None, set[str] | None]:
    """For a rider's own lists: (districts, grids) the caller may see of them; None, None for the rider itself."""
    if who.role is Role.RIDER:
        if who.sub != str(rider_id):
            raise errors.OutOfScope("a rider sees only its own clues, tasks and appeals")
        return None, None
    if who.role is Role.GRID_OFFICER:
        if not officers:
            raise errors.OutOfScope("appeals are for the rider, and the admins, auditors and services of a district")
        return set(who.districts), set(who.grids)
    return set(who.districts), None


def routes(governance: GridGovernance, store: ReadStore, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])

    async def wait(projection: str, position: int | None, wait_ms: int) -> None:
        await operations.wait_for(governance, store, projection, position, wait_ms)

    # --- clues -----------------------------------------------------------------------
    @router.get("/clues/{clue_id}", response_model=responses.Clue)
    async def get_clue(clue_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                       who: Principal = Depends(principal)) -> dict[str, Any]:
        """One clue: status, the likely duplicates it was offered, its links and its task."""
        await wait("clues", position, wait_ms)
        found = await run_in_threadpool(clue, store, str(clue_id))
        if found is None or not sees(who, found["district"], found["grid_id"], found["reporter_id"]):
            raise errors.ClueNotFound(f"no clue {clue_id} in this token's scope", clue_id=str(clue_id))
        return found

    @router.get("/grids/{grid_id}/clues", response_model=responses.Clues)
    async def get_grid_clues(grid_id: UUID, status: ClueState | None = Query("reported"),  # type: ignore[valid-type]
                             after: str | None = AFTER, limit: int = LIMIT, position: int | None = POSITION,
                             wait_ms: int = WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """A grid's clues, by default those awaiting triage: the officer's queue."""
        if who.role is Role.RIDER:
            raise errors.OutOfScope("a grid's clues are for its officers and its district")
        district = await run_in_threadpool(grid_district, store, str(grid_id))
        if district is None or not sees(who, district, str(grid_id)):
            raise errors.GridNotFound(f"no grid {grid_id} in this token's scope", grid_id=str(grid_id))
        await wait("clues", position, wait_ms)
        return await run_in_threadpool(lambda: clues_where(store, grid_id=str(grid_id), status=status, after=after,
                                                           limit=limit))

    @router.get("/riders/{rider_id}/clues", response_model=responses.Clues)
    async def get_rider_clues(rider_id: UUID, after: str | None = AFTER, limit: int = LIMIT,
                              position: int | None = POSITION, wait_ms: int = WAIT,
                              who: Principal = Depends(principal)) -> dict[str, Any]:
        """The clues a rider reported (of the caller's districts or grids, for anyone but the rider)."""
        districts, grids = others(who, rider_id)
        await wait("clues", position, wait_ms)
        return await run_in_threadpool(lambda: clues_where(store, reporter_id=str(rider_id), districts=districts,
                                                           grids=grids, after=after, limit=limit))

    # --- appeals ---------------------------------------------------------------------
    @router.get("/appeals/{appeal_id}", response_model=responses.Appeal)
    async def get_appeal(appeal_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                         who: Principal = Depends(principal)) -> dict[str, Any]:
        """One appeal: subject, status, assignee, notes, decision and remedy."""
        if who.role is Role.GRID_OFFICER:
            raise errors.OutOfScope("appeals are for the rider, and the admins, auditors and services of a district")
        await wait("appeals", position, wait_ms)
        found = await run_in_threadpool(appeal, store, str(appeal_id))
        if found is None or not sees(who, found["district"], rider=found["rider_id"]):
            raise errors.AppealNotFound(f"no appeal {appeal_id} in this token's scope", appeal_id=str(appeal_id))
        return found

    @router.get("/districts/{district}/appeals", response_model=responses.Appeals)
    async def get_district_appeals(district: str, status: AppealState | None = None, after: str | None = AFTER,
                                   limit: int = LIMIT, position: int | None = POSITION, wait_ms: int = WAIT,
                                   who: Principal = Depends(principal)) -> dict[str, Any]:
        """A district's appeals, by status: the admins' queue."""
        if who.role in (Role.RIDER, Role.GRID_OFFICER):
            raise errors.OutOfScope("a district's appeals are for its admins, auditors and services")
        who.require_district(district)
        await wait("appeals", position, wait_ms)
        return await run_in_threadpool(lambda: appeals_where(store, district=district, status=status, after=after,
                                                             limit=limit))

    @router.get("/riders/{rider_id}/appeals", response_model=responses.Appeals)
    async def get_rider_appeals(rider_id: UUID, after: str | None = AFTER, limit: int = LIMIT,
                                position: int | None = POSITION, wait_ms: int = WAIT,
                                who: Principal = Depends(principal)) -> dict[str, Any]:
        """The appeals a rider filed (of the caller's districts, for anyone but the rider)."""
        districts, _ = others(who, rider_id, officers=False)
        await wait("appeals", position, wait_ms)
        return await run_in_threadpool(lambda: appeals_where(store, rider_id=str(rider_id), districts=districts,
                                                             after=after, limit=limit))

    # --- rates, riders, tasks --------------------------------------------------------------
    @router.get("/districts/{district}/rate-schedules", response_model=list[responses.RateSchedule])
    async def get_rate_schedules(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                                 who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """Every version of the district's rate schedule, newest first, with its effective date.
        Riders may read any district's: what a piece pays is public to those who do it."""
        if who.role is not Role.RIDER:
            who.require_district(district)
        await wait("balances", position, wait_ms)
        return await run_in_threadpool(rate_schedules, store, district)

    @router.get("/riders/{rider_id}", response_model=responses.Rider)
    async def get_rider(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(principal)) -> dict[str, Any]:
        """A rider's profile. Name and phone are unsealed for the rider, the officers of its
        grids and the admins of its districts; after erasure they are gone for everyone."""
        await wait("riders", position, wait_ms)
        profile = await run_in_threadpool(rider_profile, store, str(rider_id))
        if profile is None or not _may_see_rider(who, profile):
            raise errors.RiderNotFound(f"no rider {rider_id} in this token's scope", rider_id=str(rider_id))
        personal = None
        if who.role in (Role.RIDER, Role.GRID_OFFICER, Role.DISTRICT_ADMIN) and not profile["erased"]:
            personal = await run_in_threadpool(governance.personal_data, rider_id)
        return {**profile, "personal": personal}

    @router.get("/riders/{rider_id}/tasks", response_model=responses.RiderTasks)
    async def get_rider_tasks(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                              who: Principal = Depends(principal)) -> dict[str, Any]:
        """The tasks a rider holds or did: claimed, awaiting verification, verified."""
        districts, grids = others(who, rider_id)
        await wait("board", position, wait_ms)
        return await run_in_threadpool(lambda: rider_tasks(store, str(rider_id), governance.clock.now(),
                                                           districts, grids))

    return router


def _may_see_rider(who: Principal, profile: dict[str, Any]) -> bool:
    if who.role is Role.RIDER:
        return who.sub == profile["rider_id"]
    if who.role is Role.GRID_OFFICER:
        return bool(set(profile["grids"]) & who.grids)
    return bool(set(profile["districts"]) & who.districts)
