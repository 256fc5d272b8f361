"""A district's rewards catalogue: items a partner hands over for points.

One stream per item. Its terms (name, price, validity, how long a hold lasts) are
versioned like rate schedules: a revision is a new version, the old ones stay in
the stream, and a redemption records the version it was priced at. Its stock is
counted here too, so that two riders after the last item race on one stream and
exactly one of them wins it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event, Frozen

MAX_HOLD_MINUTES = 7 * 24 * 60


class Terms(Frozen):
    name: str = Field(min_length=1, max_length=200)
    price_points: StrictInt = Field(gt=0)
    valid_from: datetime
    valid_to: datetime
    hold_minutes: StrictInt = Field(gt=0, le=MAX_HOLD_MINUTES)

    @property
    def hold(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)


class CatalogueEvent(Event):
    aggregate = "catalogue"


class ItemListed(CatalogueEvent):
    district: str
    partner_id: UUID
    version: int
    terms: Terms
    stock: StrictInt = Field(ge=0)


class ItemRevised(CatalogueEvent):
    version: int
    terms: Terms
    stock_added: StrictInt = Field(ge=0)


class ItemWithdrawn(CatalogueEvent):
    reason: str


class StockReserved(CatalogueEvent):
    redemption_id: UUID


class StockReturned(CatalogueEvent):
    redemption_id: UUID


class CatalogueItem(Aggregate, events=CatalogueEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.district = ""
        self.partner_id: UUID | None = None
        self.versions: list[Terms] = []
        self.stock = 0  # ever stocked
        # Held or handed over, not come back: a count, not the redemptions' ids. Which redemption may
        # give one back is its own stream's to say (held, once: domain/redemptions.py), so an item
        # that 300 riders take stays as small as one nobody took, to load and to copy.
        self.reserved = 0
        self.withdrawn = False

    @property
    def terms(self) -> Terms:
        return self.versions[-1]

    @property
    def available(self) -> int:
        return self.stock - self.reserved

    def list(self, ctx: Context, district: str, partner_id: UUID, terms: Terms, stock: int) -> None:
        _check(terms)
        self._trigger(ctx, ItemListed, district=district, partner_id=partner_id, version=1, terms=terms, stock=stock)

    def revise(self, ctx: Context, terms: Terms, stock_added: int) -> int:
        self._require_not_withdrawn()
        _check(terms)
        return self._trigger(ctx, ItemRevised, version=len(self.versions) + 1, terms=terms,
                             stock_added=stock_added).version

    def withdraw(self, ctx: Context, reason: str) -> None:
        self._require_not_withdrawn()
        self._trigger(ctx, ItemWithdrawn, reason=reason)

    def reserve(self, ctx: Context, redemption_id: UUID) -> None:
        """One of the stock for this redemption, if the item is on offer now."""
        self._require_not_withdrawn()
        if not self.terms.valid_from <= ctx.now < self.terms.valid_to:
            raise errors.ItemNotOffered(f"{self.terms.name} is offered from {self.terms.valid_from.isoformat()} to "
                                        f"{self.terms.valid_to.isoformat()}", item_id=str(self.id))
        if self.available <= 0:
            raise errors.OutOfStock(f"{self.terms.name} is out of stock", item_id=str(self.id))
        self._trigger(ctx, StockReserved, redemption_id=redemption_id)

    def give_back(self, ctx: Context, redemption_id: UUID) -> None:
        """The redemption's one of the stock, back: called once, when the redemption leaves `held`."""
        if self.reserved <= 0:
            raise AssertionError(f"{self.terms.name}: a return with nothing reserved ({redemption_id})")
        self._trigger(ctx, StockReturned, redemption_id=redemption_id)

    def _require_not_withdrawn(self) -> None:
        if self.withdrawn:
            raise errors.ItemNotOffered(f"{self.terms.name} was withdrawn from the catalogue", item_id=str(self.id))

    def _when(self, event: Event) -> None:
        match event:
            case ItemListed():
                self.district, self.partner_id = event.district, event.partner_id
                self.versions.append(event.terms)
                self.stock = event.stock
            case ItemRevised():
                self.versions.append(event.terms)
                self.stock += event.stock_added
            case ItemWithdrawn():
                self.withdrawn = True
            case StockReserved():
                self.reserved += 1
            case StockReturned():
                self.reserved -= 1


def _check(terms: Terms) -> None:
    if terms.valid_from.tzinfo is None or terms.valid_to.tzinfo is None:
        raise errors.InvalidInput("valid_from and valid_to must carry a UTC offset")
    if terms.valid_to <= terms.valid_from:
        raise errors.InvalidInput(f"valid_to {terms.valid_to.isoformat()} is not after valid_from "
                                  f"{terms.valid_from.isoformat()}")
