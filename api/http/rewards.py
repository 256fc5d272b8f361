"""Reads of the rewards: stations near a place, a district's catalogue, a partner's
queue, a rider's redemptions, and what each partner handed out in a month."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.http import operations, responses, scoping
from api.http.auth import Principal
from api.http.operations import Reads
from domain import errors
from domain.clues import Location
from domain.commands import Period
from domain.time_bounds import MONTH_RULE
from projections import rewards
from projections.facts import ts

POSITION, WAIT = operations.POSITION, operations.WAIT
NEAR = Query(..., pattern=r"^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$",
             description="`lat,lng` of where the caller is")


def routes(reads: Reads) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])
    for add in (_stations, _offer, _redemptions):  # in this order in the OpenAPI document
        add(router, reads)
    return router


def _stations(router: APIRouter, reads: Reads) -> None:
    store, wait, principal = reads.store, reads.wait, reads.principal

    @router.get("/stations", response_model=list[responses.Station])
    async def get_stations(near: str = NEAR, district: str | None = None,
                           limit: int = Query(10, ge=1, le=100), position: int | None = POSITION,
                           wait_ms: int = WAIT, who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """The open rider stations (驿站) nearest `near`, each with its distance in metres; every token may ask."""
        lat, lon = map(float, near.split(","))
        try:
            where = Location(lat=lat, lon=lon)
        except ValueError:
            raise errors.InvalidInput(f"near: {near!r} is not a place on Earth (lat within ±90, lng within ±180)",
                                      near=near) from None
        await wait("rewards", position, wait_ms)
        return await run_in_threadpool(rewards.stations_near, store, where, district, limit)

    @router.get("/districts/{district}/stations", response_model=list[responses.DistrictStation])
    async def get_district_stations(district: str, closed: bool = Query(False, description="the closed ones too"),
                                    position: int | None = POSITION, wait_ms: int = WAIT,
                                    who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A district's rider stations by name. Riders may read any district's, as they read its board."""
        scoping.public_to_riders(who, district)
        await wait("rewards", position, wait_ms)
        return await run_in_threadpool(rewards.district_stations, store, district, closed)

    @router.get("/districts/{district}/partners", response_model=list[responses.Partner])
    async def get_partners(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                           who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """The partners that hand a district's rewards over (with the station each is at, if any)."""
        scoping.public_to_riders(who, district)
        await wait("rewards", position, wait_ms)
        return await run_in_threadpool(rewards.district_partners, store, district)


def _offer(router: APIRouter, reads: Reads) -> None:
    governance, store, wait, principal = reads.governance, reads.store, reads.wait, reads.principal

    @router.get("/districts/{district}/points-policy", response_model=responses.PointsPolicy)
    async def get_points_policy(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                                who: Principal = Depends(principal)) -> dict[str, Any]:
        """The district's points expiry policy in force (version 0: none set, points never expire)."""
        scoping.public_to_riders(who, district)
        await wait("rewards", position, wait_ms)
        return await run_in_threadpool(rewards.points_policy, store, district)

    @router.get("/districts/{district}/catalogue", response_model=list[responses.CatalogueItem])
    async def get_catalogue(district: str, all: bool = Query(False, description="also the items not on offer now "
                                                                               "(withdrawn, or outside their dates)"),
                            position: int | None = POSITION, wait_ms: int = WAIT,
                            who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A district's rewards catalogue: items, their partner, price in points and the stock still available."""
        scoping.public_to_riders(who, district)
        await wait("rewards", position, wait_ms)
        at = None if all else ts(governance.clock.now())
        return await run_in_threadpool(rewards.catalogue, store, district, at)


def _redemptions(router: APIRouter, reads: Reads) -> None:
    store, wait, principal = reads.store, reads.wait, reads.principal

    @router.get("/partners/{partner_id}/queue", response_model=list[responses.Redemption])
    async def get_queue(partner_id: UUID, status: str = Query("held", pattern="^(held|locked|confirmed|refused|expired)$"),
                        position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """The redemptions handed to a partner (by default those waiting: held). The partner itself, or its
        district's admins and auditors."""
        await wait("rewards", position, wait_ms)
        if not scoping.own_queue(who, partner_id):
            found = await run_in_threadpool(rewards.partner, store, str(partner_id))
            if found is None:
                raise errors.PartnerNotFound(f"no partner {partner_id}", partner_id=str(partner_id))
            scoping.require_district(who, found["district"])
        return await run_in_threadpool(lambda: rewards.redemptions(store, partner_id=str(partner_id), status=status))

    @router.get("/riders/{rider_id}/redemptions", response_model=list[responses.Redemption])
    async def get_rider_redemptions(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                                    who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A rider's redemptions, newest first, with their status. The rider itself, or the admins of the
        districts they were made in (only those)."""
        districts = scoping.rider_redemptions(who, rider_id)
        await wait("rewards", position, wait_ms)
        made = await run_in_threadpool(lambda: rewards.redemptions(store, rider_id=str(rider_id)))
        return made if districts is None else [r for r in made if r["district"] in districts]

    @router.get("/districts/{district}/handed-out", response_model=list[responses.HandedOut])
    # Annotated, not `= Query(…)`: a default Query would drop Period's own checks.
    async def get_handed_out(district: str, month: Annotated[Period, Query(description=f"China time: {MONTH_RULE}")],
                             position: int | None = POSITION, wait_ms: int = WAIT,
                             who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """For the committees: per partner and item, what was handed over in a month and for how many points,
        with the refused and expired holds beside. The district's admins and auditors."""
        scoping.staff_of(who, district, "what partners handed out is for the district's admins, auditors and services")
        await wait("rewards", position, wait_ms)
        return await run_in_threadpool(rewards.handed_out, store, district, month)
