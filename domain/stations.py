"""Rider stations (骑手驿站): places where riders rest, charge and eat, registered by a
district. A change of description is a new full description; a closed station stays
in the history but is no longer listed."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.clues import Location
from domain.events import Event, Frozen


class Service(StrEnum):
    CHARGING = "charging"
    WATER = "water"
    CANTEEN = "canteen"
    PARTS = "parts"
    REST = "rest"


class Description(Frozen):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    location: Location
    hours: str = Field(min_length=1, max_length=100, description="opening hours as posted, e.g. 07:00-23:00")
    services: tuple[Service, ...] = Field(max_length=len(Service))


class StationEvent(Event):
    aggregate = "stations"


class StationRegistered(StationEvent):
    district: str
    description: Description


class StationUpdated(StationEvent):
    description: Description


class StationClosed(StationEvent):
    reason: str


class Station(Aggregate, events=StationEvent):
    def __init__(self, id) -> None:  # type: ignore[no-untyped-def]
        super().__init__(id)
        self.district = ""
        self.description: Description | None = None
        self.closed = False

    def register(self, ctx: Context, district: str, description: Description) -> None:
        self._trigger(ctx, StationRegistered, district=district, description=description)

    def update(self, ctx: Context, description: Description) -> None:
        self._require_open()
        self._trigger(ctx, StationUpdated, description=description)

    def close(self, ctx: Context, reason: str) -> None:
        self._require_open()
        self._trigger(ctx, StationClosed, reason=reason)

    def _require_open(self) -> None:
        if self.closed:
            raise errors.StationClosed(f"station {self.id} is closed", station_id=str(self.id))

    def _when(self, event: Event) -> None:
        match event:
            case StationRegistered():
                self.district, self.description = event.district, event.description
            case StationUpdated():
                self.description = event.description
            case StationClosed():
                self.closed = True
