"""The commands a user can give, as small immutable models.

They are validated on construction (money must be whole, non-negative fen; a bad
field raises InvalidInput naming it), hashed for idempotency, and reused by the
API as request bodies.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError
from pydantic_core import PydanticCustomError

from domain.appeals import Remedy, Subject, Verdict
from domain.catalogue import MAX_HOLD_MINUTES
from domain.points_policy import MAX_MONTHS
from domain.clues import Category, Location
from domain.events import Role
from domain.errors import AmountTooLarge, InvalidBoundary, InvalidInput
from domain.money import Amount, PositiveAmount
from domain.partners import PartnerKind
from domain.places import Polygon
from domain.rates import Rate
from domain.stations import Service
from domain.tasks import ReleaseReason
from domain.time_bounds import Instant, Month

MAX_EVIDENCE = 4  # photos a report or a completion may point at (each uploaded first: POST /v1/photos)
MAX_RATES = 100  # rate codes in one schedule
BOUNDARY = ("A GeoJSON Polygon: one closed ring of [longitude, latitude] positions (WGS 84), at least 4, not "
            "crossing itself.")

def _printable(value: str) -> str:
    """No control characters but tab and newline: a NUL cannot even be stored in
    PostgreSQL text, and the others are garbage in every page that shows it."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise PydanticCustomError("control_character", "control characters are not allowed")
    return value


def _visible(value: str) -> str:
    """Text a person can read: at least one visible character, not only spaces or zero-width marks."""
    _printable(value)
    if not any(unicodedata.category(ch)[0] in "LMNPS" for ch in value):
        raise PydanticCustomError("no_visible_text", "needs at least one visible character")
    return value


# The same rules in the OpenAPI document, for a generated client to check before it sends (the validators
# above decide, with clearer words; the schema's patterns cannot name every invisible character).
_PRINTABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_SHOWN = r"[^\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]"
PRINTABLE = {"pattern": f"^{_PRINTABLE}*$"}
VISIBLE = {"pattern": f"^{_PRINTABLE}*{_SHOWN}{_PRINTABLE}*$"}

Text = Annotated[str, Field(min_length=1, max_length=2000, json_schema_extra=VISIBLE), AfterValidator(_visible)]
Name = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=VISIBLE), AfterValidator(_visible)]
Note = Annotated[str, Field(max_length=2000, json_schema_extra=PRINTABLE), AfterValidator(_printable)]
Period = Month  # 2000-01 … 2100-12, ASCII digits (domain/time_bounds.py)
EvidenceHashes = Annotated[tuple[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")], ...],
                           Field(max_length=MAX_EVIDENCE, description=f"the sha256 of photos the same rider uploaded (POST /v1/photos), "
                                                       f"at most {MAX_EVIDENCE}")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


AwareDatetime = Instant  # with its UTC offset, within the engine's window (domain/time_bounds.py)


# Rate and Remedy are also stored events' shapes, which must keep loading whatever they once held; so the
# bound is the command's: its own subclass, whose schema shows it, handed on as the plain shape.
class RateTerms(Rate):
    fen: Amount
    points: Amount = 0
    name_zh: Name | None = None
    name_en: Name | None = None


class RemedyTerms(Remedy):
    fen: Amount = 0


def _dumped(given: Any) -> Any:
    """A model given from Python (Rate(...)) as the data it holds, to be checked as the command's terms."""
    if isinstance(given, dict):
        return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in given.items()}
    return given.model_dump() if isinstance(given, BaseModel) else given


# A Name as a map's key: pydantic would turn a key's pattern into patternProperties, which let any other key
# hold anything; so the key's pattern is put in propertyNames.
RateCode = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_visible)]


def _codes_visible(schema: dict[str, Any]) -> None:
    schema.setdefault("propertyNames", {}).update(VISIBLE)


def _plain_rates(rates: dict[str, RateTerms]) -> dict[str, Rate]:
    return {code: Rate(**rate.model_dump()) for code, rate in rates.items()}


def _plain_remedy(remedy: RemedyTerms) -> Remedy:
    return Remedy(**remedy.model_dump())


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in e.errors())
            refusal = AmountTooLarge if any(err["type"] == "amount_too_large" for err in e.errors()) else InvalidInput
            if any(err["loc"][:1] == ("boundary",) for err in e.errors()):
                refusal = InvalidBoundary  # its own words: the ring is what is wrong
            raise refusal(f"{type(self).__name__}: {problems}", errors=e.errors(include_url=False)) from None


# Grids -------------------------------------------------------------------------
class RegisterGrid(Command):
    """Register a grid (网格) of a district by street, community and name. Who: the district's admins."""

    district: Name
    street: Name
    community: Name
    name: Name
    boundary: Polygon | None = Field(default=None, description=BOUNDARY)


