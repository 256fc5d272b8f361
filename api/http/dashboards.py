"""What the pages look at beside the lists: a district's grids, where its clues
were reported (the clue map), the open tasks nearest a rider, and subsidy paid
day by day against the month's budget (the charts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.http import responses, scoping
from api.http.auth import Principal
from api.http.operations import POSITION, WAIT, Reads
from domain import errors
from domain.clock import local_month
from domain.clues import Location, distance_m
from domain.commands import Period
from domain.time_bounds import MONTH_RULE
from projections.balances import latest_budget_period, subsidy_per_day
from projections.board import district_grids, district_places, open_tasks
from projections.clues import clue_points, locations, open_counts
from projections.facts import ts
from projections.riders import rider_profile

NEAR = Query(None, pattern=r"^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$",
             description="`lat,lon` of where the rider is: nearest first (tasks without a place last)")


def routes(reads: Reads) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])
    for add in (_district, _rider):  # in this order in the OpenAPI document
        add(router, reads)
    return router


def _district(router: APIRouter, reads: Reads) -> None:
    governance, store, wait, principal = reads.governance, reads.store, reads.wait, reads.principal

    @router.get("/districts/{district}/grids", response_model=list[responses.Grid])
    async def get_grids(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A district's grids by street and community (an officer's own grids only). Public to
        riders, as the board is: a rider picks the grid a clue is in by its name."""
        grids = scoping.grids_in(who, district, riders=True)
        await wait("board", position, wait_ms)
        return await run_in_threadpool(district_grids, store, district, grids)

    @router.get("/districts/{district}/places", response_model=responses.GridPlaces)
    async def get_places(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                         who: Principal = Depends(principal)) -> dict[str, Any]:
        """Where the district and its grids lie, as a GeoJSON FeatureCollection (longitude, latitude): the
        district's boundary with its queue of clues in no grid, then each active grid (an officer's own grids
        only, and no queue) with its name and open clues. What the maps draw."""
        grids = scoping.grids_in(who, district)
        await wait("board", position, wait_ms)
        await wait("clues", position, wait_ms)
        places = await run_in_threadpool(district_places, store, district, grids)
        counts = await run_in_threadpool(open_counts, store, district)
        return feature_collection(places, counts, queue=grids is None)

    @router.get("/districts/{district}/clue-map", response_model=responses.ClueMap)
    async def get_clue_map(district: str, days: int = Query(30, ge=1, le=366, description="how many days back"),
                           limit: int = Query(5000, ge=1, le=20000), position: int | None = POSITION,
                           wait_ms: int = WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """Where the district's clues of the last `days` were reported, by category and status,
        newest first: the points of the clue map (no map tiles: the page draws them itself)."""
        grids = scoping.grids_in(who, district)
        since = ts(governance.clock.now() - timedelta(days=days))
        await wait("clues", position, wait_ms)
        points = await run_in_threadpool(lambda: clue_points(store, district, grids, since, limit))
        return {"district": district, "since": since, "points": points}

    @router.get("/districts/{district}/subsidy-per-day", response_model=responses.SubsidyMonth)
    async def get_subsidy_per_day(district: str, period: Period | None = Query(
                                      None, description=f"{MONTH_RULE} (default: the last month with a budget, "
                                                        "else this month in China)"),
                                  position: int | None = POSITION, wait_ms: int = WAIT,
                                  who: Principal = Depends(principal)) -> dict[str, Any]:
        """Subsidy awarded and reversed per day (China time) of a month, in fen, beside its budget."""
        scoping.staff_of(who, district, "a district's money is for its admins, auditors and services")
        await wait("balances", position, wait_ms)
        if period is None:
            period = await run_in_threadpool(latest_budget_period, store, district)
        return await run_in_threadpool(subsidy_per_day, store, district,
                                       period or local_month(governance.clock.now()))


def _rider(router: APIRouter, reads: Reads) -> None:
    governance, store, wait, principal = reads.governance, reads.store, reads.wait, reads.principal

    @router.get("/riders/{rider_id}/open-tasks", response_model=responses.OpenTasks)
    async def get_open_tasks(rider_id: UUID, near: str | None = NEAR, position: int | None = POSITION,
                             wait_ms: int = WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """The tasks open in a rider's grids, each with the place of the clue it came from
        (none for a task published without one) and, given `near`, its distance in metres."""
        scoping.rider_itself(who, rider_id, "a rider's open tasks are for the rider itself")
        here = _location(near)
        await wait("board", position, wait_ms)
        profile = await run_in_threadpool(rider_profile, store, str(rider_id))
        grids = set(profile["grids"]) if profile else set()
        tasks = await run_in_threadpool(open_tasks, store, grids, governance.clock.now())
        places = await run_in_threadpool(locations, store, [t["source_clue_id"] for t in tasks if t["source_clue_id"]])
        for task in tasks:
            task["location"] = places.get(task["source_clue_id"] or "")
            task["distance_m"] = (round(distance_m(here, Location(**task["location"])))
                                  if here is not None and task["location"] else None)
        if here is not None:
            tasks.sort(key=lambda t: (t["distance_m"] is None, t["distance_m"] or 0))
        return {"rider_id": str(rider_id), "tasks": tasks}


def _location(near: str | None) -> Location | None:
    if near is None:
        return None
    lat, lon = (float(part) for part in near.split(","))
    try:
        return Location(lat=lat, lon=lon)
    except ValueError:
        raise errors.InvalidInput("`near` is `lat,lon` within ±90 and ±180 degrees", near=near) from None


def feature_collection(places: dict[str, Any], counts: dict[str | None, int], queue: bool) -> dict[str, Any]:
    """The district's places as GeoJSON: the district's feature (if drawn), then a feature per grid."""
    district = places["district"]
    features = []
    if places["boundary"] is not None:
        features.append({"type": "Feature", "id": district, "geometry": places["boundary"],
                         "properties": {"kind": "district", "district": district,
                                        "queued": counts.get(None, 0) if queue else None}})
    for grid in places["grids"]:
        features.append({"type": "Feature", "id": grid["grid_id"], "geometry": grid["boundary"],
                         "properties": {"kind": "grid", "district": district, "grid_id": grid["grid_id"],
                                        "name": grid["name"], "street": grid["street"],
                                        "community": grid["community"],
                                        "open_clues": counts.get(grid["grid_id"], 0)}})
    return {"type": "FeatureCollection", "district": district, "features": features}
