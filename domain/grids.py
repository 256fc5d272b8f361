"""Micro-grids (微网格) of a community, and the officers (网格员) who run them."""

from __future__ import annotations

from uuid import UUID

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event


class GridEvent(Event):
    aggregate = "grids"


class GridRegistered(GridEvent):
    district: str
    street: str
    community: str
    name: str


class OfficerAssigned(GridEvent):
    officer_id: str


class OfficerRemoved(GridEvent):
    officer_id: str


class GridRetired(GridEvent):
    reason: str


class Grid(Aggregate, events=GridEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.district = ""
        self.name = ""
        self.officers: set[str] = set()
        self.retired = False

    def register(self, ctx: Context, district: str, street: str, community: str, name: str) -> None:
        if self.exists:
            raise errors.AlreadyRegistered(f"grid {self.id} is already registered", grid_id=str(self.id))
        self._trigger(ctx, GridRegistered, district=district, street=street, community=community, name=name)

    def assign_officer(self, ctx: Context, officer_id: str) -> None:
        self.require_active()
        if officer_id not in self.officers:
            self._trigger(ctx, OfficerAssigned, officer_id=officer_id)

    def remove_officer(self, ctx: Context, officer_id: str) -> None:
        if officer_id in self.officers:
            self._trigger(ctx, OfficerRemoved, officer_id=officer_id)

    def retire(self, ctx: Context, reason: str) -> None:
        self.require_active()
        self._trigger(ctx, GridRetired, reason=reason)

    def require_active(self) -> None:
        if self.retired:
            raise errors.GridIsRetired(f"grid {self.name} ({self.id}) is retired", grid_id=str(self.id))

    def is_officer(self, officer_id: str) -> bool:
        return officer_id in self.officers

    def _when(self, event: Event) -> None:
        match event:
            case GridRegistered():
                self.district, self.name = event.district, event.name
            case OfficerAssigned():
                self.officers.add(event.officer_id)
            case OfficerRemoved():
                self.officers.discard(event.officer_id)
            case GridRetired():
                self.retired = True
