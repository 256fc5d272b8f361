"""Grid tasks on the board: published, claimed (服务认领), completed, verified."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.riders import Rider


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    CANCELLED = "cancelled"


class ReleaseReason(StrEnum):
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    REASSIGNED = "reassigned"


class TaskEvent(Event):
    aggregate = "tasks"


class TaskPublished(TaskEvent):
    grid_id: UUID
    district: str
    kind: str
    source_clue_id: UUID | None = None
    rate_code: str
    claim_ttl_s: int = Field(gt=0)
    due: datetime | None = None


class TaskClaimed(TaskEvent):
    rider_id: UUID
    expires_at: datetime


class ClaimReleased(TaskEvent):
    rider_id: UUID
    reason: ReleaseReason


class TaskCompleted(TaskEvent):
    rider_id: UUID
    evidence_hashes: tuple[str, ...] = ()
    note: str = ""


class CompletionVerified(TaskEvent):
    rider_id: UUID


class CompletionRejected(TaskEvent):
    rider_id: UUID
    reason: str
    # The claimant keeps the task and may resubmit until then.
    expires_at: datetime


class TaskCancelled(TaskEvent):
    reason: str


class GridTask(Aggregate, events=TaskEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.grid_id: UUID | None = None
        self.district = ""
        self.kind = ""
        self.rate_code = ""
        self.source_clue_id: UUID | None = None
        self.claim_ttl = timedelta(0)
        self.status = TaskStatus.OPEN
        self.claimant: UUID | None = None
        self.expires_at: datetime | None = None

    def publish(self, ctx: Context, *, grid_id: UUID, district: str, kind: str, rate_code: str,
                claim_ttl_s: int, due: datetime | None, source_clue_id: UUID | None) -> None:
        if self.exists:
            raise errors.AlreadyRegistered(f"task {self.id} exists already")
        if claim_ttl_s <= 0:
            raise errors.InvalidInput(f"claim TTL must be positive seconds, got {claim_ttl_s}")
        self._trigger(ctx, TaskPublished, grid_id=grid_id, district=district, kind=kind, rate_code=rate_code,
                      claim_ttl_s=claim_ttl_s, due=due, source_clue_id=source_clue_id)

    def claim(self, ctx: Context, rider: Rider) -> None:
        assert self.grid_id is not None
        rider.require_member(self.grid_id)
        rider.require_active()
        self.expire_claim(ctx)
        if self.status is TaskStatus.CLAIMED:
            raise errors.TaskAlreadyClaimed(f"task {self.id} is already claimed", task_id=str(self.id),
                                            claimant=str(self.claimant), expires_at=str(self.expires_at))
        self._require(TaskStatus.OPEN)
        self._trigger(ctx, TaskClaimed, rider_id=rider.id, expires_at=ctx.now + self.claim_ttl)

    def expire_claim(self, ctx: Context) -> bool:
        """Return an expired claim to the board; True if one was released."""
        if self.status is TaskStatus.CLAIMED and self.claim_expired(ctx.now):
            assert self.claimant is not None
            self._trigger(ctx, ClaimReleased, rider_id=self.claimant, reason=ReleaseReason.EXPIRED)
            return True
        return False

    def release(self, ctx: Context, rider_id: UUID, reason: ReleaseReason) -> None:
        self._require(TaskStatus.CLAIMED)
        if reason is ReleaseReason.WITHDRAWN:
            self._require_claimant(rider_id)
        self._trigger(ctx, ClaimReleased, rider_id=self.claimant, reason=reason)

    def complete(self, ctx: Context, rider_id: UUID, evidence_hashes: tuple[str, ...], note: str) -> None:
        self._require(TaskStatus.CLAIMED)
        self._require_claimant(rider_id)
        if self.claim_expired(ctx.now):
            raise errors.ClaimExpired(f"the claim on task {self.id} expired at {self.expires_at}",
                                      task_id=str(self.id), expires_at=str(self.expires_at))
        self._trigger(ctx, TaskCompleted, rider_id=rider_id, evidence_hashes=evidence_hashes, note=note)

    def verify(self, ctx: Context) -> UUID:
        """Accept the completed work; returns the rider to pay."""
        self._require(TaskStatus.AWAITING_VERIFICATION)
        assert self.claimant is not None
        self._trigger(ctx, CompletionVerified, rider_id=self.claimant)
        return self.claimant

    def reject_completion(self, ctx: Context, reason: str) -> None:
        self._require(TaskStatus.AWAITING_VERIFICATION)
        if not reason.strip():
            raise errors.InvalidInput("a rejected completion needs a reason the rider can read")
        self._trigger(ctx, CompletionRejected, rider_id=self.claimant, reason=reason,
                      expires_at=ctx.now + self.claim_ttl)

    def cancel(self, ctx: Context, reason: str) -> None:
        if self.status in (TaskStatus.VERIFIED, TaskStatus.CANCELLED):
            raise errors.TaskNotOpen(f"task {self.id} is {self.status.value}", status=self.status.value)
        self._trigger(ctx, TaskCancelled, reason=reason)

    def claim_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def _require(self, status: TaskStatus) -> None:
        if self.status is status:
            return
        if status is TaskStatus.AWAITING_VERIFICATION:
            raise errors.TaskNotAwaitingVerification(f"task {self.id} is {self.status.value}",
                                                     task_id=str(self.id), status=self.status.value)
        raise errors.TaskNotOpen(f"task {self.id} is {self.status.value}, not {status.value}",
                                 task_id=str(self.id), status=self.status.value)

    def _require_claimant(self, rider_id: UUID) -> None:
        if rider_id != self.claimant:
            raise errors.NotTheClaimant(f"rider {rider_id} did not claim task {self.id}", task_id=str(self.id))

    def _when(self, event: Event) -> None:
        match event:
            case TaskPublished():
                self.grid_id, self.district, self.kind = event.grid_id, event.district, event.kind
                self.rate_code, self.source_clue_id = event.rate_code, event.source_clue_id
                self.claim_ttl = timedelta(seconds=event.claim_ttl_s)
            case TaskClaimed():
                self.status, self.claimant, self.expires_at = TaskStatus.CLAIMED, event.rider_id, event.expires_at
            case ClaimReleased():
                self.status, self.claimant, self.expires_at = TaskStatus.OPEN, None, None
            case TaskCompleted():
                self.status, self.expires_at = TaskStatus.AWAITING_VERIFICATION, None
            case CompletionVerified():
                self.status = TaskStatus.VERIFIED
            case CompletionRejected():
                self.status, self.expires_at = TaskStatus.CLAIMED, event.expires_at
            case TaskCancelled():
                self.status, self.claimant, self.expires_at = TaskStatus.CANCELLED, None, None
