"""Partners: a shop, a canteen or a station that hands rewards over to riders. A
district's admin registers them; a partner's token (role `partner`, `sub` its id)
may only confirm or refuse the redemptions handed to it.

A partner's wrong codes are counted per China day across all its redemptions: past
PARTNER_MISSES_PER_DAY it may confirm none until the next day, so trying many held
redemptions a few codes each is bounded too (docs/design.md has the arithmetic)."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.clock import local_day
from domain.events import Event

PARTNER_MISSES_PER_DAY = 20


class PartnerKind(StrEnum):
    SHOP = "shop"
    CANTEEN = "canteen"
    STATION = "station"


class PartnerEvent(Event):
    aggregate = "partners"


class PartnerRegistered(PartnerEvent):
    district: str
    name: str
    kind: PartnerKind
    station_id: UUID | None = None


class PartnerCodeMissed(PartnerEvent):
    """A wrong code the partner gave, the `misses`-th of its China `day`: for the
    redemption it named, or (v2: None) a code typed alone that named none of its held ones."""

    schema_version = 2

    day: str
    redemption_id: UUID | None
    misses: StrictInt = Field(gt=0)


class PartnerCodeLocked(PartnerEvent):
    """Too many wrong codes on `day`: the partner confirms nothing more that day."""

    district: str
    day: str
    misses: StrictInt = Field(gt=0)


class Partner(Aggregate, events=PartnerEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.district = ""
        self.name = ""
        self.misses: dict[str, int] = {}  # by China day, only days with a wrong code

    def require_unlocked(self, ctx: Context) -> None:
        day = local_day(ctx.now)
        if self.misses.get(day, 0) >= PARTNER_MISSES_PER_DAY:
            raise errors.PartnerLockedForToday(
                f"partner {self.name} gave {self.misses[day]} wrong codes today ({day}); it confirms again tomorrow",
                day=day)

    def code_missed(self, ctx: Context, redemption_id: UUID | None) -> int:
        """Counts a wrong code (of no redemption, when it named none); the misses left today."""
        day = local_day(ctx.now)
        misses = self.misses.get(day, 0) + 1
        self._trigger(ctx, PartnerCodeMissed, day=day, redemption_id=redemption_id, misses=misses)
        if misses >= PARTNER_MISSES_PER_DAY:
            self._trigger(ctx, PartnerCodeLocked, district=self.district, day=day, misses=misses)
        return PARTNER_MISSES_PER_DAY - misses

    def register(self, ctx: Context, district: str, name: str, kind: PartnerKind, station_id: UUID | None) -> None:
        self._trigger(ctx, PartnerRegistered, district=district, name=name, kind=kind, station_id=station_id)

    def _when(self, event: Event) -> None:
        match event:
            case PartnerRegistered():
                self.district, self.name = event.district, event.name
            case PartnerCodeMissed():
                self.misses[event.day] = event.misses