class SetGridBoundary(Command):
    """Draw a grid's boundary: a clue reported inside it is the grid's. Inside the district's boundary, overlapping
    no other grid (touching is fine). Who: the district's admins."""

    grid_id: UUID
    boundary: Polygon = Field(description=BOUNDARY)


class SetDistrictBoundary(Command):
    """Draw a district's boundary: a clue inside it but in none of its grids waits for the district's admins. It
    must hold the district's grids and overlap no other district. Who: the district's admins."""

    district: Name
    boundary: Polygon = Field(description=BOUNDARY)


class AssignOfficer(Command):
    """Make someone an officer of a grid: they triage its clues and verify its tasks. Who: the district's admins."""

    grid_id: UUID
    officer_id: Name


class RemoveOfficer(Command):
    """End someone's work as an officer of a grid. Who: the district's admins."""

    grid_id: UUID
    officer_id: Name


class RetireGrid(Command):
    """Retire a grid: nothing new happens in it; its history stays. Who: the district's admins."""

    grid_id: UUID
    reason: Text


class NameStaff(Command):
    """Give an officer or an admin of the district the name pages show beside their id (again: rename). Who: the
    district's admins."""

    staff_id: Name
    display_name: Annotated[str, Field(min_length=1, max_length=50, json_schema_extra=VISIBLE),
                            AfterValidator(_visible)]
    district: Name
    role: Literal[Role.GRID_OFFICER, Role.DISTRICT_ADMIN]


# Riders ------------------------------------------------------------------------
class RegisterRider(Command):
    """Register a rider (name and phone are kept sealed, and can be erased). Who: the rider itself, or any district
    admin."""

    rider_id: UUID | None = None
    platform: Name
    station: Name
    name: Name
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 -]{5,20}$")]


class JoinGrid(Command):
    """A rider joins a grid (进网入格), and so its district. Who: the rider, or the district's admins."""

    rider_id: UUID
    grid_id: UUID


class LeaveGrid(Command):
    """A rider leaves a grid. Who: the rider, or the district's admins."""

    rider_id: UUID
    grid_id: UUID


class CertifySupervisor(Command):
    """Certify a rider as a supervisor. Who: the admins of a district the rider is in."""

    rider_id: UUID
    certificate: Name


class SuspendRider(Command):
    """Suspend a rider: no reports, claims or awards until reinstated. Who: the admins of a district the rider is in."""

    rider_id: UUID
    reason: Text


class ReinstateRider(Command):
    """Lift a rider's suspension. Who: the admins of a district the rider is in."""

    rider_id: UUID
    reason: Text


class ErasePersonalData(Command):
    """Erase a rider's name and phone for good (the rest of its history stays, without them). Who: the rider, or its
    districts' admins."""

    rider_id: UUID
    reason: Text


# Photos (internal: POST /v1/photos gives UploadPhoto, the sweep RemovePhoto; neither is a /v1/commands route)
class UploadPhoto(Command):
    """Keep a photo a rider took, re-encoded by the API (photos/images.py), sealed with a key of its own. Who: the
    rider."""

    rider_id: UUID
    sha256: Sha256  # of `jpeg`, checked: the idempotency digest is taken of this, not of the bytes
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    jpeg: bytes = Field(exclude=True, repr=False)
    thumb: bytes = Field(exclude=True, repr=False)


class RemovePhoto(Command):
    """Remove a photo uploaded and never cited: its bytes and its key. Who: the engine's sweep."""

    sha256: Sha256
    reason: Text


# Clues -------------------------------------------------------------------------
class ReportClue(Command):
    """Report a clue (线索直报) where the rider stands, with what; it goes to the grid the location falls in, or
    to the district's admins if it falls in no grid; likely duplicates nearby are named. Who: the rider, inside the
    districts of its grids."""

    rider_id: UUID
    grid_id: UUID | None = Field(default=None, description=(
        "Optional: the grid is where the location falls. Named, it is used only when the location falls in no "
        "grid with a boundary and the named grid has none."))
    category: Category
    text: Text
    location: Location
    evidence_hashes: EvidenceHashes = ()


class AcceptClue(Command):
    """Accept a clue into a task of the grid, paying a rate of the district's schedule. A clue in no grid (its
    location fell in none) is accepted by the district's admins into a grid they name. Who: the grid's officers,
    the district's admins."""

    clue_id: UUID
    grid_id: UUID | None = Field(default=None, description=(
        "For a clue in no grid: the grid of the district whose task it becomes (required then, refused otherwise)."))
    kind: Name
    rate_code: Name
    claim_ttl_s: Annotated[StrictInt, Field(gt=0, le=30 * 86400)] = 4 * 3600
    due: AwareDatetime | None = None


class MarkDuplicate(Command):
    """Mark a clue as repeating an earlier one (the two are linked; the repeat is closed). Who: the grid's officers,
    the district's admins."""

    clue_id: UUID
    of_clue_id: UUID


