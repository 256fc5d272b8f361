"""Points (积分) riders earn with verified work and redeem from a district's catalogue.

available + held + spent = earned − expired (− redeemed, for the old direct
redemptions): a hold takes points out of what is available until the partner
confirms (spent) or refuses or the hold runs out (released).

Points belong to the district whose work earned them, as money does (docs/design.md
§5): a redemption of a district's item holds only that district's points (and
points earned before events named a district, which any district may spend)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.clock import local_month
from domain.events import Event
from domain.ids import derived_id
from domain.money import add


class PointsEvent(Event):
    aggregate = "points"


class PointsEarned(PointsEvent):
    """v2 names the district whose work earned them (its expiry policy applies)."""

    schema_version = 2
    rider_id: UUID
    piece_id: UUID
    points: StrictInt = Field(gt=0)
    district: str | None  # None: earned before v2, under no district's policy


class PointsRedeemed(PointsEvent):
    """Retired: points spent on the caller's word of item, partner and price. Now a
    redemption holds, then spends (PointsHeld, PointsSpent)."""

    retired = True
    rider_id: UUID
    item: str
    partner: str
    points: StrictInt = Field(gt=0)


class PointsHeld(PointsEvent):
    """v2 names the district whose item the points are held for: they come from its lots."""

    schema_version = 2
    rider_id: UUID
    redemption_id: UUID
    points: StrictInt = Field(gt=0)
    district: str | None  # None: held before v2, from the oldest points of any district


class PointsSpent(PointsEvent):
    rider_id: UUID
    redemption_id: UUID
    points: StrictInt = Field(gt=0)


class PointsReleased(PointsEvent):
    rider_id: UUID
    redemption_id: UUID
    points: StrictInt = Field(gt=0)


class PointsExpired(PointsEvent):
    """v2: a district's policy names itself and the last month of the points it
    expired (those of its own work, earned up to then); None for an admin's expiry,
    which takes the oldest points."""

    schema_version = 2
    rider_id: UUID
    points: StrictInt = Field(gt=0)
    reason: str
    district: str | None
    earned_by: str | None


@dataclass(slots=True, eq=False)  # eq=False: a lot is itself, as `taken_by` holds it
class Lot:
    """Points earned by one piece: when (China month), for which district's work, and
    how many are still unused. Points are used oldest first."""

    month: str
    district: str | None
    left: int


class PointsAccount(Aggregate, events=PointsEvent):
    @staticmethod
    def id_for(rider_id: UUID) -> UUID:
        return derived_id("points", rider_id)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.balance = 0  # earned − expired − spent − redeemed: available + held
        self.held: dict[UUID, int] = {}  # by redemption
        self.pieces: set[UUID] = set()
        self.lots: list[Lot] = []
        self.taken_by: dict[UUID, list[tuple[Lot, int]]] = {}  # a hold's points, by the lots they came from

    @property
    def available(self) -> int:
        return self.balance - sum(self.held.values())

    def earn(self, ctx: Context, rider_id: UUID, piece_id: UUID, points: int, district: str) -> None:
        if points > 0 and piece_id not in self.pieces:
            add(self.balance, points, what="the rider's points")
            self._trigger(ctx, PointsEarned, rider_id=rider_id, piece_id=piece_id, points=points, district=district)

    def available_in(self, district: str) -> int:
        """What a redemption in `district` may hold: its own points, and those that name no district."""
        return sum(lot.left for lot in self._spendable_in(district))

    def available_by_district(self) -> dict[str, int]:
        """Available points by the district that earned them ("" for those that name none)."""
        by: dict[str, int] = {}
        for lot in self.lots:
            if lot.left:
                by[lot.district or ""] = by.get(lot.district or "", 0) + lot.left
        return by

    def hold(self, ctx: Context, rider_id: UUID, redemption_id: UUID, points: int, district: str) -> None:
        self._require_enough(points)
        if points > (here := self.available_in(district)):
            raise errors.InsufficientPoints(f"{points} points asked, {here} earned in {district} and available "
                                            f"({self.available} in all districts)", available=here,
                                            district=district, requested=points)
        self._trigger(ctx, PointsHeld, rider_id=rider_id, redemption_id=redemption_id, points=points,
                      district=district)

    def spend(self, ctx: Context, rider_id: UUID, redemption_id: UUID) -> None:
        self._trigger(ctx, PointsSpent, rider_id=rider_id, redemption_id=redemption_id,
                      points=self.held[redemption_id])

    def release(self, ctx: Context, rider_id: UUID, redemption_id: UUID) -> None:
        self._trigger(ctx, PointsReleased, rider_id=rider_id, redemption_id=redemption_id,
                      points=self.held[redemption_id])

    def expire(self, ctx: Context, rider_id: UUID, points: int, reason: str) -> None:
        """An admin's: the oldest points go."""
        self._require_enough(points)
        self._trigger(ctx, PointsExpired, rider_id=rider_id, points=points, reason=reason, district=None,
                      earned_by=None)

    def expirable(self, district: str, earned_by: str) -> int:
        """Unused points of `district`'s work earned in months up to `earned_by` (YYYY-MM)."""
        return sum(lot.left for lot in self._lots_of(district, earned_by))

    def expire_by_policy(self, ctx: Context, rider_id: UUID, district: str, earned_by: str, months: int) -> int:
        points = self.expirable(district, earned_by)
        if points:
            self._trigger(ctx, PointsExpired, rider_id=rider_id, points=points, district=district,
                          earned_by=earned_by, reason=f"{district}: points earned up to {earned_by} expire after "
                                                      f"{months} months")
        return points

    def _require_enough(self, points: int) -> None:
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise errors.InvalidInput(f"points must be a positive whole number, got {points!r}")
        if points > self.available:
            raise errors.InsufficientPoints(f"{points} points asked, {self.available} available",
                                            available=self.available, held=self.balance - self.available,
                                            requested=points)

    def _spendable_in(self, district: str | None) -> list[Lot]:
        return [lot for lot in self.lots if district is None or lot.district in (district, None)]

    def _lots_of(self, district: str, earned_by: str) -> list[Lot]:
        return [lot for lot in self.lots if lot.district == district and lot.month <= earned_by and lot.left]

    def _take(self, points: int, lots: list[Lot]) -> list[tuple[Lot, int]]:
        """`points` from `lots`, oldest first."""
        taken = []
        for lot in lots:
            if not points:
                break
            n = min(points, lot.left)
            if n:
                lot.left -= n
                points -= n
                taken.append((lot, n))
        return taken

    def _when(self, event: Event) -> None:
        match event:
            case PointsEarned():
                self.balance += event.points
                self.pieces.add(event.piece_id)
                self.lots.append(Lot(local_month(event.timestamp), event.district, event.points))
            case PointsRedeemed():
                self.balance -= event.points
                self._take(event.points, self.lots)
            case PointsExpired():
                self.balance -= event.points
                mine = self.lots if event.district is None else self._lots_of(event.district, event.earned_by or "")
                self._take(event.points, mine)
            case PointsHeld():
                self.held[event.redemption_id] = event.points
                self.taken_by[event.redemption_id] = self._take(event.points, self._spendable_in(event.district))
            case PointsSpent():
                del self.held[event.redemption_id]
                del self.taken_by[event.redemption_id]
                self.balance -= event.points
            case PointsReleased():
                del self.held[event.redemption_id]
                for lot, n in self.taken_by.pop(event.redemption_id):
                    lot.left += n  # back where they came from, as old as they were
