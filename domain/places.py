"""Where grids and districts lie: their boundaries (GeoJSON polygons) and each district's map of them.

The domain keeps a boundary as plain coordinates and checks here only what needs
no geometry: one closed ring of at least four positions, each a finite longitude
and latitude in range. Whether a ring crosses itself, lies inside its district or
overlaps a neighbour is the application's to decide (application/places.py, with
Shapely), before it asks the map to record it.

A district's map is one stream (`DistrictMap`), holding the district's boundary and
the boundaries of its grids: two admins drawing grids of one district at once
write to the same stream, so the second is refused as a lost race and redrawn
against the first, and no two grids of a district come to overlap.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from domain.aggregate import Aggregate, Context
from domain.events import Event, Frozen
from domain.ids import derived_id

MAX_POSITIONS = 2000  # positions in one ring: a street-block outline needs tens


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise PydanticCustomError("boundary_not_finite", "a coordinate must be a finite number")
    return value


Longitude = Annotated[float, Field(ge=-180, le=180), AfterValidator(_finite)]
Latitude = Annotated[float, Field(ge=-90, le=90), AfterValidator(_finite)]
Position = tuple[Longitude, Latitude]  # GeoJSON order: longitude first


def _closed(ring: tuple[Position, ...]) -> tuple[Position, ...]:
    if len(ring) < 4:
        raise PydanticCustomError("boundary_too_short", "a ring needs at least 4 positions (a triangle and its close)")
    if ring[0] != ring[-1]:
        raise PydanticCustomError("boundary_not_closed", "a ring must end where it starts")
    return ring


Ring = Annotated[tuple[Position, ...], Field(max_length=MAX_POSITIONS), AfterValidator(_closed)]


def _one_ring(rings: tuple[tuple[Position, ...], ...]) -> tuple[tuple[Position, ...], ...]:
    if len(rings) != 1:
        raise PydanticCustomError("boundary_rings", "a boundary is one outer ring, without holes")
    return rings


class Polygon(Frozen):
    """A GeoJSON Polygon (RFC 7946 §3.1.6) of one outer ring, in longitude and latitude."""

    type: Literal["Polygon"] = Field(description='Always "Polygon" (GeoJSON).')
    coordinates: Annotated[tuple[Ring, ...], Field(min_length=1, max_length=1), AfterValidator(_one_ring)] = Field(
        description="One ring of [longitude, latitude] positions, closed (the last equals the first), at least 4.")

    @property
    def ring(self) -> tuple[Position, ...]:
        return self.coordinates[0]


def rectangle(west: float, south: float, east: float, north: float) -> Polygon:
    """A boundary of a rectangle in degrees, counter-clockwise as RFC 7946 asks of an outer ring."""
    return Polygon(type="Polygon", coordinates=(((west, south), (east, south), (east, north), (west, north),
                                                 (west, south)),))


class PlaceEvent(Event):
    # On the grids' topic: a district's map is read beside its grids.
    aggregate = "grids"


class DistrictBoundarySet(PlaceEvent):
    district: str
    boundary: Polygon


class GridBoundarySet(PlaceEvent):
    district: str
    grid_id: UUID
    boundary: Polygon


class GridBoundaryCleared(PlaceEvent):
    """The grid was retired: its ground is free for another grid, and what is reported there goes elsewhere."""

    district: str
    grid_id: UUID


class DistrictMap(Aggregate, events=PlaceEvent):
    """One per district: its boundary, and the boundary of each of its active grids that has one."""

    @staticmethod
    def id_for(district: str) -> UUID:
        return derived_id("district-map", district)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.boundary: Polygon | None = None
        self.grids: dict[UUID, Polygon] = {}

    def set_boundary(self, ctx: Context, district: str, boundary: Polygon) -> None:
        self._trigger(ctx, DistrictBoundarySet, district=district, boundary=boundary)

    def set_grid_boundary(self, ctx: Context, district: str, grid_id: UUID, boundary: Polygon) -> None:
        self._trigger(ctx, GridBoundarySet, district=district, grid_id=grid_id, boundary=boundary)

    def clear_grid(self, ctx: Context, district: str, grid_id: UUID) -> None:
        if grid_id in self.grids:
            self._trigger(ctx, GridBoundaryCleared, district=district, grid_id=grid_id)

    def _when(self, event: Event) -> None:
        match event:
            case DistrictBoundarySet():
                self.boundary = event.boundary
            case GridBoundarySet():
                self.grids[event.grid_id] = event.boundary
            case GridBoundaryCleared():
                self.grids.pop(event.grid_id, None)