class RejectClue(Command):
    """Reject a clue, saying why (the rider sees the reason). Who: the grid's officers, the district's admins."""

    clue_id: UUID
    reason: Text


# Tasks -------------------------------------------------------------------------
class PublishTask(Command):
    """Publish a task on a grid's board for its riders to claim (服务认领). Who: the grid's officers, the district's
    admins."""

    grid_id: UUID
    kind: Name
    rate_code: Name
    claim_ttl_s: Annotated[StrictInt, Field(gt=0, le=30 * 86400)] = 4 * 3600
    due: AwareDatetime | None = None


class ClaimTask(Command):
    """Claim an open task of one of the rider's grids; the claim holds for the task's claim time. Who: the rider."""

    task_id: UUID
    rider_id: UUID


class ReleaseClaim(Command):
    """Give up a claim: the task is open again. Who: the rider holding it."""

    task_id: UUID
    rider_id: UUID
    reason: ReleaseReason = ReleaseReason.WITHDRAWN


class CompleteTask(Command):
    """Say the claimed task is done, with a note and evidence; it awaits verification. Who: the rider holding it."""

    task_id: UUID
    rider_id: UUID
    evidence_hashes: EvidenceHashes = ()
    note: Note = ""


class VerifyCompletion(Command):
    """Verify a completed task: the piece-rate subsidy (计件补贴) and points are awarded, within the caps and the budget.
    Who: the grid's officers, the district's admins."""

    task_id: UUID


class RejectCompletion(Command):
    """Send a completion back to the rider, saying why; the claim holds again. Who: the grid's officers, the
    district's admins."""

    task_id: UUID
    reason: Text


class CancelTask(Command):
    """Cancel a task that is not yet verified. Who: the grid's officers, the district's admins."""

    task_id: UUID
    reason: Text


class ExpireClaim(Command):
    """End a claim whose time is up (the engine's sweep does it too). Who: the grid's officers, the district's
    admins."""

    task_id: UUID


# Rates, budgets, subsidies, points --------------------------------------------------
class IssueRateSchedule(Command):
    """Issue a new version of the district's rate schedule: what each kind of piece pays, and the daily and monthly
    caps. Who: the district's admins."""

    district: Name
    effective_from: AwareDatetime
    rates: Annotated[dict[RateCode, RateTerms],
                     Field(min_length=1, max_length=MAX_RATES, json_schema_extra=_codes_visible),
                     BeforeValidator(_dumped), AfterValidator(_plain_rates)]
    cap_day_fen: Amount
    cap_month_fen: Amount


class AllocateBudget(Command):
    """Add to a district's subsidy budget for a month. Who: the district's admins."""

    district: Name
    period: Period
    fen: PositiveAmount


class ReverseAward(Command):
    """Reverse an award (the money leaves the rider's balance; the reason is audited). Who: the admins of the award's
    district."""

    rider_id: UUID
    period: Period
    piece_id: UUID
    reason: Text


class SettlePayout(Command):
    """Pay out what one district owes a rider for a month (its payable there)."""

    rider_id: UUID
    period: Period
    district: Name
    batch_id: Name
    fen: PositiveAmount


# Stations, partners, the rewards catalogue, redemptions ---------------------------
def _distinct(services: tuple[Service, ...]) -> tuple[Service, ...]:
    if len(set(services)) != len(services):
        raise ValueError("each service is named once")
    return services


