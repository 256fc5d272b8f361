"""Reads of the rewards: stations near a place, a district's catalogue, a partner's
queue, a rider's redemptions, and what each partner handed out in a month."""

from __future__ import annotations

from typing import Annotated, Any, Callable
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.http import operations, responses
from api.http.auth import Principal
from domain import errors
from domain.clues import Location
from domain.commands import Period
from domain.events import Role
from domain.time_bounds import MONTH_RULE
from application.service import GridGovernance
from projections import rewards
from projections.facts import ts
from projections.stores import ReadStore

POSITION, WAIT = operations.POSITION, operations.WAIT
NEAR = Query(..., pattern=r"^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$",
             description="`lat,lng` of where the caller is")


def routes(governance: GridGovernance, store: ReadStore, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])

    def in_district(who: Principal, district: str) -> None:
        """Riders see every district's catalogue, as they see its board; others their own."""
        if who.role is not Role.RIDER:
            who.require_district(district)

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
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        return await run_in_threadpool(rewards.stations_near, store, where, district, limit)

    @router.get("/districts/{district}/stations", response_model=list[responses.DistrictStation])
    async def get_district_stations(district: str, closed: bool = Query(False, description="the closed ones too"),
                                    position: int | None = POSITION, wait_ms: int = WAIT,
                                    who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A district's rider stations by name. Riders may read any district's, as they read its board."""
        in_district(who, district)
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        return await run_in_threadpool(rewards.district_stations, store, district, closed)

    @router.get("/districts/{district}/partners", response_model=list[responses.Partner])
    async def get_partners(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                           who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """The partners that hand a district's rewards over (with the station each is at, if any)."""
        in_district(who, district)
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        return await run_in_threadpool(rewards.district_partners, store, district)

    @router.get("/districts/{district}/points-policy", response_model=responses.PointsPolicy)
    async def get_points_policy(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                                who: Principal = Depends(principal)) -> dict[str, Any]:
        """The district's points expiry policy in force (version 0: none set, points never expire)."""
        in_district(who, district)
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        return await run_in_threadpool(rewards.points_policy, store, district)

    @router.get("/districts/{district}/catalogue", response_model=list[responses.CatalogueItem])
    async def get_catalogue(district: str, all: bool = Query(False, description="also the items not on offer now "
                                                                               "(withdrawn, or outside their dates)"),
                            position: int | None = POSITION, wait_ms: int = WAIT,
                            who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A district's rewards catalogue: items, their partner, price in points and the stock still available."""
        in_district(who, district)
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        at = None if all else ts(governance.clock.now())
        return await run_in_threadpool(rewards.catalogue, store, district, at)

    @router.get("/partners/{partner_id}/queue", response_model=list[responses.Redemption])
    async def get_queue(partner_id: UUID, status: str = Query("held", pattern="^(held|locked|confirmed|refused|expired)$"),
                        position: int | None = POSITION, wait_ms: int = WAIT,
                        who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """The redemptions handed to a partner (by default those waiting: held). The partner itself, or its
        district's admins and auditors."""
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        if who.role is Role.PARTNER:
            if who.sub != str(partner_id):
                raise errors.OutOfScope("a partner sees only its own queue")
        else:
            if who.role not in (Role.DISTRICT_ADMIN, Role.AUDITOR):
                raise errors.OutOfScope("a partner's queue is for the partner and its district's admins and auditors")
            found = await run_in_threadpool(rewards.partner, store, str(partner_id))
            if found is None:
                raise errors.PartnerNotFound(f"no partner {partner_id}", partner_id=str(partner_id))
            who.require_district(found["district"])
        return await run_in_threadpool(lambda: rewards.redemptions(store, partner_id=str(partner_id), status=status))

    @router.get("/riders/{rider_id}/redemptions", response_model=list[responses.Redemption])
    async def get_rider_redemptions(rider_id: UUID, position: int | None = POSITION, wait_ms: int = WAIT,
                                    who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """A rider's redemptions, newest first, with their status. The rider itself, or the admins of the
        districts they were made in (only those)."""
        if who.role is Role.RIDER and who.sub != str(rider_id):
            raise errors.OutOfScope("a rider sees only its own redemptions")
        if who.role not in (Role.RIDER, Role.DISTRICT_ADMIN, Role.AUDITOR):
            raise errors.OutOfScope("a rider's redemptions are for the rider, admins and auditors")
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        made = await run_in_threadpool(lambda: rewards.redemptions(store, rider_id=str(rider_id)))
        return made if who.role is Role.RIDER else [r for r in made if r["district"] in who.districts]

    @router.get("/districts/{district}/handed-out", response_model=list[responses.HandedOut])
    # Annotated, not `= Query(…)`: a default Query would drop Period's own checks.
    async def get_handed_out(district: str, month: Annotated[Period, Query(description=f"China time: {MONTH_RULE}")],
                             position: int | None = POSITION, wait_ms: int = WAIT,
                             who: Principal = Depends(principal)) -> list[dict[str, Any]]:
        """For the committees: per partner and item, what was handed over in a month and for how many points,
        with the refused and expired holds beside. The district's admins and auditors."""
        if who.role not in (Role.DISTRICT_ADMIN, Role.AUDITOR, Role.SERVICE):
            raise errors.OutOfScope("what partners handed out is for the district's admins, auditors and services")
        who.require_district(district)
        await operations.wait_for(governance, store, "rewards", position, wait_ms)
        return await run_in_threadpool(rewards.handed_out, store, district, month)

    return router
