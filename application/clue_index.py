"""Open clues, for duplicate detection, kept by reading the store's own log.

Every process that takes reports (API workers, the demo) keeps one; before each
question it reads the clue events it has not seen yet, so two processes agree on
what is open without sharing memory. Only clues inside the time window are kept.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Mapper

from domain.clues import (EARTH_RADIUS_M, Category, ClueClosed, ClueMarkedDuplicate, ClueRejected, ClueReported,
                          DuplicatePolicy, Location, OpenClue, likely_duplicates)
from domain.events import topics_of
from eventlog import EventLog
from application.log_follower import LogFollower

TOPICS = topics_of((ClueReported, ClueMarkedDuplicate, ClueRejected, ClueClosed))


class Cells:
    """Open clues by category and map cell, so that a report is measured only
    against clues near it, not every open clue in the city (tens of thousands
    in a 72-hour window). A cell is `radius` tall, so a clue within the radius
    is at most one row away; columns narrow toward the poles, so the columns
    to search are worked out from the haversine bound at the query's latitude."""

    def __init__(self, radius_m: float) -> None:
        self.angle = radius_m / EARTH_RADIUS_M  # the radius as an angle, in radians
        self.size = math.degrees(self.angle)
        self.columns = math.ceil(360 / self.size)
        # Columns split the whole circle evenly (a little narrower than `size`), so
        # no stub column at ±180° makes a neighbour across the date line further away.
        self.width = 360 / self.columns
        self.cells: dict[tuple[Category, int, int], dict[UUID, OpenClue]] = {}

    def _cell(self, category: Category, at: Location) -> tuple[Category, int, int]:
        return category, math.floor((at.lat + 90) / self.size), math.floor((at.lon + 180) / self.width) % self.columns

    def add(self, clue: OpenClue) -> None:
        self.cells.setdefault(self._cell(clue.category, clue.location), {})[clue.id] = clue

    def remove(self, clue: OpenClue) -> None:
        key = self._cell(clue.category, clue.location)
        cell = self.cells.get(key, {})
        cell.pop(clue.id, None)
        if not cell:
            self.cells.pop(key, None)

    def near(self, category: Category, at: Location) -> Iterator[OpenClue]:
        """Every open clue of the category that could be within the radius (and some that are not)."""
        _, row, column = self._cell(category, at)
        for r in (row - 1, row, row + 1):
            for c in self._columns(at.lat, column):
                yield from self.cells.get((category, r, c), {}).values()

    def _columns(self, lat: float, column: int) -> list[int]:
        # Haversine: within the radius, cos(lat1)cos(lat2)sin²(Δlon/2) <= sin²(angle/2),
        # and both latitudes are within one cell of `lat`.
        widest = math.radians(min(abs(lat) + self.size, 90.0))
        bound = math.sin(self.angle / 2) / max(math.cos(widest), 1e-12)
        if bound >= 1:
            return list(range(self.columns))  # at a pole every column is near
        reach = math.ceil(math.degrees(2 * math.asin(bound)) / self.width)
        if 2 * reach + 1 >= self.columns:
            return list(range(self.columns))
        return [(column + k) % self.columns for k in range(-reach, reach + 1)]


def overlay(near: list[OpenClue], pending: Sequence[object]) -> list[OpenClue]:
    """`near` as it will be once `pending` is in the log: their reports added (the
    caller's distance check sorts out which are near), their closings taken away."""
    closed = {e.originator_id for e in pending if isinstance(e, (ClueMarkedDuplicate, ClueRejected, ClueClosed))}
    reported = [OpenClue(e.originator_id, e.category, e.location, e.timestamp, e.district)
                for e in pending if isinstance(e, ClueReported)]
    return [clue for clue in [*near, *reported] if clue.id not in closed]


class OpenClueIndex(LogFollower):
    topics = TOPICS

    def __init__(self, log: EventLog, mapper: Mapper, policy: DuplicatePolicy) -> None:
        super().__init__(log, mapper)
        self.policy = policy
        self.open: dict[UUID, OpenClue] = {}
        self.cells = Cells(policy.radius_m)
        self.by_age: list[tuple[datetime, UUID]] = []  # a heap: the oldest report first

    def candidates(self, category: Category, location: Location, at: datetime,
                   district: str | None = None, pending: Sequence[object] = (),
                   head: int | None = None) -> tuple[UUID, ...]:
        """Likely duplicates, nearest first; of `district` only, when named. `pending`:
        clue events decided but not yet in the log (a batch's), seen as if they were;
        `head`: the log read up to there (log_follower.py)."""
        with self._lock:
            self._catch_up(head)
            self._forget_before(at - self.policy.window)
            near = list(self.cells.near(category, location))
            if pending:
                near = overlay(near, pending)
            if district is not None:
                near = [clue for clue in near if clue.district == district]
            return likely_duplicates(category, location, at, near, self.policy)

    def _apply(self, event: object) -> None:
        match event:
            case ClueReported():
                clue = OpenClue(event.originator_id, event.category, event.location, event.timestamp, event.district)
                self.open[clue.id] = clue
                self.cells.add(clue)
                heapq.heappush(self.by_age, (clue.reported_at, clue.id))
            case ClueMarkedDuplicate() | ClueRejected() | ClueClosed():
                self._drop(event.originator_id)

    def _drop(self, clue_id: UUID) -> None:
        clue = self.open.pop(clue_id, None)
        if clue is not None:
            self.cells.remove(clue)

    def _forget_before(self, horizon: datetime) -> None:
        while self.by_age and self.by_age[0][0] < horizon:
            self._drop(heapq.heappop(self.by_age)[1])
