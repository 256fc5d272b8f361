"""Every refusal the domain can give, as a type with a stable name.

The API maps the four families to HTTP (404, 409, 422, 403) and uses `code` as the
problem `type`, so renaming a class here is a breaking change for clients.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain-error"
    # A refusal that is itself a fact to keep (a wrong code counts towards a lock):
    # the events the command decided before refusing are saved, then the refusal answers.
    keeps_events = False

    def __init__(self, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.message = message
        self.facts = facts

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            return  # declared: kept when the class was renamed
        # TaskAlreadyClaimed -> task-already-claimed
        cls.code = "".join("-" + c.lower() if c.isupper() else c for c in cls.__name__).lstrip("-")


class PhotoStoreUnavailable(DomainError):
    """The blob store did not answer (S3 away, a disk full): no family, so a 503 — try again."""


class StoreUnavailable(DomainError):
    """The database did not answer (its primary died, a failover under way): no family, so
    a 503. Whether a command in flight was recorded is unknown: send it again with the same
    Idempotency-Key, which answers it once either way."""


class NotFound(DomainError): ...
class Conflict(DomainError): ...
class Invalid(DomainError): ...
class Forbidden(DomainError): ...


# Not found
class GridNotFound(NotFound): ...
class RiderNotFound(NotFound): ...
class ClueNotFound(NotFound): ...
class TaskNotFound(NotFound): ...
class AppealNotFound(NotFound): ...
class AwardNotFound(NotFound): ...
class NoRateInEffect(NotFound): ...
class StationNotFound(NotFound): ...
class PartnerNotFound(NotFound): ...
class ItemNotFound(NotFound): ...
class RedemptionNotFound(NotFound): ...
class PhotoNotFound(NotFound): ...
class Open311KeyNotFound(NotFound): ...
class PhotoErased(NotFound):
    """Its key was shredded with its rider's personal data: the hash stays in the log, the picture is gone."""


# Conflicts with the current state
class TaskAlreadyClaimed(Conflict): ...
class TaskNotOpen(Conflict): ...
class TaskNotAwaitingVerification(Conflict): ...
class ClueAlreadyTriaged(Conflict): ...
class GridIsRetired(Conflict):
    code = "grid-retired"
class RiderIsSuspended(Conflict):
    code = "rider-suspended"
class AlreadyRegistered(Conflict): ...
class AlreadyMember(Conflict): ...
class AwardAlreadyReversed(Conflict): ...
class AwardAlreadyReinstated(Conflict): ...
class AwardNotReversed(Conflict): ...
class PieceAlreadyAwarded(Conflict): ...
class BatchAlreadySettled(Conflict): ...
class InsufficientBalance(Conflict): ...
class InsufficientPoints(Conflict): ...
class InsufficientBudget(Conflict):
    """A remedy is owed whole: the month's budget must hold it (the facts say the shortfall)."""
class StationClosed(Conflict): ...
class ItemNotOffered(Conflict):
    """Withdrawn, or outside its dates."""
class OutOfStock(Conflict): ...
class RedemptionNotHeld(Conflict):
    """Already confirmed, refused or expired: a code confirms once."""
class HoldExpired(Conflict): ...
class RedemptionLocked(Conflict):
    """Too many wrong codes: the rider asks for a new one (renew-redemption-code)."""
class PartnerLockedForToday(Conflict):
    """A partner gave too many wrong codes today across its redemptions: none confirms until tomorrow."""
class HoldNotExpired(Conflict): ...
class AppealAlreadyDecided(Conflict): ...
class Open311KeyAlreadyRevoked(Conflict): ...
class PersonalDataAlreadyErased(Conflict): ...
class BoundaryOverlaps(Conflict):
    """A boundary would overlap another grid's or district's (touching along an edge is fine)."""
class PhotoOfAnother(Conflict):
    """These very bytes were given by another rider: a photo is its uploader's evidence alone."""
class PhotoIsEvidence(Conflict):
    """Cited by a clue or a task: the sweep leaves it."""
class ConcurrencyConflict(Conflict):
    """Retries ran out while others kept changing the same aggregates."""


# Bad input
class IdempotencyKeyReused(Invalid):
    """Same key, different command or payload (TigerBeetle's `exists_with_different_*`)."""
class InvalidAmount(Invalid): ...
class InvalidInput(Invalid): ...
class UnknownRateCode(Invalid): ...
class ScheduleInThePast(Invalid):
    """A new rate schedule dated before now: it would say its rates were in force while the old ones paid."""
class ClaimExpired(Invalid): ...
class WrongRedemptionCode(Invalid):
    keeps_events = True  # the miss is counted (domain/redemptions.py)
class UnknownRedemptionCode(WrongRedemptionCode):
    """A code typed alone that is none of the partner's held redemptions': a wrong code of its day."""
class RedemptionCodeAmbiguous(Conflict):
    """Two of the partner's held redemptions have the code typed alone: the partner names which."""
class InvalidBoundary(Invalid):
    """Not one closed, simple ring of positions in range with an area (the facts say which)."""
class BoundaryOutsideDistrict(Invalid):
    """A grid's boundary reaches outside its district's, or a district's leaves out one of its grids."""
class LocationOutsideDistricts(Invalid):
    """A clue's location falls in no grid and no district, and no grid without a boundary was named."""
class NotAPhoto(Invalid):
    """The bytes are no JPEG, PNG or WebP (decided from the bytes, not the name), or do not decode."""
class TooManyPixels(Invalid):
    """More pixels than any camera's photo (40 MP): a decompression bomb is refused from its header."""
class EvidenceNotUploaded(Invalid):
    """Evidence is a photo the same rider uploaded (POST /v1/photos); a hash of anything else is refused."""
class RiderNotInDistrict(Invalid):
    """A rider's Open311 key is of a district where the rider has a grid."""
class AmountTooLarge(Invalid):
    """An amount, or a total it would make, beyond what the ledger keeps (10^12 fen a command, int64 a total)."""


# The actor may not do this
class NotAMember(Forbidden): ...
class NotInRiderDistricts(Forbidden):
    """A rider reports only in the districts of its grids."""
class NotTheClaimant(Forbidden): ...
class NotAnOfficerOfGrid(Forbidden): ...
class NotAllowed(Forbidden): ...
class NotThePartner(Forbidden):
    """A partner confirms or refuses only the redemptions of its own items."""
class OutOfScope(Forbidden):
    """The caller's token does not reach the district or grid of what the command touches."""
