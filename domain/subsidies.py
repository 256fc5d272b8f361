"""Piece-rate subsidies (计件补贴): one account per rider and month.

An account per month keeps each stream short (a busy rider earns thousands of
pieces a year) and holds exactly what the day and month caps need.
Balance = awarded − reversed − paid; caps and budget withhold, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.ids import derived_id
from domain.money import Fen, add


class AwardKind(StrEnum):
    PIECE = "piece"  # a verified task
    REMEDY = "remedy"  # an upheld appeal's remedy


class Limit(StrEnum):
    DAY_CAP = "day_cap"
    MONTH_CAP = "month_cap"
    BUDGET = "budget"


class SubsidyEvent(Event):
    aggregate = "subsidies"


class SubsidyAwarded(SubsidyEvent):
    rider_id: UUID
    district: str
    period: str
    day: str
    piece_id: UUID
    kind: AwardKind = AwardKind.PIECE
    rate_code: str = ""
    rate_version: int = 0
    # What the rate said; `fen` is what was awarded after caps and budget.
    rate_fen: StrictInt = Field(ge=0)
    fen: StrictInt = Field(ge=0)
    appeal_id: UUID | None = None


class SubsidyCapped(SubsidyEvent):
    piece_id: UUID
    withheld_fen: StrictInt = Field(gt=0)
    limit: Limit


class SubsidyReversed(SubsidyEvent):
    piece_id: UUID
    fen: StrictInt = Field(ge=0)
    reason: str


class PayoutSettled(SubsidyEvent):
    # v1 named no district: it settled the month's first district's money, and is read so.
    schema_version = 2

    batch_id: str
    fen: StrictInt = Field(gt=0)
    district: str | None = None


class AwardReinstated(SubsidyEvent):
    """An upheld appeal paid a reversed award again (as a remedy, in `remedy_period`):
    kept on the award's own account, so it happens once and its chain shows it."""

    piece_id: UUID
    appeal_id: UUID
    remedy_period: str


@dataclass
class Award:
    piece_id: UUID
    kind: AwardKind
    district: str
    day: str
    fen: Fen
    reversed: bool = False
    reinstated_by: UUID | None = None


@dataclass
class Tally:
    """One district's money in a rider's month."""

    awarded: Fen = 0
    withheld: Fen = 0
    reversed: Fen = 0
    paid: Fen = 0

    @property
    def payable(self) -> Fen:
        return self.awarded - self.reversed - self.paid


@dataclass(frozen=True)
class Split:
    awarded: Fen
    withheld: Fen
    limit: Limit | None


def split_award(rate_fen: Fen, *, day_room: Fen, month_room: Fen, budget_room: Fen) -> Split:
    """How much of a piece's rate may be paid, and which limit bit first."""
    rooms = [(max(day_room, 0), Limit.DAY_CAP), (max(month_room, 0), Limit.MONTH_CAP),
             (max(budget_room, 0), Limit.BUDGET)]
    room, limit = min(rooms, key=lambda r: r[0])
    if rate_fen <= room:
        return Split(rate_fen, 0, None)
    return Split(room, rate_fen - room, limit)


