"""Clues riders report from the street (线索直报), and how officers triage them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Iterable
from uuid import UUID

from pydantic import Field

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event, Frozen


class Category(StrEnum):
    FAKE_MEAL_READY = "fake_meal_ready"  # 虚假出餐
    UNSAFE_FOOD = "unsafe_food"
    FIRE_HAZARD = "fire_hazard"
    BLOCKED_FIRE_LANE = "blocked_fire_lane"
    TRAFFIC_HAZARD = "traffic_hazard"
    ELDERLY_FALL = "elderly_fall"
    ROBBERY = "robbery"
    OTHER = "other"


# Each category in people's words, Chinese and English: the same words as the pages' "cat.*" (a test keeps them
# equal), here because a rate named like a category and stored without a name takes them (domain/rates.py).
CATEGORY_WORDS: dict[Category, tuple[str, str]] = {
    Category.FAKE_MEAL_READY: ("虚假出餐", "Fake meal-ready"),
    Category.UNSAFE_FOOD: ("食品安全", "Unsafe food"),
    Category.FIRE_HAZARD: ("火灾隐患", "Fire hazard"),
    Category.BLOCKED_FIRE_LANE: ("消防通道堵塞", "Blocked fire lane"),
    Category.TRAFFIC_HAZARD: ("交通隐患", "Traffic hazard"),
    Category.ELDERLY_FALL: ("老人摔倒", "Elderly fall"),
    Category.ROBBERY: ("抢劫", "Robbery"),
    Category.OTHER: ("其他", "Other"),
}


class Location(Frozen):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ClueStatus(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    CLOSED = "closed"


class ClueEvent(Event):
    aggregate = "clues"


class ClueReported(ClueEvent):
    # v1 stored `lat` and `lon` as top-level fields and had no duplicate candidates; v2's grid was always named,
    # v3's is None where the location fell in no grid (the clue waits for the district's admins).
    schema_version = 3

    grid_id: UUID | None
    district: str
    reporter_id: UUID
    category: Category
    text: str
    location: Location
    evidence_hashes: tuple[str, ...] = ()
    duplicate_candidates: tuple[UUID, ...] = ()


class ClueMarkedDuplicate(ClueEvent):
    of_clue_id: UUID


class DuplicateLinked(ClueEvent):
    """The other end of a duplicate link, on the original clue."""

    duplicate_id: UUID


class ClueGridAssigned(ClueEvent):
    """A clue reported in no grid, given one by the district's admins as they accept it."""

    grid_id: UUID


class ClueAccepted(ClueEvent):
    task_id: UUID


class ClueRejected(ClueEvent):
    reason: str


class ClueClosed(ClueEvent):
    reason: str


class Clue(Aggregate, events=ClueEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.grid_id: UUID | None = None
        self.district = ""
        self.category = Category.OTHER
        self.status = ClueStatus.REPORTED
        self.reported_at: datetime | None = None
        self.task_id: UUID | None = None
        self.duplicates: set[UUID] = set()

    def report(self, ctx: Context, *, grid_id: UUID | None, district: str, reporter_id: UUID, category: Category,
               text: str, location: Location, evidence_hashes: tuple[str, ...],
               duplicate_candidates: tuple[UUID, ...]) -> None:
        if self.exists:
            raise errors.AlreadyRegistered(f"clue {self.id} exists already")
        if not text.strip():
            raise errors.InvalidInput("a clue needs a description")
        self._trigger(ctx, ClueReported, grid_id=grid_id, district=district, reporter_id=reporter_id,
                      category=category, text=text, location=location, evidence_hashes=evidence_hashes,
                      duplicate_candidates=duplicate_candidates)

    def accept(self, ctx: Context, task_id: UUID, grid_id: UUID) -> None:
        """Into a task of `grid_id`: the clue's own grid, or for a clue in none, the grid its admins chose."""
        self._require_untriaged()
        if self.grid_id is None:
            self._trigger(ctx, ClueGridAssigned, grid_id=grid_id)
        elif grid_id != self.grid_id:
            raise errors.InvalidInput(f"clue {self.id} is in grid {self.grid_id}: its task is that grid's",
                                      grid_id=str(self.grid_id))
        self._trigger(ctx, ClueAccepted, task_id=task_id)

    def mark_duplicate(self, ctx: Context, original: Clue) -> None:
        self._require_untriaged()
        if original.id == self.id:
            raise errors.InvalidInput("a clue cannot duplicate itself")
        if original.category != self.category:
            raise errors.InvalidInput("a duplicate must have the same category as its original")
        self._trigger(ctx, ClueMarkedDuplicate, of_clue_id=original.id)
        original._trigger(ctx, DuplicateLinked, duplicate_id=self.id)

    def reject(self, ctx: Context, reason: str) -> None:
        self._require_untriaged()
        if not reason.strip():
            raise errors.InvalidInput("a rejection needs a reason the rider can read")
        self._trigger(ctx, ClueRejected, reason=reason)

    def close(self, ctx: Context, reason: str) -> None:
        if self.status is ClueStatus.ACCEPTED:
            self._trigger(ctx, ClueClosed, reason=reason)

    def _require_untriaged(self) -> None:
        if self.status is not ClueStatus.REPORTED:
            raise errors.ClueAlreadyTriaged(f"clue {self.id} is {self.status.value}", clue_id=str(self.id),
                                            status=self.status.value)

    def _when(self, event: Event) -> None:
        match event:
            case ClueReported():
                self.grid_id, self.district, self.category = event.grid_id, event.district, event.category
                self.reported_at = event.timestamp
            case ClueGridAssigned():
                self.grid_id = event.grid_id
            case ClueAccepted():
                self.status, self.task_id = ClueStatus.ACCEPTED, event.task_id
            case ClueMarkedDuplicate():
                self.status = ClueStatus.DUPLICATE
            case DuplicateLinked():
                self.duplicates.add(event.duplicate_id)
            case ClueRejected():
                self.status = ClueStatus.REJECTED
            case ClueClosed():
                self.status = ClueStatus.CLOSED


# --- duplicate detection -------------------------------------------------------

@dataclass(frozen=True)
class OpenClue:
    id: UUID
    category: Category
    location: Location
    reported_at: datetime
    district: str = ""


@dataclass(frozen=True)
class DuplicatePolicy:
    """FixMyStreet looks 250 m around for the public (1 km for staff), same
    category, open reports only; we add a time window so last year's pothole
    does not swallow today's."""

    radius_m: float = 250.0
    window: timedelta = timedelta(hours=72)


EARTH_RADIUS_M = 6_371_000.0


def distance_m(a: Location, b: Location) -> float:
    """Great-circle distance (haversine); plenty for a 250 m question."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlmb = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def likely_duplicates(category: Category, location: Location, at: datetime, open_clues: Iterable[OpenClue],
                      policy: DuplicatePolicy) -> tuple[UUID, ...]:
    """Open clues of the same category within the radius and window, nearest first."""
    near = [
        (distance_m(location, clue.location), clue.id)
        for clue in open_clues
        if clue.category == category and timedelta(0) <= at - clue.reported_at <= policy.window
    ]
    return tuple(clue_id for d, clue_id in sorted(near) if d <= policy.radius_m)
