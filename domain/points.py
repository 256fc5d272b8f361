"""Points (积分) riders earn with verified work and redeem from a district's catalogue.

available + held + spent = earned − expired (− redeemed, for the old direct
redemptions): a hold takes points out of what is available until the partner
confirms (spent) or refuses or the hold runs out (released)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.ids import derived_id
from domain.money import add


class PointsEvent(Event):
    aggregate = "points"


class PointsEarned(PointsEvent):
    rider_id: UUID
    piece_id: UUID
    points: StrictInt = Field(gt=0)


class PointsRedeemed(PointsEvent):
    """Retired: points spent on the caller's word of item, partner and price. Now a
    redemption holds, then spends (PointsHeld, PointsSpent)."""

    retired = True
    rider_id: UUID
    item: str
    partner: str
    points: StrictInt = Field(gt=0)


class PointsHeld(PointsEvent):
    rider_id: UUID
    redemption_id: UUID
    points: StrictInt = Field(gt=0)


class PointsSpent(PointsEvent):
    rider_id: UUID
    redemption_id: UUID
    points: StrictInt = Field(gt=0)


class PointsReleased(PointsEvent):
    rider_id: UUID
    redemption_id: UUID
    points: StrictInt = Field(gt=0)


class PointsExpired(PointsEvent):
    rider_id: UUID
    points: StrictInt = Field(gt=0)
    reason: str


class PointsAccount(Aggregate, events=PointsEvent):
    @staticmethod
    def id_for(rider_id: UUID) -> UUID:
        return derived_id("points", rider_id)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.balance = 0  # earned − expired − spent − redeemed: available + held
        self.held: dict[UUID, int] = {}  # by redemption
        self.pieces: set[UUID] = set()

    @property
    def available(self) -> int:
        return self.balance - sum(self.held.values())

    def earn(self, ctx: Context, rider_id: UUID, piece_id: UUID, points: int) -> None:
        if points > 0 and piece_id not in self.pieces:
            add(self.balance, points, what="the rider's points")
            self._trigger(ctx, PointsEarned, rider_id=rider_id, piece_id=piece_id, points=points)

    def hold(self, ctx: Context, rider_id: UUID, redemption_id: UUID, points: int) -> None:
        self._require_enough(points)
        self._trigger(ctx, PointsHeld, rider_id=rider_id, redemption_id=redemption_id, points=points)

    def spend(self, ctx: Context, rider_id: UUID, redemption_id: UUID) -> None:
        self._trigger(ctx, PointsSpent, rider_id=rider_id, redemption_id=redemption_id,
                      points=self.held[redemption_id])

    def release(self, ctx: Context, rider_id: UUID, redemption_id: UUID) -> None:
        self._trigger(ctx, PointsReleased, rider_id=rider_id, redemption_id=redemption_id,
                      points=self.held[redemption_id])

    def expire(self, ctx: Context, rider_id: UUID, points: int, reason: str) -> None:
        self._require_enough(points)
        self._trigger(ctx, PointsExpired, rider_id=rider_id, points=points, reason=reason)

    def _require_enough(self, points: int) -> None:
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise errors.InvalidInput(f"points must be a positive whole number, got {points!r}")
        if points > self.available:
            raise errors.InsufficientPoints(f"{points} points asked, {self.available} available",
                                            available=self.available, held=self.balance - self.available,
                                            requested=points)

    def _when(self, event: Event) -> None:
        match event:
            case PointsEarned():
                self.balance += event.points
                self.pieces.add(event.piece_id)
            case PointsRedeemed() | PointsExpired():
                self.balance -= event.points
            case PointsHeld():
                self.held[event.redemption_id] = event.points
            case PointsSpent():
                del self.held[event.redemption_id]
                self.balance -= event.points
            case PointsReleased():
                del self.held[event.redemption_id]
