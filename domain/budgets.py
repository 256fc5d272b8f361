"""District budgets: what a district may spend on subsidies in a month."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.ids import derived_id
from domain.money import Fen, add


class BudgetEvent(Event):
    # Published beside the rate schedules since the first version, and read there by subscribers.
    aggregate = "rates"


class BudgetAllocated(BudgetEvent):
    district: str
    period: str
    fen: StrictInt = Field(gt=0)


class BudgetCommitted(BudgetEvent):
    district: str
    period: str
    piece_id: UUID
    rider_id: UUID
    fen: StrictInt = Field(ge=0)
    # Marks an upheld appeal's remedy. Before remedies were held to the budget, one could overcommit.
    remedy: bool = False


class BudgetReleased(BudgetEvent):
    district: str
    period: str
    piece_id: UUID
    fen: StrictInt = Field(ge=0)


class Budget(Aggregate, events=BudgetEvent):
    """One per district and month. Kept apart from the rate schedule so that awards
    in one month do not contend with schedule changes or with other months."""

    @staticmethod
    def id_for(district: str, period: str) -> UUID:
        return derived_id("budget", district, period)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.district = ""
        self.period = ""
        self.allocated: Fen = 0
        self.committed: Fen = 0
        self.released: Fen = 0

    @property
    def remaining(self) -> Fen:
        return self.allocated - self.committed + self.released

    def allocate(self, ctx: Context, district: str, period: str, amount: Fen) -> None:
        add(self.allocated, amount, what=f"the budget of {district} for {period}")
        self._trigger(ctx, BudgetAllocated, district=district, period=period, fen=amount)

    def commit(self, ctx: Context, district: str, period: str, piece_id: UUID, rider_id: UUID, amount: Fen,
               remedy: bool = False) -> None:
        """An award is sized to fit beforehand (what does not is withheld, SubsidyCapped); a
        remedy is owed whole, so one that does not fit is refused with the shortfall: the
        district allocates more, then decides."""
        if remedy and amount > self.remaining:
            raise errors.InsufficientBudget(
                f"{district}'s budget for {period} has {self.remaining} fen left; the remedy needs {amount}: "
                f"allocate at least {amount - self.remaining} more first", district=district, period=period,
                remaining_fen=self.remaining, requested_fen=amount, shortfall_fen=amount - self.remaining)
        add(self.committed, amount, what=f"what {district} committed for {period}")
        self._trigger(ctx, BudgetCommitted, district=district, period=period, piece_id=piece_id, rider_id=rider_id,
                      fen=amount, remedy=remedy)

    def release(self, ctx: Context, district: str, period: str, piece_id: UUID, amount: Fen) -> None:
        self._trigger(ctx, BudgetReleased, district=district, period=period, piece_id=piece_id, fen=amount)

    def _when(self, event: Event) -> None:
        match event:
            case BudgetAllocated():
                self.allocated += event.fen
            case BudgetCommitted():
                self.committed += event.fen
            case BudgetReleased():
                self.released += event.fen