class SubsidyAccount(Aggregate, events=SubsidyEvent):
    @staticmethod
    def id_for(rider_id: UUID, period: str) -> UUID:
        return derived_id("subsidy", rider_id, period)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.awards: dict[UUID, Award] = {}
        self.batches: set[str] = set()
        # Money belongs to the district of its piece: each district's slice of the month.
        self.districts: dict[str, Tally] = {}

    @property
    def balance(self) -> Fen:
        return sum(tally.payable for tally in self.districts.values())

    @property
    def awarded(self) -> Fen:
        return sum(tally.awarded for tally in self.districts.values())

    def payable_in(self, district: str) -> Fen:
        return self.districts[district].payable if district in self.districts else 0

    def piece_total(self, day: str | None = None) -> Fen:
        """What pieces were awarded (gross: a reversal does not free cap room)."""
        return sum(a.fen for a in self.awards.values()
                   if a.kind is AwardKind.PIECE and (day is None or a.day == day))

    def award_piece(self, ctx: Context, *, rider_id: UUID, district: str, period: str, day: str, piece_id: UUID,
                    rate_code: str, rate_version: int, rate_fen: Fen, cap_day: Fen, cap_month: Fen,
                    budget_room: Fen) -> Split:
        self._require_new_piece(piece_id)
        split = split_award(rate_fen, day_room=cap_day - self.piece_total(day),
                            month_room=cap_month - self.piece_total(), budget_room=budget_room)
        add(self.awarded, split.awarded, what="the month's awards")
        self._trigger(ctx, SubsidyAwarded, rider_id=rider_id, district=district, period=period, day=day,
                      piece_id=piece_id, rate_code=rate_code, rate_version=rate_version, rate_fen=rate_fen,
                      fen=split.awarded)
        if split.withheld:
            assert split.limit is not None
            self._trigger(ctx, SubsidyCapped, piece_id=piece_id, withheld_fen=split.withheld, limit=split.limit)
        return split

    def award_remedy(self, ctx: Context, *, rider_id: UUID, district: str, period: str, day: str,
                     appeal_id: UUID, amount: Fen) -> None:
        self._require_new_piece(appeal_id)
        add(self.awarded, amount, what="the month's awards")
        self._trigger(ctx, SubsidyAwarded, rider_id=rider_id, district=district, period=period, day=day,
                      piece_id=appeal_id, kind=AwardKind.REMEDY, rate_fen=amount, fen=amount, appeal_id=appeal_id)

    def award_for(self, piece_id: UUID) -> Award:
        award = self.awards.get(piece_id)
        if award is None:
            raise errors.AwardNotFound(f"no award for piece {piece_id} in this account", piece_id=str(piece_id))
        return award

    def reverse(self, ctx: Context, piece_id: UUID, reason: str) -> Award:
        award = self.award_for(piece_id)
        if award.reversed:
            raise errors.AwardAlreadyReversed(f"the award for piece {piece_id} is already reversed",
                                              piece_id=str(piece_id))
        if not reason.strip():
            raise errors.InvalidInput("a reversal needs a reason")
        self._trigger(ctx, SubsidyReversed, piece_id=piece_id, fen=award.fen, reason=reason)
        return award

    def reinstate(self, ctx: Context, piece_id: UUID, appeal_id: UUID, remedy_period: str) -> Award:
        """Mark a reversed award as paid again by `appeal_id`; once only."""
        award = self.award_for(piece_id)
        if not award.reversed:
            raise errors.AwardNotReversed(f"the award for piece {piece_id} was never reversed; "
                                          "there is nothing to reinstate", piece_id=str(piece_id))
        if award.reinstated_by is not None:
            raise errors.AwardAlreadyReinstated(f"the award for piece {piece_id} was already reinstated by "
                                                f"appeal {award.reinstated_by}", piece_id=str(piece_id),
                                                appeal_id=str(award.reinstated_by))
        self._trigger(ctx, AwardReinstated, piece_id=piece_id, appeal_id=appeal_id, remedy_period=remedy_period)
        return award

    def settle(self, ctx: Context, batch_id: str, district: str, amount: Fen) -> None:
        if batch_id in self.batches:
            raise errors.BatchAlreadySettled(f"payout batch {batch_id} was already settled", batch_id=batch_id)
        payable = self.payable_in(district)
        if amount > payable:
            raise errors.InsufficientBalance(f"payout of {amount} fen exceeds the {payable} fen payable in "
                                             f"{district}", balance=payable, requested=amount, district=district)
        self._trigger(ctx, PayoutSettled, batch_id=batch_id, fen=amount, district=district)

    def _require_new_piece(self, piece_id: UUID) -> None:
        if piece_id in self.awards:
            raise errors.PieceAlreadyAwarded(f"piece {piece_id} was already awarded", piece_id=str(piece_id))

    def _tally(self, district: str) -> Tally:
        return self.districts.setdefault(district, Tally())

    def _when(self, event: Event) -> None:
        match event:
            case SubsidyAwarded():
                self.awards[event.piece_id] = Award(event.piece_id, event.kind, event.district, event.day, event.fen)
                self._tally(event.district).awarded += event.fen
            case SubsidyCapped():
                self._tally(self.awards[event.piece_id].district).withheld += event.withheld_fen
            case SubsidyReversed():
                award = self.awards[event.piece_id]
                award.reversed = True
                self._tally(award.district).reversed += event.fen
            case AwardReinstated():
                self.awards[event.piece_id].reinstated_by = event.appeal_id
            case PayoutSettled():
                self.batches.add(event.batch_id)
                self._tally(event.district or first_district(self)).paid += event.fen


def first_district(account: SubsidyAccount) -> str:
    """Where a v1 payout (no district named) is counted: the month's first district,
    as every reader showed it then. An account's first event is always an award."""
    return next(iter(account.awards.values())).district
