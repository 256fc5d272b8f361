"""District rate schedules: what a verified piece pays, versioned (a change is a new version)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.clues import CATEGORY_WORDS, Category
from domain.events import Event, Frozen
from domain.ids import derived_id
from domain.money import Fen


# "Now", as an admin types it to the minute, is a little behind the clock by the time it
# arrives: so much before now is still now.
EFFECTIVE_GRACE = timedelta(minutes=2)


class Rate(Frozen):
    """What one piece of a kind pays, and the kind's name in Chinese and English (pages show it, never the code)."""

    # A schedule issued without names (all of v1) has them only where its code is a clue category's
    # (named_like_categories); elsewhere they are None and pages say "other work" rather than show the code.

    fen: StrictInt = Field(ge=0)
    points: StrictInt = Field(ge=0, default=0)
    name_zh: str | None = None
    name_en: str | None = None


def named_like_categories(rates: dict[str, Rate]) -> dict[str, Rate]:
    """Each rate without a name, named by the clue category its code is, if it is one."""
    named = {}
    for code, rate in rates.items():
        if rate.name_zh is None and rate.name_en is None and code in CATEGORY_WORDS:
            zh, en = CATEGORY_WORDS[Category(code)]
            rate = rate.model_copy(update={"name_zh": zh, "name_en": en})
        named[code] = rate
    return named


class RateEvent(Event):
    aggregate = "rates"


class RateScheduleIssued(RateEvent):
    # v1's rates had no names (fen and points alone).
    schema_version = 2

    district: str
    version: int
    effective_from: datetime
    rates: dict[str, Rate]
    cap_day_fen: StrictInt = Field(ge=0)
    cap_month_fen: StrictInt = Field(ge=0)


class RateSchedule(Aggregate, events=RateEvent):
    """One per district; each issue is a new version, none is edited."""

    @staticmethod
    def id_for(district: str) -> UUID:
        return derived_id("rate-schedule", district)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.versions: list[RateScheduleIssued] = []

    def issue(self, ctx: Context, district: str, effective_from: datetime, rates: dict[str, Rate],
              cap_day_fen: Fen, cap_month_fen: Fen) -> int:
        if not rates:
            raise errors.InvalidInput("a rate schedule needs at least one rate")
        if cap_day_fen > cap_month_fen:
            raise errors.InvalidInput(f"day cap {cap_day_fen} fen exceeds month cap {cap_month_fen} fen")
        self._require_not_back_dated(ctx, effective_from)
        event = self._trigger(ctx, RateScheduleIssued, district=district, version=len(self.versions) + 1,
                              effective_from=effective_from, rates=named_like_categories(rates), cap_day_fen=cap_day_fen,
                              cap_month_fen=cap_month_fen)
        return event.version

    def _require_not_back_dated(self, ctx: Context, effective_from: datetime) -> None:
        """A version after the first takes effect now or later: dated back, it would say its rates were in force
        while the old ones were paying. The first may be dated back: nothing was paid before it."""
        if self.versions and effective_from < ctx.now - EFFECTIVE_GRACE:
            raise errors.ScheduleInThePast(
                f"a new rate schedule takes effect now or later; {effective_from.isoformat()} is before "
                f"{ctx.now.isoformat()}", effective_from=effective_from.isoformat(), now=ctx.now.isoformat())

    def in_effect(self, at: datetime) -> RateScheduleIssued:
        """The latest version whose effective date has come; a later issue with an
        earlier (but not past) date wins over an older one (that is how corrections are made)."""
        current = [v for v in self.versions if v.effective_from <= at]
        if not current:
            raise errors.NoRateInEffect(f"no rate schedule in effect at {at.isoformat()}", at=at.isoformat())
        return max(current, key=lambda v: (v.effective_from, v.version))

    def knows(self, rate_code: str) -> bool:
        return any(rate_code in v.rates for v in self.versions)

    def _when(self, event: Event) -> None:
        match event:
            case RateScheduleIssued():
                self.versions.append(event)
