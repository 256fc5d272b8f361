"""The commands a user can give, as small immutable models.

They are validated on construction (money must be whole, non-negative fen; a bad
field raises InvalidInput naming it), hashed for idempotency, and reused by the
API as request bodies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationError

from domain.appeals import Outcome, Remedy, Subject
from domain.clues import Category, Location
from domain.errors import InvalidInput
from domain.rates import Rate
from domain.tasks import ReleaseReason

FenField = Annotated[StrictInt, Field(ge=0, description="integer fen (分); floats are refused")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times must carry a UTC offset")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in e.errors())
            raise InvalidInput(f"{type(self).__name__}: {problems}", errors=e.errors(include_url=False)) from None


# Grids -------------------------------------------------------------------------
class RegisterGrid(Command):
    district: Name
    street: Name
    community: Name
    name: Name


class AssignOfficer(Command):
    grid_id: UUID
    officer_id: Name


class RemoveOfficer(Command):
    grid_id: UUID
    officer_id: Name


class RetireGrid(Command):
    grid_id: UUID
    reason: Text


# Riders ------------------------------------------------------------------------
class RegisterRider(Command):
    rider_id: UUID | None = None
    platform: Name
    station: Name
    name: Name
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 -]{5,20}$")]


class JoinGrid(Command):
    rider_id: UUID
    grid_id: UUID


class LeaveGrid(Command):
    rider_id: UUID
    grid_id: UUID


class CertifySupervisor(Command):
    rider_id: UUID
    certificate: Name


class SuspendRider(Command):
    rider_id: UUID
    reason: Text


class ReinstateRider(Command):
    rider_id: UUID
    reason: Text


class ErasePersonalData(Command):
    rider_id: UUID
    reason: Text


# Clues -------------------------------------------------------------------------
class ReportClue(Command):
    rider_id: UUID
    grid_id: UUID
    category: Category
    text: Text
    location: Location
    evidence_hashes: tuple[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")], ...] = ()


class AcceptClue(Command):
    clue_id: UUID
    kind: Name
    rate_code: Name
    claim_ttl_s: Annotated[StrictInt, Field(gt=0, le=30 * 86400)] = 4 * 3600
    due: AwareDatetime | None = None


class MarkDuplicate(Command):
    clue_id: UUID
    of_clue_id: UUID


class RejectClue(Command):
    clue_id: UUID
    reason: Text


# Tasks -------------------------------------------------------------------------
class PublishTask(Command):
    grid_id: UUID
    kind: Name
    rate_code: Name
    claim_ttl_s: Annotated[StrictInt, Field(gt=0, le=30 * 86400)] = 4 * 3600
    due: AwareDatetime | None = None


class ClaimTask(Command):
    task_id: UUID
    rider_id: UUID


class ReleaseClaim(Command):
    task_id: UUID
    rider_id: UUID
    reason: ReleaseReason = ReleaseReason.WITHDRAWN


class CompleteTask(Command):
    task_id: UUID
    rider_id: UUID
    evidence_hashes: tuple[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")], ...] = ()
    note: Annotated[str, Field(max_length=2000)] = ""


class VerifyCompletion(Command):
    task_id: UUID


class RejectCompletion(Command):
    task_id: UUID
    reason: Text


class CancelTask(Command):
    task_id: UUID
    reason: Text


class ExpireClaim(Command):
    task_id: UUID


# Rates, budgets, subsidies, points --------------------------------------------------
class IssueRateSchedule(Command):
    district: Name
    effective_from: AwareDatetime
    rates: dict[Name, Rate]
    cap_day_fen: FenField
    cap_month_fen: FenField


class AllocateBudget(Command):
    district: Name
    period: Period
    fen: Annotated[StrictInt, Field(gt=0)]


class ReverseAward(Command):
    rider_id: UUID
    period: Period
    piece_id: UUID
    reason: Text


class SettlePayout(Command):
    rider_id: UUID
    period: Period
    batch_id: Name
    fen: Annotated[StrictInt, Field(gt=0)]


class RedeemPoints(Command):
    rider_id: UUID
    item: Name
    partner: Name
    points: Annotated[StrictInt, Field(gt=0)]


class ExpirePoints(Command):
    rider_id: UUID
    points: Annotated[StrictInt, Field(gt=0)]
    reason: Text


# Appeals -----------------------------------------------------------------------
class FileAppeal(Command):
    rider_id: UUID
    district: Name
    subject: Subject
    text: Text


class AssignAppeal(Command):
    appeal_id: UUID
    assignee_id: Name


class NoteAppeal(Command):
    appeal_id: UUID
    text: Text


class DecideAppeal(Command):
    appeal_id: UUID
    outcome: Outcome
    remedy: Remedy = Remedy()
    reason: Text
