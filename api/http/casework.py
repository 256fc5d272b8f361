"""The reads people work from: clues and the triage queue, appeals and their
queue, rate schedules, riders' profiles, a rider's own clues, tasks and
appeals, and the district's staff by name. Each is scoped by scoping.py, like the rest of the API (a rider sees
itself, an officer its grids, admins, auditors and services their districts), and each
takes `?position=&wait_ms=` for read-your-writes. Outside its scope a token
finds nothing: one thing is a 404, a list leaves it out."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.http import operations, responses, scoping
from api.http.auth import Principal
from api.http.operations import Reads
from domain import errors
from domain.clues import ClueStatus
from projections.appeals import appeal, appeals_where
from projections.balances import rate_schedules
from projections.board import grid_district, rider_tasks
from projections.clues import clue, clues_where
from projections.riders import rider_profile
from projections.staff import district_staff

POSITION = operations.POSITION
WAIT = operations.WAIT
AFTER = Query(None, max_length=100, description="the `next` of the page before")
LIMIT = Query(100, ge=1, le=1000)
ClueState = Literal[tuple(s.value for s in ClueStatus)]  # type: ignore[valid-type]
AppealState = Literal["filed", "assigned", "decided"]


def routes(reads: Reads) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])
    for add in (_clues, _appeals, _rates_riders_tasks, _staff):  # in this order in the OpenAPI document
        add(router, reads)
    return router


def _clues(router: APIRouter, reads: Reads) -> None:
    store, wait, principal = reads.store, reads.wait, reads.principal

    @router.get("/clues/{clue_id}", response_model=responses.Clue)
    async def get_clue(clue_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                       who: Principal = Depends(principal)) -> dict[str, Any]:
        """One clue: status, the likely duplicates it was offered, its links and its task."""
        await wait("clues", position, wait_ms)
        found = await run_in_threadpool(clue, store, str(clue_id))
        if found is None or not scoping.sees(who, found["district"], found["grid_id"], found["reporter_id"]):
            raise errors.ClueNotFound(f"no clue {clue_id} in this token's scope", clue_id=str(clue_id))
        return found

    @router.get("/grids/{grid_id}/clues", response_model=responses.Clues)
    async def get_grid_clues(grid_id: UUID, status: ClueState | None = Query("reported"),  # type: ignore[valid-type]
                             after: str | None = AFTER, limit: int = LIMIT, position: int | None = POSITION,
                             wait_ms: int = WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """A grid's clues, by default those awaiting triage: the officer's queue."""
        scoping.not_riders(who, "a grid's clues are for its officers and its district")
        district = await run_in_threadpool(grid_district, store, str(grid_id))
        if district is None or not scoping.sees(who, district, str(grid_id)):
            raise errors.GridNotFound(f"no grid {grid_id} in this token's scope", grid_id=str(grid_id))
        await wait("clues", position, wait_ms)
        return await run_in_threadpool(lambda: clues_where(store, grid_id=str(grid_id), status=status, after=after,
                                                           limit=limit))

    @router.get("/districts/{district}/clue-queue", response_model=responses.Clues)
    async def get_clue_queue(district: str, status: ClueState | None = Query("reported"),  # type: ignore[valid-type]
                             after: str | None = AFTER, limit: int = LIMIT, position: int | None = POSITION,
                             wait_ms: int = WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """The district's clues whose location fell in no grid, by default those awaiting triage: the admins'
        queue (an admin accepts one into a grid it names)."""
        scoping.staff_of(who, district, "clues in no grid are for the district's admins, auditors and services")
        await wait("clues", position, wait_ms)
        return await run_in_threadpool(lambda: clues_where(store, districts={district}, status=status, after=after,
                                                           limit=limit, in_no_grid=True))

    @router.get("/riders/{rider_id}/clues", response_model=responses.Clues)
    async def get_rider_clues(rider_id: UUID, after: str | None = AFTER, limit: int = LIMIT,
                              position: int | None = POSITION, wait_ms: int = WAIT,
                              who: Principal = Depends(principal)) -> dict[str, Any]:
        """The clues a rider reported (of the caller's districts or grids, for anyone but the rider)."""
        districts, grids = scoping.rider_lists(who, rider_id)
        await wait("clues", position, wait_ms)
        return await run_in_threadpool(lambda: clues_where(store, reporter_id=str(rider_id), districts=districts,
                                                           grids=grids, after=after, limit=limit))


def _appeals(router: APIRouter, reads: Reads) -> None:
    store, wait, principal = reads.store, reads.wait, reads.principal

    @router.get("/appeals/{appeal_id}", response_model=responses.Appeal)
    async def get_appeal(appeal_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                         who: Principal = Depends(principal)) -> dict[str, Any]:
        """One appeal: subject, status, assignee, notes (their text for the district's staff), decision and remedy."""
        scoping.not_officers(who)
        await wait("appeals", position, wait_ms)
        found = await run_in_threadpool(appeal, store, str(appeal_id), scoping.sees_appeal_notes(who))
        if found is None or not scoping.sees(who, found["district"], rider=found["rider_id"]):
            raise errors.AppealNotFound(f"no appeal {appeal_id} in this token's scope", appeal_id=str(appeal_id))
        return found

    @router.get("/districts/{district}/appeals", response_model=responses.Appeals)
    async def get_district_appeals(district: str, status: AppealState | None = None, after: str | None = AFTER,
                                   limit: int = LIMIT, position: int | None = POSITION, wait_ms: int = WAIT,
                                   who: Principal = Depends(principal)) -> dict[str, Any]:
        """A district's appeals, by status: the admins' queue."""
        scoping.staff_of(who, district, "a district's appeals are for its admins, auditors and services")
        await wait("appeals", position, wait_ms)
        return await run_in_threadpool(lambda: appeals_where(store, district=district, status=status, after=after,
                                                             limit=limit, notes=True))

    @router.get("/riders/{rider_id}/appeals", response_model=responses.Appeals)
    async def get_rider_appeals(rider_id: UUID, after: str | None = AFTER, limit: int = LIMIT,
                                position: int | None = POSITION, wait_ms: int = WAIT,
                                who: Principal = Depends(principal)) -> dict[str, Any]:
        """The appeals a rider filed (of the caller's districts, for anyone but the rider)."""
        districts, _ = scoping.rider_lists(who, rider_id, officers=False)
        await wait("appeals", position, wait_ms)
        return await run_in_threadpool(lambda: appeals_where(store, rider_id=str(rider_id), districts=districts,
                                                             after=after, limit=limit,
                                                             notes=scoping.sees_appeal_notes(who)))


def _rates_riders_tasks(router: APIRouter, reads: Reads) -> None:
    governance, store, wait, principal = reads.governance, reads.store, reads.wait, reads.principal

    @router.get("/districts/{district}/rate-schedules", response_model=list[responses.RateSchedule])
    async def get_rate_schedules(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                                 who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """Every version of the district's rate schedule, newest first, with its effective date.
        Riders may read any district's: what a piece pays is public to those who do it."""
        scoping.public_to_riders(who, district)
        await wait("balances", position, wait_ms)
        return await run_in_threadpool(rate_schedules, store, district)

    @router.get("/riders/{rider_id}", response_model=responses.Rider)
    async def get_rider(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(principal)) -> dict[str, Any]:
        """A rider's profile. Name and phone are unsealed for the rider, the officers of its
        grids and the admins of its districts; after erasure they are gone for everyone."""
        await wait("riders", position, wait_ms)
        profile = await run_in_threadpool(rider_profile, store, str(rider_id))
        if profile is None or not scoping.sees_rider(who, profile):
            raise errors.RiderNotFound(f"no rider {rider_id} in this token's scope", rider_id=str(rider_id))
        personal = None
        if scoping.sees_personal(who) and not profile["erased"]:
            personal = await run_in_threadpool(governance.personal_data, rider_id)
        return {**profile, "personal": personal}

    @router.get("/riders/{rider_id}/tasks", response_model=responses.RiderTasks)
    async def get_rider_tasks(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                              who: Principal = Depends(principal)) -> dict[str, Any]:
        """The tasks a rider holds or did: claimed, awaiting verification, verified."""
        districts, grids = scoping.rider_lists(who, rider_id)
        await wait("board", position, wait_ms)
        return await run_in_threadpool(lambda: rider_tasks(store, str(rider_id), governance.clock.now(),
                                                           districts, grids))

    return router


def _staff(router: APIRouter, reads: Reads) -> None:
    store, wait, principal = reads.store, reads.wait, reads.principal

    @router.get("/districts/{district}/staff", response_model=responses.Staff)
    async def get_staff(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(principal)) -> dict[str, Any]:
        """The district's officers and admins by the names pages show, each with the whole id their token carries
        (`name-staff` names them). For the district's officers, admins, auditors and services."""
        scoping.staff_directory(who, district)
        await wait("staff", position, wait_ms)
        return {"district": district, "staff": await run_in_threadpool(district_staff, store, district)}
