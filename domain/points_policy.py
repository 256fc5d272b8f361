"""A district's points expiry policy (积分清零规则): points its work earned expire
after so many months, at a month's end, by the engine's sweep (ExpireOldPoints,
one rider at a time, recorded as PointsExpired naming the policy). Versioned like
rate schedules: a change is a new version; none is edited."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field, StrictInt

from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.ids import derived_id

MAX_MONTHS = 120


class PolicyEvent(Event):
    aggregate = "policies"


class PointsPolicySet(PolicyEvent):
    district: str
    version: int
    # Points earned in month M expire at the end of month M + months; 0: they never expire.
    expire_after_months: StrictInt = Field(ge=0, le=MAX_MONTHS)


class PointsPolicy(Aggregate, events=PolicyEvent):
    @staticmethod
    def id_for(district: str) -> UUID:
        return derived_id("points-policy", district)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.months = 0
        self.issued = 0  # versions of the policy so far

    def set(self, ctx: Context, district: str, months: int) -> int:
        return self._trigger(ctx, PointsPolicySet, district=district, version=self.issued + 1,
                             expire_after_months=months).version

    def _when(self, event: Event) -> None:
        match event:
            case PointsPolicySet():
                self.months, self.issued = event.expire_after_months, event.version
