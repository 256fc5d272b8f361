"""Delivery riders as mobile sentinels (移动探头) of the grids they join (进网入格)."""

from __future__ import annotations

from uuid import UUID

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.grids import Grid


class RiderEvent(Event):
    aggregate = "riders"


class RiderRegistered(RiderEvent):
    platform: str
    station: str
    # Name and phone, sealed with the rider's own key (crypto-shredding: erasing
    # the key erases the data from every copy of the event, Kafka's included).
    personal_sealed: str


class RiderJoinedGrid(RiderEvent):
    grid_id: UUID
    district: str


class RiderLeftGrid(RiderEvent):
    grid_id: UUID


class SupervisorCertified(RiderEvent):
    certificate: str


class RiderSuspended(RiderEvent):
    reason: str


class RiderReinstated(RiderEvent):
    reason: str


class PersonalDataErased(RiderEvent):
    reason: str


class Rider(Aggregate, events=RiderEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.platform = ""
        self.personal_sealed = ""
        self.grids: dict[UUID, str] = {}  # grid id -> district
        self.suspended = False
        self.supervisor = False
        self.erased = False
        # Every district it was ever in: it may appeal there after leaving.
        self.districts: set[str] = set()

    def register(self, ctx: Context, platform: str, station: str, personal_sealed: str) -> None:
        if self.exists:
            raise errors.AlreadyRegistered(f"rider {self.id} is already registered", rider_id=str(self.id))
        self._trigger(ctx, RiderRegistered, platform=platform, station=station, personal_sealed=personal_sealed)

    def join(self, ctx: Context, grid: Grid) -> None:
        grid.require_active()
        self.require_active()
        if grid.id in self.grids:
            raise errors.AlreadyMember(f"rider is already in grid {grid.name}", grid_id=str(grid.id))
        self._trigger(ctx, RiderJoinedGrid, grid_id=grid.id, district=grid.district)

    def leave(self, ctx: Context, grid_id: UUID) -> None:
        self.require_member(grid_id)
        self._trigger(ctx, RiderLeftGrid, grid_id=grid_id)

    def certify_supervisor(self, ctx: Context, certificate: str) -> None:
        self._trigger(ctx, SupervisorCertified, certificate=certificate)

    def suspend(self, ctx: Context, reason: str) -> None:
        if not self.suspended:
            self._trigger(ctx, RiderSuspended, reason=reason)

    def reinstate(self, ctx: Context, reason: str) -> None:
        if self.suspended:
            self._trigger(ctx, RiderReinstated, reason=reason)

    def erase_personal_data(self, ctx: Context, reason: str) -> None:
        if self.erased:
            raise errors.PersonalDataAlreadyErased(f"rider {self.id}: personal data already erased")
        self._trigger(ctx, PersonalDataErased, reason=reason)

    def require_active(self) -> None:
        if self.suspended:
            raise errors.RiderIsSuspended(f"rider {self.id} is suspended", rider_id=str(self.id))

    def require_member(self, grid_id: UUID) -> None:
        if grid_id not in self.grids:
            raise errors.NotAMember(f"rider {self.id} is not in grid {grid_id}", rider_id=str(self.id), grid_id=str(grid_id))

    def _when(self, event: Event) -> None:
        match event:
            case RiderRegistered():
                self.platform, self.personal_sealed = event.platform, event.personal_sealed
            case RiderJoinedGrid():
                self.grids[event.grid_id] = event.district
                self.districts.add(event.district)
            case RiderLeftGrid():
                self.grids.pop(event.grid_id, None)
            case SupervisorCertified():
                self.supervisor = True
            case RiderSuspended():
                self.suspended = True
            case RiderReinstated():
                self.suspended = False
            case PersonalDataErased():
                self.erased = True
