"""The shapes of what the queries answer, for the OpenAPI document and the clients
made from it. The read models build plain dicts; these only describe them (a
field a read model adds later passes through: `extra="allow"`), and schemathesis
checks every answer against them. Money is integer fen; times are UTC text. Each
id that names a person has its `*_name` beside it, added on the way out (people.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- the board and a rider's tasks ------------------------------------------------------

class BoardTask(Shape):
    task_id: str
    grid_id: str
    district: str
    kind: str
    rate_code: str
    source_clue_id: str | None = Field(description="the clue the task came from, if any")
    status: str = Field(description="open, claimed, awaiting_verification, verified, cancelled")
    claimant: str | None = Field(description="the rider holding the claim")
    claimant_name: str | None = None
    expires_at: str | None = Field(description="when the claim lapses")
    published_at: str
    age_s: int = Field(description="seconds since the task was published")
    completion_note: str | None = Field(default=None, description=(
        "what the rider said when it said the work was done; null unless awaiting verification or verified"))
    completion_evidence: list[str] = Field(default=[], description=(
        "the sha256 of each photo the rider gave with it (GET /v1/photos/{sha256}); empty unless awaiting "
        "verification or verified"))


class Board(Shape):
    tasks: list[BoardTask]
    counts: dict[str, int] = Field(description="tasks per status, of the whole filter (not only this page)")
    next: str | None = Field(description="pass as `after` for the next page; null on the last")


class RiderTask(Shape):
    task_id: str
    grid_id: str
    district: str
    kind: str
    rate_code: str
    source_clue_id: str | None
    status: str
    expires_at: str | None
    published_at: str
    completed_at: str | None = Field(description="when the rider said it was done")
    completion_note: str | None = Field(default=None, description="what the rider said then (while it stands)")
    completion_evidence: list[str] = Field(default=[], description="the sha256 of each photo it gave then")


class RiderTasks(Shape):
    rider_id: str
    rider_name: str | None = None
    tasks: list[RiderTask]


class OpenTask(Shape):
    task_id: str
    grid_id: str
    district: str
    kind: str
    rate_code: str
    source_clue_id: str | None
    published_at: str
    location: dict[str, float] | None = Field(description="where its clue was reported (lat, lon); none without one")
    distance_m: int | None = Field(description="metres from `near`, when given and the task has a place")


class OpenTasks(Shape):
    rider_id: str
    rider_name: str | None = None
    tasks: list[OpenTask]


class Grid(Shape):
    grid_id: str
    district: str
    street: str
    community: str
    name: str
    retired: bool


# --- money and points -------------------------------------------------------------------

class Amounts(Shape):
    awarded: int = Field(description="fen awarded")
    withheld: int = Field(description="fen a cap held back")
    reversed: int = Field(description="fen reversed")
    paid: int = Field(description="fen paid out")
    payable: int = Field(description="fen still to pay: awarded − reversed − paid")


class Slice(Amounts):
    account_id: str = Field(description="the rider's month account")
    rider_id: str
    district: str
    period: str


class Balances(Shape):
    rider_id: str
    rider_name: str | None = None
    months: list[Slice] = Field(description="one row per month and district")
    total: Amounts


class BalanceAt(Shape):
    rider_id: str
    rider_name: str | None = None
    at: str
    balance_fen: int


class Piece(Shape):
    account_id: str = Field(description="the rider's month account")
    piece_id: str = Field(description="the task paid for (a remedy: its appeal); an appeal about it names this")
    rider_id: str
    district: str
    period: str = Field(description="the month (China) the piece counts in: an appeal about it names this")
    day: str = Field(description="the day (China) it was awarded")
    awarded_at: str = Field(description="when it was awarded (UTC)")
    kind: str = Field(description="piece (a verified task) or remedy (an upheld appeal's)")
    rate_code: str = Field(description="the rate it was paid by (empty for a remedy)")
    rate_fen: int = Field(description="fen its rate said")
    awarded: int = Field(description="fen awarded, after caps and budget")
    withheld: int = Field(description="fen of the rate not awarded")
    withheld_by: str | None = Field(description="what withheld it: day_cap, month_cap or budget; null if nothing")
    reversed: int = Field(description="fen a reversal took back (0 if none)")
    reversed_reason: str | None = Field(description="why it was reversed, as the admin wrote it")
    reversed_at: str | None = Field(description="when it was reversed (UTC), if it was")
    reinstated_by: str | None = Field(description="the appeal that paid a reversed award again, if one did")


class Pieces(Shape):
    rider_id: str
    rider_name: str | None = None
    pieces: list[Piece] = Field(description="newest first")


class PointsMove(Shape):
    at: str
    kind: str = Field(description="held, spent, released, expired (or redeemed, before holds)")
    points: int
    item: str | None
    partner: str | None
    piece_id: str | None


class DistrictPoints(Shape):
    district: str = Field(description="the district whose work earned them; empty for points earned before "
                          "points named their district, which any district's catalogue takes")
    available: int


class Points(Shape):
    rider_id: str
    rider_name: str | None = None
    balance: int = Field(description="points available: the same as `available`")
    available: int
    held: int
    spent: int
    earned: int
    redeemed: int
    expired: int
    redemptions: list[PointsMove]
    by_district: list[DistrictPoints] = Field(description="points available now, by the district whose work earned "
                                              "them: a district's catalogue takes only its own")


class Budget(Shape):
    district: str
    period: str
    allocated: int = Field(description="fen allocated to the month")
    committed: int = Field(description="fen awards have taken")
    remaining: int = Field(description="fen left")


class SubsidyDay(Shape):
    day: str = Field(description="YYYY-MM-DD in China")
    awarded_fen: int
    reversed_fen: int


class SubsidyMonth(Shape):
    district: str
    period: str
    budget: Budget
    days: list[SubsidyDay]


class RateOfSchedule(Shape):
    fen: int
    points: int
    name_zh: str | None = Field(description="the kind of piece in Chinese, what pages show (never the code); "
                                            "null where never named")
    name_en: str | None = Field(description="the kind of piece in English, what pages show; null where never named")


class RateSchedule(Shape):
    district: str
    version: int
    effective_from: str
    rates: dict[str, RateOfSchedule] = Field(description="rate code → {fen, points, name_zh, name_en}")
    cap_day_fen: int
    cap_month_fen: int
    issued_at: str
    issued_by: str
    issued_by_name: str | None = None


# --- the audit trail --------------------------------------------------------------------

class Step(Shape):
    stream_id: str
    version: int
    subject_id: str = Field(description="what the step is about: its own stream, or an award's piece")
    kind: str = Field(description="the event type")
    district: str | None
    actor_id: str
    actor_role: str
    actor_name: str | None = None
    at: str
    correlation_id: str = Field(description="the command that made it")
    detail: dict[str, Any] = Field(description="the event's fields, without personal data")


class History(Shape):
    district: str
    steps: list[Step]
    next: str | None


class Chain(Shape):
    piece_id: str
    clue_id: str | None
    district: str
    rate_version: int | None
    steps: list[Step] = Field(description="each with `position` and `leaf_index` in the transparency log")
    payouts: list[Step]


# --- clues, appeals, riders, statistics -----------------------------------------------

class Clue(Shape):
    clue_id: str
    district: str
    grid_id: str | None = Field(description="the grid its location fell in; none: it waits for the district's "
                                            "admins, who accept it into a grid they name")
    reporter_id: str
    reporter_name: str | None = None
    category: str
    text: str
    location: dict[str, float]
    evidence_hashes: list[str]
    candidates: list[str] = Field(description="likely duplicates nearby when it was reported")
    status: str = Field(description="reported, accepted, duplicate, rejected, closed")
    duplicate_of: str | None
    duplicates: list[str]
    task_id: str | None
    reason: str | None
    reported_at: str
    updated_at: str


class Clues(Shape):
    clues: list[Clue]
    next: str | None


class CluePoint(Shape):
    clue_id: str
    grid_id: str | None
    category: str
    status: str
    lat: float
    lon: float
    reported_at: str


class PlaceProperties(Shape):
    kind: str = Field(description='"district" (its boundary; `queued`: its open clues in no grid) or "grid"')
    district: str
    grid_id: str | None = None
    name: str | None = Field(None, description="the grid's name")
    street: str | None = None
    community: str | None = None
    open_clues: int | None = Field(None, description="clues reported or accepted and not yet closed, in the grid")
    queued: int | None = Field(None, description="open clues of the district in no grid (its admins' queue); "
                                                 "not for officers")


class PlaceFeature(Shape):
    type: str = Field(description='"Feature" (GeoJSON)')
    id: str = Field(description="the grid's id, or the district's name")
    geometry: dict[str, Any] | None = Field(description="a GeoJSON Polygon of [longitude, latitude]; null for a "
                                                        "grid without a boundary")
    properties: PlaceProperties = Field(description="what the place is: a district or a grid, its name and counts")


class GridPlaces(Shape):
    """A GeoJSON FeatureCollection (RFC 7946): the district first (if it has a boundary), then its grids."""

    type: str = Field(description='"FeatureCollection" (GeoJSON)')
    district: str
    features: list[PlaceFeature] = Field(description="the district's feature (if drawn), then one per active grid")


class ClueMap(Shape):
    district: str
    since: str
    points: list[CluePoint]


class AppealNote(Shape):
    text: str
    author_id: str = Field(description="who wrote it (an officer's or admin's id)")
    author_name: str | None = None
    author_role: str = Field(description="the role they wrote it in: district_admin or grid_officer")
    at: str


class Appeal(Shape):
    appeal_id: str
    rider_id: str
    rider_name: str | None = None
    district: str
    subject: dict[str, Any]
    text: str
    status: str = Field(description="filed, assigned, decided")
    assignee: str | None
    assignee_name: str | None = None
    notes: int = Field(description="how many notes its file has")
    note_entries: list[AppealNote] = Field(default=[], description=(
        "the notes of its file, oldest first, each with its author and time: for the district's staff (empty for "
        "the rider who filed it)"))
    outcome: str | None
    remedy: dict[str, Any] | None
    reason: str | None
    filed_at: str
    decided_at: str | None
    updated_at: str


class Appeals(Shape):
    appeals: list[Appeal]
    next: str | None


class Rider(Shape):
    rider_id: str
    rider_name: str | None = None
    platform: str
    station: str
    grids: list[str]
    districts: list[str]
    certificate: str | None
    suspended: bool
    erased: bool
    registered_at: str
    updated_at: str
    personal: dict[str, Any] | None = Field(description="name and phone, for those who may see them")


class StaffMember(Shape):
    district: str
    staff_id: str = Field(description="the id their token carries, whole (what the log names them by)")
    role: str = Field(description="grid_officer or district_admin")
    display_name: str = Field(description="the name pages show for them")
    named_at: str
    named_by: str = Field(description="the admin who named them")
    named_by_name: str | None = None


class Staff(Shape):
    district: str
    staff: list[StaffMember] = Field(description="the district's named officers and admins, admins first, by name")


class Open311Key(Shape):
    key_id: str = Field(description="the key's id (revoke-open311-key names it); not the secret, which no read gives")
    district: str
    label: str = Field(description="what the admin called the key: the client or the app it is for")
    rider_id: str | None = Field(description="the rider whose clues the key reports; null for a service's key, "
                                             "which only reads")
    rider_name: str | None = None
    issued_at: str
    issued_by: str = Field(description="the admin who issued it")
    issued_by_name: str | None = None
    revoked_at: str | None = Field(description="when it was revoked (UTC); null while it is in force")
    revoke_reason: str | None = Field(description="why it was revoked; null while it is in force")


class DistrictRiders(Shape):
    district: str
    riders: list[Rider] = Field(description="the riders who have been in the district (joined one of its grids), "
                                            "first registered first; `grids` are those they are in now")


class Open311Keys(Shape):
    district: str
    keys: list[Open311Key] = Field(description="the district's Open311 keys, those in force first, newest first")


class Open311KeyMade(Shape):
    key_id: str = Field(description="the key's id (revoke-open311-key names it)")
    api_key: str = Field(description="the secret, shown this once: the engine keeps only its SHA-256's id")
    district: str
    rider_id: str | None = Field(description="the rider whose clues the key reports; null for a service's key")
    label: str = Field(description="what the admin called the key")
    position: int = Field(description="the log position of the issue: ?position= on a read waits for it")


class Statistics(Shape):
    clues_per_day: list[dict[str, Any]] = Field(description="{district, category, day, clues}")
    median_clue_to_task_s: float | None
    median_claim_to_verified_s: float | None
    clues: int
    duplicates: int
    flagged_as_likely_duplicates: int
    duplicates_rate: float
    appeals_open: int
    appeals_decided: int


# --- rewards ------------------------------------------------------------------------------


class DistrictStation(Shape):
    station_id: str
    district: str
    name: str
    address: str
    lat: float
    lon: float
    hours: str
    services: list[str]
    open: bool


class Station(DistrictStation):
    distance_m: int = Field(description="metres from `near`")


class Partner(Shape):
    partner_id: str
    district: str
    name: str
    kind: str = Field(description="shop, canteen or station")
    station_id: str | None


class PointsPolicy(Shape):
    district: str
    expire_after_months: int
    version: int
    set_at: str | None


class CatalogueItem(Shape):
    item_id: str
    district: str
    partner_id: str
    partner_name: str
    partner_kind: str
    version: int = Field(description="of the item's terms; a redemption keeps the version it was priced at")
    name: str
    price_points: int
    valid_from: str
    valid_to: str
    hold_minutes: int
    stock: int = Field(description="ever stocked")
    reserved: int = Field(description="held or handed over")
    available: int = Field(description="stock − reserved")
    withdrawn: bool


class Redemption(Shape):
    redemption_id: str
    rider_id: str
    rider_name: str | None = None
    district: str
    item_id: str
    item_version: int
    item_name: str
    partner_id: str
    points: int
    status: str = Field(description="held, locked (too many wrong codes: the rider asks for a new one), "
                        "confirmed, refused or expired")
    held_at: str
    expires_at: str
    closed_at: str | None
    month: str | None = Field(description="YYYY-MM (China) it was closed in")
    reason: str | None


class HandedOut(Shape):
    partner_id: str
    partner_name: str
    item: str
    confirmed: int
    points_spent: int
    refused: int
    expired: int


# --- who looked (the access log) ----------------------------------------------------------


class Access(Shape):
    stream_id: str
    district: str
    actor_id: str
    actor_role: str
    actor_name: str | None = None
    at: str
    what: str = Field(description="the route asked for (method and path template), or the export made")
    parameters: dict[str, Any] = Field(description="`{\"path\": {…}, \"query\": {…}}`, each as recorded")
    status: int = Field(description="the HTTP status the request was answered with")
    checkpoint_size: int | None = Field(description="the transparency log's size the answer was tied to, if any")
    checkpoint_root: str | None = Field(description="that checkpoint's root hash, if any")


class Accesses(Shape):
    district: str
    accesses: list[Access] = Field(description="the district's accesses, newest first")
    next: str | None = Field(description="pass as `after` for the next page; null on the last")


# Each read model (projections/registry.py) by name, and the response models of the
# routes that read it: a new read model is not done until its answers are described
# (tests/unit/test_read_model_checklist.py checks every one is here and answered with).
# --- photos ----------------------------------------------------------------------------

class PhotoKept(Shape):
    sha256: str = Field(description="SHA-256 (hex) of the JPEG kept: the photo's name, given as evidence")
    width: int = Field(description="pixels across, as kept (at most 1,600 on the long side)")
    height: int = Field(description="pixels down, as kept")
    bytes: int = Field(description="size of the JPEG kept, in bytes")
    position: int = Field(description="where the upload's event sits in the log (read-your-writes)")


class PhotoCite(Shape):
    cited_by: str = Field(description="clue or task")
    ref_id: str = Field(description="the clue's or task's id")
    district: str
    grid_id: str | None


class Photo(Shape):
    sha256: str = Field(description="SHA-256 (hex) of the JPEG kept: the photo's name")
    rider_id: str
    rider_name: str | None = None
    thumb_sha256: str = Field(description="SHA-256 (hex) of the thumbnail kept")
    bytes: int = Field(description="size of the JPEG kept, in bytes")
    width: int = Field(description="pixels across, as kept")
    height: int = Field(description="pixels down, as kept")
    uploaded_at: str = Field(description="when it was uploaded (UTC)")
    districts: list[str] = Field(description="the districts of the clues and tasks that cite it")
    cites: list[PhotoCite] = Field(description="the clues and tasks that cite it as evidence, in order")


OF_READ_MODEL: dict[str, tuple[type[Shape], ...]] = {
    "board": (Board, RiderTasks, OpenTasks, Grid, GridPlaces),
    "balances": (Balances, BalanceAt, Budget, SubsidyMonth, RateSchedule),
    "points": (Points,),
    "audit": (History, Chain),
    "stats": (Statistics,),
    "clues": (Clue, Clues, ClueMap),
    "appeals": (Appeal, Appeals),
    "riders": (Rider, DistrictRiders),
    "rewards": (Station, DistrictStation, Partner, PointsPolicy, CatalogueItem, Redemption, HandedOut),
    "access": (Accesses,),
    "photos": (Photo,),
    "pieces": (Pieces,),
    "staff": (Staff,),
    "open311_keys": (Open311Keys,),
}
