"""Points (积分) riders earn with verified work and redeem at partner services."""

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
    rider_id: UUID
    item: str
    partner: str
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
        self.balance = 0
        self.pieces: set[UUID] = set()

    def earn(self, ctx: Context, rider_id: UUID, piece_id: UUID, points: int) -> None:
        if points > 0 and piece_id not in self.pieces:
            add(self.balance, points, what="the rider's points")
            self._trigger(ctx, PointsEarned, rider_id=rider_id, piece_id=piece_id, points=points)

    def redeem(self, ctx: Context, rider_id: UUID, item: str, partner: str, points: int) -> None:
        self._require_enough(points)
        self._trigger(ctx, PointsRedeemed, rider_id=rider_id, item=item, partner=partner, points=points)

    def expire(self, ctx: Context, rider_id: UUID, points: int, reason: str) -> None:
        self._require_enough(points)
        self._trigger(ctx, PointsExpired, rider_id=rider_id, points=points, reason=reason)

    def _require_enough(self, points: int) -> None:
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise errors.InvalidInput(f"points must be a positive whole number, got {points!r}")
        if points > self.balance:
            raise errors.InsufficientPoints(f"{points} points asked, {self.balance} held",
                                            balance=self.balance, requested=points)

    def _when(self, event: Event) -> None:
        match event:
            case PointsEarned():
                self.balance += event.points
                self.pieces.add(event.piece_id)
            case PointsRedeemed() | PointsExpired():
                self.balance -= event.points
