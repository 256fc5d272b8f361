"""Where a location falls, and whether a boundary may be drawn: the geometry the domain leaves out.

The domain keeps boundaries as plain coordinates (domain/places.py); here they
become Shapely polygons. `Places` follows the store's log, as the open-clue index
does, so every process that takes reports agrees on the map; `Atlas` is the map at
one moment, with an STRtree over the grids so a report asks only the few grids
whose boxes hold its point.

Edges and corners: a boundary is closed, so a point on an edge two grids share is
covered by both; it goes to the grid with the smallest id (and a point on two
districts' shared edge to the district first by name), which every process
decides alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import Mapper

from domain import errors
from domain.clues import Location
from domain.events import topics_of
from domain.places import DistrictBoundarySet, DistrictMap, GridBoundaryCleared, GridBoundarySet, Polygon
from eventlog import EventLog
from application.log_follower import LogFollower

# Shapely (and numpy under it) is imported where a shape is first made: 0.3 s of every process's
# start, and the relay, the consumers, the sequencer and the sweep never draw a map.
if TYPE_CHECKING:
    from shapely import STRtree
    from shapely.geometry import Polygon as Shape

TOPICS = topics_of((DistrictBoundarySet, GridBoundarySet, GridBoundaryCleared))
INTERIORS_MEET = "T********"  # DE-9IM: the interiors share a point (an overlap, not a touch)


def shape_of(boundary: Polygon) -> Shape:
    from shapely.geometry import Polygon as Shape

    return Shape(boundary.ring)


def simple_shape(boundary: Polygon) -> Shape:
    """The boundary as a polygon, refused unless it is simple (no crossing, no spike) and has an area."""
    import shapely

    shape = shape_of(boundary)
    if not shape.is_valid:
        raise errors.InvalidBoundary(f"the boundary is not a simple ring: {shapely.is_valid_reason(shape)}",
                                     reason="not_simple")
    if shape.area <= 0:
        raise errors.InvalidBoundary("the boundary encloses no area", reason="no_area")
    return shape


def overlapping(shape: Shape, others: Sequence[Shape]) -> list[int]:
    """The indexes of `others` whose interiors meet `shape`'s (sharing an edge or a corner is not meeting)."""
    if not others:
        return []
    import numpy as np
    import shapely

    return [int(i) for i in np.flatnonzero(shapely.relate_pattern(shape, np.asarray(others), INTERIORS_MEET))]


@dataclass(frozen=True)
class Placement:
    """Where a location falls: a grid (and its district), a district's queue (grid None), or nowhere (both None)."""

    grid_id: UUID | None = None
    district: str | None = None


@dataclass
class Atlas:
    """Every district's boundary and every active grid's, at one moment."""

    districts: dict[str, Shape] = field(default_factory=dict)
    grids: dict[UUID, tuple[str, Shape]] = field(default_factory=dict)
    _tree: tuple[STRtree, list[UUID]] | None = None

    def copy(self) -> Atlas:
        return Atlas(dict(self.districts), dict(self.grids))

    def apply(self, event: object) -> None:
        match event:
            case DistrictBoundarySet():
                self.districts[event.district] = _prepared(shape_of(event.boundary))
            case GridBoundarySet():
                self.grids[event.grid_id] = (event.district, _prepared(shape_of(event.boundary)))
            case GridBoundaryCleared():
                self.grids.pop(event.grid_id, None)
            case _:
                return
        self._tree = None

    def locate(self, location: Location) -> Placement:
        from shapely.geometry import Point

        point = Point(location.lon, location.lat)
        tree, ids = self._grid_tree()
        covering = [ids[i] for i in tree.query(point, predicate="covered_by")]
        if covering:
            grid_id = min(covering)
            return Placement(grid_id, self.grids[grid_id][0])
        districts = sorted(name for name, shape in self.districts.items() if shape.covers(point))
        return Placement(None, districts[0]) if districts else Placement()

    def _grid_tree(self) -> tuple[STRtree, list[UUID]]:
        if self._tree is None:
            from shapely import STRtree

            ids = list(self.grids)
            self._tree = (STRtree([self.grids[i][1] for i in ids]), ids)
        return self._tree

    def others(self, district: str) -> tuple[list[tuple[str, Shape]], list[Shape]]:
        """The other districts' boundaries (by name) and their grids' boundaries."""
        return ([(name, shape) for name, shape in self.districts.items() if name != district],
                [shape for owner, shape in self.grids.values() if owner != district])


def _prepared(shape: Shape) -> Shape:
    import shapely

    shapely.prepare(shape)  # the many point questions a report asks of one boundary go faster prepared
    return shape


class Places(LogFollower):
    """The atlas as the log has it, caught up before each question; pending events (a batch's) laid over it."""
    topics = TOPICS

    def __init__(self, log: EventLog, mapper: Mapper) -> None:
        super().__init__(log, mapper)
        self.atlas = Atlas()

    def current(self, pending: Sequence[object] = (), head: int | None = None) -> Atlas:
        """`head`: the log read up to there (log_follower.py)."""
        with self._lock:
            self._catch_up(head)
            ours = [event for event in pending if isinstance(event, (DistrictBoundarySet, GridBoundarySet,
                                                                     GridBoundaryCleared))]
            if not ours:
                return self.atlas
            atlas = self.atlas.copy()
            for event in ours:
                atlas.apply(event)
            return atlas

    def _apply(self, event: object) -> None:
        self.atlas.apply(event)  # type: ignore[arg-type]


# --- may this boundary be drawn? ------------------------------------------------

def check_grid_boundary(atlas: Atlas, district_map: DistrictMap, district: str, grid_id: UUID,
                        boundary: Polygon) -> None:
    """Simple, inside its district (if the district has a boundary), overlapping no other grid nor another
    district. The district's own grids are taken from its map (the stream the new boundary is written to, so
    a racing drawing is a lost race); other districts' from the atlas."""
    shape = simple_shape(boundary)
    if district_map.boundary is not None and not shape_of(district_map.boundary).covers(shape):
        raise errors.BoundaryOutsideDistrict(f"the grid's boundary reaches outside district {district}'s",
                                             district=district)
    neighbours = [(other, shape_of(b)) for other, b in district_map.grids.items() if other != grid_id]
    for i in overlapping(shape, [s for _, s in neighbours]):
        raise errors.BoundaryOverlaps(f"the boundary overlaps grid {neighbours[i][0]} of {district}",
                                      grid_id=str(neighbours[i][0]))
    other_districts, other_grids = atlas.others(district)
    if overlapping(shape, [s for _, s in other_districts]) or overlapping(shape, other_grids):
        raise errors.BoundaryOverlaps("the boundary overlaps another district", district=district)


def check_district_boundary(atlas: Atlas, district_map: DistrictMap, district: str, boundary: Polygon) -> None:
    """Simple, holding every grid of the district that has a boundary, overlapping no other district nor its
    grids."""
    shape = simple_shape(boundary)
    for grid_id, grid in district_map.grids.items():
        if not shape.covers(shape_of(grid)):
            raise errors.BoundaryOutsideDistrict(f"grid {grid_id} would lie outside the district's boundary",
                                                 grid_id=str(grid_id))
    other_districts, other_grids = atlas.others(district)
    for i in overlapping(shape, [s for _, s in other_districts]):
        raise errors.BoundaryOverlaps(f"the boundary overlaps district {other_districts[i][0]}",
                                      district=other_districts[i][0])
    if overlapping(shape, other_grids):
        raise errors.BoundaryOverlaps("the boundary overlaps a grid of another district", district=district)