class StationDescription(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    address: Name
    location: Location
    hours: Annotated[str, Field(min_length=1, max_length=100, json_schema_extra=VISIBLE), AfterValidator(_visible)]
    services: Annotated[tuple[Service, ...], AfterValidator(_distinct)] = ()


class RegisterStation(Command):
    """Register a rider station (骑手驿站): where riders rest, charge and eat. Who: the district's admins."""

    district: Name
    description: StationDescription


class UpdateStation(Command):
    """Replace an open station's description (name, address, location, hours, services). Who: the district's
    admins."""

    station_id: UUID
    description: StationDescription


class CloseStation(Command):
    """Close a station: it is no longer listed. Who: the district's admins."""

    station_id: UUID
    reason: Text


class RegisterPartner(Command):
    """Register a partner (a shop, canteen or station) that hands rewards over; its token has role `partner` and
    its id as `sub`. Who: the district's admins."""

    district: Name
    name: Name
    kind: PartnerKind
    station_id: UUID | None = None


class ListItem(Command):
    """Put an item in the district's rewards catalogue: its partner, price in points, stock, dates and how long a
    redemption holds it (minutes). Who: the district's admins."""

    district: Name
    partner_id: UUID
    name: Name
    price_points: PositiveAmount
    stock: Annotated[StrictInt, Field(ge=0, le=1_000_000)]
    valid_from: AwareDatetime
    valid_to: AwareDatetime
    hold_minutes: Annotated[StrictInt, Field(gt=0, le=MAX_HOLD_MINUTES)] = 120


class ReviseItem(Command):
    """Revise an item's terms (a new version; redemptions keep the version they were priced at) and add stock.
    Who: the district's admins."""

    item_id: UUID
    name: Name
    price_points: PositiveAmount
    valid_from: AwareDatetime
    valid_to: AwareDatetime
    hold_minutes: Annotated[StrictInt, Field(gt=0, le=MAX_HOLD_MINUTES)] = 120
    stock_added: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 0


class WithdrawItem(Command):
    """Take an item out of the catalogue (holds already made stand). Who: the district's admins."""

    item_id: UUID
    reason: Text


class RedeemItem(Command):
    """Redeem a catalogue item: its price in points is held and one of its stock reserved until its partner
    confirms the hand-over with the one-time code this answers with. Who: the rider, in a district it belongs to."""

    rider_id: UUID
    item_id: UUID


class ConfirmRedemption(Command):
    """The rider showed its code and got the item: the held points are spent. Who: the item's partner."""

    redemption_id: UUID | None = Field(None, description=(
        "which redemption; without it the code names one among the partner's held redemptions"))
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the six digits the rider shows")]


class RenewRedemptionCode(Command):
    """A new one-time code for a held redemption (the old one stops working; a redemption locked after wrong
    codes opens again); the hold keeps its time. Who: the rider."""

    redemption_id: UUID


class RefuseRedemption(Command):
    """The item cannot be handed over: the points and the stock come back. Who: the item's partner."""

    redemption_id: UUID
    reason: Text


class ExpireRedemption(Command):
    """End a hold whose time ran out: the points and the stock come back. Who: the engine's sweep, the item's
    partner, the district's admins."""

    redemption_id: UUID


class ExpirePoints(Command):
    """Expire some of a rider's points. Who: the admins of a district the rider is in."""

    rider_id: UUID
    points: PositiveAmount
    reason: Text


class SetPointsPolicy(Command):
    """Set how many months after the month they were earned the points of the district's work expire, at month end
    (0: never). A new version; the engine's sweep applies it. Who: the district's admins."""

    district: Name
    expire_after_months: Annotated[StrictInt, Field(ge=0, le=MAX_MONTHS)]


class ExpireOldPoints(Command):
    """Apply the district's expiry policy to one rider at the end of `month`: what is left of the points its work
    earned `expire_after_months` or more months before goes (nothing, if nothing is left). Who: the engine's sweep,
    the district's admins."""

    rider_id: UUID
    district: Name
    month: Period


# Appeals -----------------------------------------------------------------------
class AppealSubject(Subject):
    """What an appeal is about, as a rider names it: an award's month is bounded like every month."""

    period: Period | None = None


def _as_given(subject: Any) -> Any:
    return subject.model_dump() if isinstance(subject, Subject) else subject


def _plain_subject(subject: AppealSubject) -> Subject:
    # The event keeps the stored shape (Subject), which must load whatever it once held.
    return Subject(**subject.model_dump())


class FileAppeal(Command):
    """File an appeal with a district about a clue, a task, an award, or something outside. Who: the rider."""

    rider_id: UUID
    district: Name
    subject: Annotated[AppealSubject, BeforeValidator(_as_given), AfterValidator(_plain_subject)]
    text: Text


class AssignAppeal(Command):
    """Give an appeal to someone to handle. Who: the district's admins."""

    appeal_id: UUID
    assignee_id: Name


class NoteAppeal(Command):
    """Add a note to an appeal's file. Who: the district's admins."""

    appeal_id: UUID
    text: Text


class DecideAppeal(Command):
    """Decide an appeal: upheld or dismissed, with a remedy (a reinstated award, or compensation from the district's
    budget). Who: the district's admins."""

    appeal_id: UUID
    outcome: Verdict
    remedy: Annotated[RemedyTerms, BeforeValidator(_dumped), AfterValidator(_plain_remedy)] = Remedy()
    reason: Text


# Open311 keys (domain/open311_keys.py) ---------------------------------------------
class IssueOpen311Key(Command):
    """Issue an Open311 key to a district's Open311 client: a rider's (it reports clues as the rider, who has a
    grid in the district and is active) or, with no rider, a service's (it reads). Given by the API, which makes
    the secret and passes only its SHA-256 (POST /v1/districts/{district}/open311-keys). Who: the district's
    admins."""

    key_sha256: Sha256
    district: Name
    rider_id: UUID | None = None
    label: Name


class RevokeOpen311Key(Command):
    """Revoke an Open311 key: refused from its very next request. Who: the district's admins."""

    key_id: UUID = Field(description="the key's id, as its issue answered and the district's key list gives it "
                                     "(never the secret)")
    reason: Text
