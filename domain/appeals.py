"""Appeals and grievances (申诉、诉求). An upheld appeal is remedied by new events;
nothing decided before is edited."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event, Frozen


class SubjectKind(StrEnum):
    CLUE = "clue"
    TASK = "task"
    AWARD = "award"
    # Outside the engine: a platform penalty, a dispute with a merchant.
    OUTSIDE = "outside"


class Subject(Frozen):
    kind: SubjectKind
    # For a clue, a task or an award: its id (an award's is its piece's); else free text.
    ref: str = Field(min_length=1, max_length=200)
    # For an award: the month account it lives in.
    period: str | None = None


class Verdict(StrEnum):
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class RemedyKind(StrEnum):
    NONE = "none"  # e.g. counselling given, a platform contacted
    REINSTATE_AWARD = "reinstate_award"  # pay again what a reversal took
    AWARD_FEN = "award_fen"  # compensation of a stated amount


class Remedy(Frozen):
    kind: RemedyKind = RemedyKind.NONE
    fen: StrictInt = Field(ge=0, default=0)


class AppealEvent(Event):
    aggregate = "appeals"


class AppealFiled(AppealEvent):
    rider_id: UUID
    district: str
    subject: Subject
    text: str


class AppealAssigned(AppealEvent):
    assignee_id: str


class AppealNoted(AppealEvent):
    text: str


class AppealDecided(AppealEvent):
    outcome: Verdict
    remedy: Remedy
    reason: str


class Appeal(Aggregate, events=AppealEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.rider_id: UUID | None = None
        self.district = ""
        self.subject: Subject | None = None
        self.assignee: str | None = None
        self.outcome: Verdict | None = None

    def file(self, ctx: Context, rider_id: UUID, district: str, subject: Subject, text: str) -> None:
        if not text.strip():
            raise errors.InvalidInput("an appeal needs a description")
        if subject.kind is SubjectKind.AWARD and not subject.period:
            raise errors.InvalidInput("an appeal about an award names its period (YYYY-MM)")
        self._trigger(ctx, AppealFiled, rider_id=rider_id, district=district, subject=subject, text=text)

    def assign(self, ctx: Context, assignee_id: str) -> None:
        self._require_open()
        self._trigger(ctx, AppealAssigned, assignee_id=assignee_id)

    def note(self, ctx: Context, text: str) -> None:
        if not text.strip():
            raise errors.InvalidInput("an empty note says nothing")
        self._trigger(ctx, AppealNoted, text=text)

    def decide(self, ctx: Context, outcome: Verdict, remedy: Remedy, reason: str) -> None:
        self._require_open()
        if outcome is Verdict.DISMISSED and remedy.kind is not RemedyKind.NONE:
            raise errors.InvalidInput("a dismissed appeal has no remedy")
        if remedy.kind is RemedyKind.REINSTATE_AWARD and (self.subject is None or self.subject.kind is not SubjectKind.AWARD):
            raise errors.InvalidInput("only an appeal about an award can reinstate one")
        if remedy.kind is RemedyKind.AWARD_FEN and remedy.fen <= 0:
            raise errors.InvalidInput("a compensation remedy needs a positive amount of fen")
        self._trigger(ctx, AppealDecided, outcome=outcome, remedy=remedy, reason=reason)

    def _require_open(self) -> None:
        if self.outcome is not None:
            raise errors.AppealAlreadyDecided(f"appeal {self.id} was already decided ({self.outcome.value})")

    def _when(self, event: Event) -> None:
        match event:
            case AppealFiled():
                self.rider_id, self.district, self.subject = event.rider_id, event.district, event.subject
            case AppealAssigned():
                self.assignee = event.assignee_id
            case AppealDecided():
                self.outcome = event.outcome
