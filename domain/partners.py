"""Partners: a shop, a canteen or a station that hands rewards over to riders. A
district's admin registers them; a partner's token (role `partner`, `sub` its id)
may only confirm or refuse the redemptions handed to it."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from domain.aggregate import Aggregate, Context
from domain.events import Event


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


class Partner(Aggregate, events=PartnerEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.district = ""
        self.name = ""

    def register(self, ctx: Context, district: str, name: str, kind: PartnerKind, station_id: UUID | None) -> None:
        self._trigger(ctx, PartnerRegistered, district=district, name=name, kind=kind, station_id=station_id)

    def _when(self, event: Event) -> None:
        match event:
            case PartnerRegistered():
                self.district, self.name = event.district, event.name
