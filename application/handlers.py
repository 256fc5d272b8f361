"""One function per command: load what it touches, apply the rules, say what it made.

One module, the longest of the application, on purpose: who may give which
command is decided here and only here, so a reviewer reads every authorization
rule in one file.

Handlers only decide; `GridGovernance.execute` saves, retries on a lost race and
keeps idempotency keys. Who may give a command is decided here, and only here,
after the aggregates are loaded: the role (`require_role`), a rider acting as
itself (`require_self_or`), an officer in its own grids (`require_officer_of`),
and the caller's scope (`ctx.scope`, the districts and grids its token covers)
on every aggregate the command reads or changes, in the domain's own terms: the
piece's district for an award, both clues' for a duplicate link, the award's for
a remedy. The API only authenticates.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable, TypeVar
from uuid import UUID

from domain import commands as c
from domain import errors
from domain.aggregate import Context
from domain.appeals import Appeal, RemedyKind, Subject, SubjectKind, Verdict
from domain.clock import local_day, local_month, month_before
from domain.clues import Clue
from domain.events import Role
from domain.grids import Grid
from domain.places import DistrictMap, Polygon
from application.places import check_district_boundary, check_grid_boundary
from application.personal import seal
from application import photos
from domain.photos import CitedBy, Photo
from domain.points import PointsAccount
from domain.points_policy import PointsPolicy
from domain.budgets import Budget
from domain.catalogue import CatalogueItem, Terms
from domain.open311_keys import Open311Key
from domain.partners import Partner
from domain.rates import RateSchedule
from domain.redemptions import Redemption, code_fits, code_of
from domain.riders import Rider
from domain.staff import StaffMember
from domain.stations import Description, Station
from domain.subsidies import Award, SubsidyAccount
from domain.tasks import GridTask, ReleaseReason

if TYPE_CHECKING:
    from application.unit_of_work import UnitOfWork

Result = dict[str, Any]
MAX_CANDIDATES = 20  # likely duplicates listed on a report, nearest first
Handler = Callable[["UnitOfWork", Context, Any], Result]
HANDLERS: dict[type[c.Command], Handler] = {}
# Fields of an answer that are secrets: kept out of the idempotency record, and put
# back into a replayed answer by asking the key store again (`reveal`).
Reveal = Callable[["UnitOfWork", Result], Result]
SECRETS: dict[type[c.Command], tuple[tuple[str, ...], Reveal]] = {}
# Given by the engine's own parts, never as POST /v1/commands/…: a photo's upload carries the bytes the
# API re-encoded (POST /v1/photos), a photo's removal is the sweep's.
INTERNAL: set[type[c.Command]] = set()
C = TypeVar("C", bound=c.Command)


def handles(command: type[C], *, secrets: tuple[tuple[str, ...], Reveal] | None = None, internal: bool = False
            ) -> Callable[[Callable[[UnitOfWork, Context, C], Result]], Handler]:
    def register(fn: Callable[[UnitOfWork, Context, C], Result]) -> Handler:
        HANDLERS[command] = fn
        if internal:
            INTERNAL.add(command)
        if secrets is not None:
            SECRETS[command] = secrets
        return fn

    return register


# --- who may ------------------------------------------------------------------

def require_role(ctx: Context, *roles: Role) -> None:
    if ctx.actor.role not in (*roles, Role.SYSTEM):
        raise errors.NotAllowed(f"a {ctx.actor.role.value} may not do this", role=ctx.actor.role.value)


def require_self_or(ctx: Context, rider_id: UUID, *roles: Role) -> None:
    """A rider acts only as itself; the listed roles may act for it."""
    if ctx.actor.role is Role.RIDER:
        if ctx.actor.id != str(rider_id):
            raise errors.NotAllowed("a rider acts only as itself", rider_id=str(rider_id))
        return
    require_role(ctx, *roles)


def _own_id(ctx: Context) -> UUID:
    try:
        return UUID(ctx.actor.id)
    except ValueError:
        raise errors.NotAllowed(f"a rider is known by a UUID, not {ctx.actor.id!r}") from None


def require_officer_of(ctx: Context, grid: Grid, what: str = "this grid") -> None:
    """An officer of the grid (within its token's grids), or an admin of its district."""
    require_role(ctx, Role.GRID_OFFICER, Role.DISTRICT_ADMIN)
    ctx.scope.require_grid(grid.district, grid.id, what)
    if ctx.actor.role is Role.GRID_OFFICER and not grid.is_officer(ctx.actor.id):
        raise errors.NotAnOfficerOfGrid(f"{ctx.actor.id} is not an officer of grid {grid.name}",
                                        grid_id=str(grid.id))


def require_admin_of(ctx: Context, district: str, what: str) -> None:
    require_role(ctx, Role.DISTRICT_ADMIN)
    ctx.scope.require_district(district, what)


def require_admin_of_rider(ctx: Context, rider: Rider) -> None:
    """A rider belongs to every district it has been in: an admin of any of them."""
    require_role(ctx, Role.DISTRICT_ADMIN)
    ctx.scope.require_any(rider.districts, f"rider {rider.id}")


def require_rate_code(uow: UnitOfWork, district: str, rate_code: str) -> None:
    if not uow.get(RateSchedule, RateSchedule.id_for(district)).knows(rate_code):
        raise errors.UnknownRateCode(f"district {district} has no rate {rate_code!r}", rate_code=rate_code)


# --- grids --------------------------------------------------------------------

@handles(c.RegisterGrid)
def register_grid(uow: UnitOfWork, ctx: Context, cmd: c.RegisterGrid) -> Result:
    require_admin_of(ctx, cmd.district, "the new grid")
    grid = uow.new(Grid)
    grid.register(ctx, cmd.district, cmd.street, cmd.community, cmd.name)
    if cmd.boundary is not None:
        _draw_grid(uow, ctx, grid, cmd.boundary)
    return {"grid_id": str(grid.id)}


def _draw_grid(uow: UnitOfWork, ctx: Context, grid: Grid, boundary: Polygon) -> None:
    district_map = uow.get(DistrictMap, DistrictMap.id_for(grid.district))
    check_grid_boundary(uow.app.places.current(uow.pending(), uow.head()), district_map, grid.district, grid.id,
                        boundary)
    district_map.set_grid_boundary(ctx, grid.district, grid.id, boundary)


@handles(c.SetGridBoundary)
def set_grid_boundary(uow: UnitOfWork, ctx: Context, cmd: c.SetGridBoundary) -> Result:
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    require_admin_of(ctx, grid.district, f"grid {grid.name}")
    grid.require_active()
    _draw_grid(uow, ctx, grid, cmd.boundary)
    return {}


@handles(c.SetDistrictBoundary)
def set_district_boundary(uow: UnitOfWork, ctx: Context, cmd: c.SetDistrictBoundary) -> Result:
    require_admin_of(ctx, cmd.district, "the district's boundary")
    district_map = uow.get(DistrictMap, DistrictMap.id_for(cmd.district))
    check_district_boundary(uow.app.places.current(uow.pending(), uow.head()), district_map, cmd.district, cmd.boundary)
    district_map.set_boundary(ctx, cmd.district, cmd.boundary)
    return {}


@handles(c.AssignOfficer)
def assign_officer(uow: UnitOfWork, ctx: Context, cmd: c.AssignOfficer) -> Result:
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    require_admin_of(ctx, grid.district, f"grid {grid.name}")
    grid.assign_officer(ctx, cmd.officer_id)
    return {}


@handles(c.RemoveOfficer)
def remove_officer(uow: UnitOfWork, ctx: Context, cmd: c.RemoveOfficer) -> Result:
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    require_admin_of(ctx, grid.district, f"grid {grid.name}")
    grid.remove_officer(ctx, cmd.officer_id)
    return {}


@handles(c.RetireGrid)
def retire_grid(uow: UnitOfWork, ctx: Context, cmd: c.RetireGrid) -> Result:
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    require_admin_of(ctx, grid.district, f"grid {grid.name}")
    grid.retire(ctx, cmd.reason)
    uow.get(DistrictMap, DistrictMap.id_for(grid.district)).clear_grid(ctx, grid.district, grid.id)
    return {}


@handles(c.NameStaff)
def name_staff(uow: UnitOfWork, ctx: Context, cmd: c.NameStaff) -> Result:
    require_admin_of(ctx, cmd.district, "the district's staff directory")
    member = uow.get(StaffMember, StaffMember.id_for(cmd.district, cmd.staff_id))
    member.name(ctx, cmd.district, cmd.staff_id, cmd.role, cmd.display_name)
    return {}


# --- riders -------------------------------------------------------------------

@handles(c.RegisterRider)
def register_rider(uow: UnitOfWork, ctx: Context, cmd: c.RegisterRider) -> Result:
    if ctx.actor.role is Role.RIDER:
        rider_id = cmd.rider_id or _own_id(ctx)
        require_self_or(ctx, rider_id)
    else:
        require_role(ctx, Role.DISTRICT_ADMIN)
        rider_id = cmd.rider_id
    if rider_id is None:
        # An id made here has no stream and no key by construction: neither is looked for (two
        # round trips of the three a rider's joining the city cost); if one were there, the save
        # would be a conflict, as for any aggregate made here.
        rider = uow.new(Rider)
        key = uow.new_key(uow.app.keys, rider.id)
    else:
        rider = uow.get(Rider, rider_id)
        if rider.exists:
            raise errors.AlreadyRegistered(f"rider {rider_id} is already registered", rider_id=str(rider_id))
        key = uow.key(uow.app.keys, rider_id)
    rider.register(ctx, cmd.platform, cmd.station, seal(key, {"name": cmd.name, "phone": cmd.phone}))
    return {"rider_id": str(rider.id)}


@handles(c.JoinGrid)
def join_grid(uow: UnitOfWork, ctx: Context, cmd: c.JoinGrid) -> Result:
    require_self_or(ctx, cmd.rider_id, Role.DISTRICT_ADMIN)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    ctx.scope.require_district(grid.district, f"grid {grid.name}")
    rider.join(ctx, grid)
    return {}


@handles(c.LeaveGrid)
def leave_grid(uow: UnitOfWork, ctx: Context, cmd: c.LeaveGrid) -> Result:
    require_self_or(ctx, cmd.rider_id, Role.DISTRICT_ADMIN)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    ctx.scope.require_district(grid.district, f"grid {grid.name}")
    rider.leave(ctx, grid.id)
    return {}


@handles(c.CertifySupervisor)
def certify_supervisor(uow: UnitOfWork, ctx: Context, cmd: c.CertifySupervisor) -> Result:
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    require_admin_of_rider(ctx, rider)
    rider.certify_supervisor(ctx, cmd.certificate)
    return {}


@handles(c.SuspendRider)
def suspend_rider(uow: UnitOfWork, ctx: Context, cmd: c.SuspendRider) -> Result:
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    require_admin_of_rider(ctx, rider)
    rider.suspend(ctx, cmd.reason)
    return {}


@handles(c.ReinstateRider)
def reinstate_rider(uow: UnitOfWork, ctx: Context, cmd: c.ReinstateRider) -> Result:
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    require_admin_of_rider(ctx, rider)
    rider.reinstate(ctx, cmd.reason)
    return {}


@handles(c.ErasePersonalData)
def erase_personal_data(uow: UnitOfWork, ctx: Context, cmd: c.ErasePersonalData) -> Result:
    require_self_or(ctx, cmd.rider_id, Role.DISTRICT_ADMIN)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    if ctx.actor.role is Role.DISTRICT_ADMIN:
        require_admin_of_rider(ctx, rider)
    rider.erase_personal_data(ctx, cmd.reason)
    # Shred before the event lands: if the save then fails, the data is gone
    # anyway, which is the safe way round for an erasure. The photos it took go too.
    uow.delete_key(uow.app.keys, cmd.rider_id)
    return {"photos_shredded": photos.shred_rider(uow.app, cmd.rider_id)}


# --- clues --------------------------------------------------------------------

@handles(c.ReportClue)
def report_clue(uow: UnitOfWork, ctx: Context, cmd: c.ReportClue) -> Result:
    require_self_or(ctx, cmd.rider_id)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    rider.require_active()
    grid, district = _place_of_report(uow, rider, cmd)
    # Only the district's own clues: an officer may link a duplicate only
    # inside its district, so a candidate from over the border is no help.
    candidates = tuple(uow.app.open_clues.candidates(cmd.category, cmd.location, ctx.now, district=district,
                                                     pending=uow.pending(), head=uow.head()))[:MAX_CANDIDATES]
    clue = uow.new(Clue)
    clue.report(ctx, grid_id=grid.id if grid else None, district=district, reporter_id=rider.id,
                category=cmd.category, text=cmd.text, location=cmd.location, evidence_hashes=cmd.evidence_hashes,
                duplicate_candidates=candidates)
    _cite(uow, ctx, rider.id, cmd.evidence_hashes, CitedBy.CLUE, clue.id, district, grid.id if grid else None)
    return {"clue_id": str(clue.id), "grid_id": str(grid.id) if grid else None, "district": district,
            "duplicate_candidates": [str(x) for x in candidates]}


def _place_of_report(uow: UnitOfWork, rider: Rider, cmd: c.ReportClue) -> tuple[Grid | None, str]:
    """The grid the location falls in; else a named grid that has no boundary (a client of before grids were
    places, which the rider must be in); else the district's queue (no grid); else nowhere: refused. A rider
    reports only inside the districts of its grids (a grid there need not be the one it is in: where it
    stands decides)."""
    atlas = uow.app.places.current(uow.pending(), uow.head())
    placement = atlas.locate(cmd.location)
    if placement.grid_id is None and cmd.grid_id is not None and cmd.grid_id not in atlas.grids:
        grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
        grid.require_active()
        rider.require_member(grid.id)
        return grid, grid.district
    if placement.district is None:
        raise errors.LocationOutsideDistricts(
            f"({cmd.location.lon}, {cmd.location.lat}) is in no grid or district", lat=cmd.location.lat,
            lon=cmd.location.lon)
    if placement.district not in set(rider.grids.values()):
        raise errors.NotInRiderDistricts(f"rider {rider.id} has no grid in {placement.district}",
                                         district=placement.district)
    if placement.grid_id is None:
        return None, placement.district
    grid = uow.get(Grid, placement.grid_id, errors.GridNotFound)
    grid.require_active()
    return grid, grid.district


@handles(c.AcceptClue)
def accept_clue(uow: UnitOfWork, ctx: Context, cmd: c.AcceptClue) -> Result:
    clue = uow.get(Clue, cmd.clue_id, errors.ClueNotFound)
    grid = _grid_to_accept_into(uow, ctx, clue, cmd.grid_id)
    require_officer_of(ctx, grid, f"clue {clue.id}")
    grid.require_active()
    require_rate_code(uow, grid.district, cmd.rate_code)
    task = uow.new(GridTask)
    clue.accept(ctx, task.id, grid.id)
    task.publish(ctx, grid_id=grid.id, district=grid.district, kind=cmd.kind, rate_code=cmd.rate_code,
                 claim_ttl_s=cmd.claim_ttl_s, due=cmd.due, source_clue_id=clue.id)
    return {"task_id": str(task.id), "grid_id": str(grid.id)}


def _grid_to_accept_into(uow: UnitOfWork, ctx: Context, clue: Clue, named: UUID | None) -> Grid:
    """A clue's own grid; for a clue in no grid, the grid of its district its admins name."""
    if clue.grid_id is not None:
        if named is not None and named != clue.grid_id:
            raise errors.InvalidInput(f"clue {clue.id} is in grid {clue.grid_id}: its task is that grid's",
                                      grid_id=str(clue.grid_id))
        return uow.get(Grid, clue.grid_id, errors.GridNotFound)
    require_admin_of(ctx, clue.district, f"clue {clue.id}")
    if named is None:
        raise errors.InvalidInput(f"clue {clue.id} is in no grid: name the grid of {clue.district} to accept it "
                                  "into (grid_id)", district=clue.district)
    grid = uow.get(Grid, named, errors.GridNotFound)
    if grid.district != clue.district:
        raise errors.InvalidInput(f"grid {grid.name} is not in {clue.district}, the district of clue {clue.id}",
                                  district=clue.district)
    return grid


def _require_triager(uow: UnitOfWork, ctx: Context, clue: Clue) -> None:
    """The officers of the clue's grid and the district's admins; a clue in no grid is its admins' alone."""
    if clue.grid_id is None:
        require_admin_of(ctx, clue.district, f"clue {clue.id}")
    else:
        require_officer_of(ctx, uow.get(Grid, clue.grid_id, errors.GridNotFound), f"clue {clue.id}")


@handles(c.MarkDuplicate)
def mark_duplicate(uow: UnitOfWork, ctx: Context, cmd: c.MarkDuplicate) -> Result:
    """Both clues change (a link each way), so both are checked: the duplicate as
    triage in its grid, the original as a clue of the same district."""
    clue = uow.get(Clue, cmd.clue_id, errors.ClueNotFound)
    original = uow.get(Clue, cmd.of_clue_id, errors.ClueNotFound)
    _require_triager(uow, ctx, clue)
    ctx.scope.require_district(original.district, f"clue {original.id}")
    if original.district != clue.district:
        raise errors.OutOfScope(f"clue {original.id} is in {original.district}, not {clue.district}: "
                                "a duplicate link stays inside one district", district=original.district)
    clue.mark_duplicate(ctx, original)
    return {}


@handles(c.RejectClue)
def reject_clue(uow: UnitOfWork, ctx: Context, cmd: c.RejectClue) -> Result:
    clue = uow.get(Clue, cmd.clue_id, errors.ClueNotFound)
    _require_triager(uow, ctx, clue)
    clue.reject(ctx, cmd.reason)
    return {}


# --- photos -------------------------------------------------------------------

@handles(c.UploadPhoto, internal=True)
def upload_photo(uow: UnitOfWork, ctx: Context, cmd: c.UploadPhoto) -> Result:
    """Decided before a byte is kept: a refusal leaves no blob and no key."""
    require_self_or(ctx, cmd.rider_id)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    rider.require_active()
    if rider.erased:
        raise errors.PersonalDataAlreadyErased(f"rider {rider.id}: personal data erased, no photo is kept")
    if hashlib.sha256(cmd.jpeg).hexdigest() != cmd.sha256:
        raise errors.InvalidInput("sha256 is not the hash of the photo's bytes", sha256=cmd.sha256)
    photo = uow.get(Photo, Photo.id_for(cmd.sha256))
    if photo.upload(ctx, sha256=cmd.sha256, thumb_sha256=hashlib.sha256(cmd.thumb).hexdigest(), rider_id=rider.id,
                    size=len(cmd.jpeg), width=cmd.width, height=cmd.height):
        photos.keep(uow.app, cmd.sha256, cmd.jpeg, cmd.thumb)
    return {"sha256": cmd.sha256, "width": cmd.width, "height": cmd.height, "bytes": len(cmd.jpeg)}


@handles(c.RemovePhoto, internal=True)
def remove_photo(uow: UnitOfWork, ctx: Context, cmd: c.RemovePhoto) -> Result:
    require_role(ctx)  # the engine's alone
    photo = uow.get(Photo, Photo.id_for(cmd.sha256), errors.PhotoNotFound)
    photo.remove(ctx, cmd.reason)
    # Its bytes and key go once the event is saved (gridgov/sweep.py): a report citing it meanwhile
    # wins the race on the photo's stream, and then the photo must still be there.
    return {}


def _cite(uow: UnitOfWork, ctx: Context, rider_id: UUID, hashes: tuple[str, ...], by: CitedBy, ref_id: UUID,
          district: str, grid_id: UUID | None) -> None:
    """Evidence is real: each hash a photo this rider uploaded, cited on the photo's own stream."""
    for sha256 in dict.fromkeys(hashes):
        photo = uow.get(Photo, Photo.id_for(sha256))
        photo.require_evidence_of(rider_id, sha256)
        photo.cite(ctx, rider_id, by, ref_id, district, grid_id)


# --- tasks --------------------------------------------------------------------

def _task_and_grid(uow: UnitOfWork, task_id: UUID) -> tuple[GridTask, Grid]:
    task = uow.get(GridTask, task_id, errors.TaskNotFound)
    assert task.grid_id is not None
    return task, uow.get(Grid, task.grid_id, errors.GridNotFound)


@handles(c.PublishTask)
def publish_task(uow: UnitOfWork, ctx: Context, cmd: c.PublishTask) -> Result:
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    require_officer_of(ctx, grid)
    grid.require_active()
    require_rate_code(uow, grid.district, cmd.rate_code)
    task = uow.new(GridTask)
    task.publish(ctx, grid_id=grid.id, district=grid.district, kind=cmd.kind, rate_code=cmd.rate_code,
                 claim_ttl_s=cmd.claim_ttl_s, due=cmd.due, source_clue_id=None)
    return {"task_id": str(task.id)}


@handles(c.ClaimTask)
def claim_task(uow: UnitOfWork, ctx: Context, cmd: c.ClaimTask) -> Result:
    require_self_or(ctx, cmd.rider_id)
    task = uow.get(GridTask, cmd.task_id, errors.TaskNotFound)
    task.claim(ctx, uow.get(Rider, cmd.rider_id, errors.RiderNotFound))
    return {"expires_at": task.expires_at.isoformat() if task.expires_at else None}


@handles(c.ReleaseClaim)
def release_claim(uow: UnitOfWork, ctx: Context, cmd: c.ReleaseClaim) -> Result:
    task, grid = _task_and_grid(uow, cmd.task_id)
    if cmd.reason is ReleaseReason.WITHDRAWN:
        require_self_or(ctx, cmd.rider_id)
    elif cmd.reason is ReleaseReason.REASSIGNED:
        require_officer_of(ctx, grid)
    else:
        raise errors.InvalidInput("expired claims are released by ExpireClaim, when they have expired")
    task.release(ctx, cmd.rider_id, cmd.reason)
    return {}


@handles(c.CompleteTask)
def complete_task(uow: UnitOfWork, ctx: Context, cmd: c.CompleteTask) -> Result:
    require_self_or(ctx, cmd.rider_id)
    task = uow.get(GridTask, cmd.task_id, errors.TaskNotFound)
    task.complete(ctx, cmd.rider_id, cmd.evidence_hashes, cmd.note)
    _cite(uow, ctx, cmd.rider_id, cmd.evidence_hashes, CitedBy.TASK, task.id, task.district, task.grid_id)
    return {}


@handles(c.VerifyCompletion)
def verify_completion(uow: UnitOfWork, ctx: Context, cmd: c.VerifyCompletion) -> Result:
    """Verification pays: the award, its budget commitment, the points and the
    closing of the source clue are one transaction with the verification."""
    task, grid = _task_and_grid(uow, cmd.task_id)
    require_officer_of(ctx, grid)
    rider_id = task.verify(ctx)
    schedule = uow.get(RateSchedule, RateSchedule.id_for(task.district)).in_effect(ctx.now)
    rate = schedule.rates.get(task.rate_code)
    if rate is None:
        raise errors.UnknownRateCode(f"rate schedule v{schedule.version} of {task.district} has no rate "
                                     f"{task.rate_code!r}", rate_code=task.rate_code, version=schedule.version)
    period, day = local_month(ctx.now), local_day(ctx.now)
    budget = uow.get(Budget, Budget.id_for(task.district, period))
    account = uow.get(SubsidyAccount, SubsidyAccount.id_for(rider_id, period))
    split = account.award_piece(ctx, rider_id=rider_id, district=task.district, period=period, day=day,
                                piece_id=task.id, rate_code=task.rate_code, rate_version=schedule.version,
                                rate_fen=rate.fen, cap_day=schedule.cap_day_fen, cap_month=schedule.cap_month_fen,
                                budget_room=budget.remaining)
    if split.awarded:
        budget.commit(ctx, task.district, period, piece_id=task.id, rider_id=rider_id, amount=split.awarded)
    uow.get(PointsAccount, PointsAccount.id_for(rider_id)).earn(ctx, rider_id, task.id, rate.points,
                                                                task.district)
    if task.source_clue_id is not None:
        uow.get(Clue, task.source_clue_id, errors.ClueNotFound).close(ctx, "task verified")
    return {"rider_id": str(rider_id), "period": period, "awarded_fen": split.awarded,
            "withheld_fen": split.withheld, "limit": split.limit.value if split.limit else None,
            "points": rate.points, "rate_version": schedule.version}


@handles(c.RejectCompletion)
def reject_completion(uow: UnitOfWork, ctx: Context, cmd: c.RejectCompletion) -> Result:
    task, grid = _task_and_grid(uow, cmd.task_id)
    require_officer_of(ctx, grid)
    task.reject_completion(ctx, cmd.reason)
    return {}


@handles(c.CancelTask)
def cancel_task(uow: UnitOfWork, ctx: Context, cmd: c.CancelTask) -> Result:
    task, grid = _task_and_grid(uow, cmd.task_id)
    require_officer_of(ctx, grid)
    task.cancel(ctx, cmd.reason)
    if task.source_clue_id is not None:
        uow.get(Clue, task.source_clue_id, errors.ClueNotFound).close(ctx, f"task cancelled: {cmd.reason}")
    return {}


@handles(c.ExpireClaim)
def expire_claim(uow: UnitOfWork, ctx: Context, cmd: c.ExpireClaim) -> Result:
    task, grid = _task_and_grid(uow, cmd.task_id)
    require_officer_of(ctx, grid)
    return {"released": task.expire_claim(ctx)}


# --- rates, budgets, subsidies, points ------------------------------------------

@handles(c.IssueRateSchedule)
def issue_rate_schedule(uow: UnitOfWork, ctx: Context, cmd: c.IssueRateSchedule) -> Result:
    require_admin_of(ctx, cmd.district, "the rate schedule")
    schedule = uow.get(RateSchedule, RateSchedule.id_for(cmd.district))
    version = schedule.issue(ctx, cmd.district, cmd.effective_from, cmd.rates, cmd.cap_day_fen, cmd.cap_month_fen)
    return {"version": version}


@handles(c.AllocateBudget)
def allocate_budget(uow: UnitOfWork, ctx: Context, cmd: c.AllocateBudget) -> Result:
    require_admin_of(ctx, cmd.district, "the budget")
    budget = uow.get(Budget, Budget.id_for(cmd.district, cmd.period))
    budget.allocate(ctx, cmd.district, cmd.period, cmd.fen)
    return {"allocated_fen": budget.allocated, "remaining_fen": budget.remaining}


def _account(uow: UnitOfWork, rider_id: UUID, period: str) -> SubsidyAccount:
    account = uow.get(SubsidyAccount, SubsidyAccount.id_for(rider_id, period))
    if not account.exists:
        raise errors.AwardNotFound(f"rider {rider_id} has no subsidy account for {period}",
                                   rider_id=str(rider_id), period=period)
    return account


@handles(c.ReverseAward)
def reverse_award(uow: UnitOfWork, ctx: Context, cmd: c.ReverseAward) -> Result:
    """Scope is the piece's district: the month may hold pieces of several."""
    require_role(ctx, Role.DISTRICT_ADMIN)
    account = _account(uow, cmd.rider_id, cmd.period)
    ctx.scope.require_district(account.award_for(cmd.piece_id).district, f"piece {cmd.piece_id}")
    award = account.reverse(ctx, cmd.piece_id, cmd.reason)
    if award.fen:
        uow.get(Budget, Budget.id_for(award.district, cmd.period)).release(ctx, award.district, cmd.period,
                                                                          cmd.piece_id, award.fen)
    return {"reversed_fen": award.fen}


@handles(c.SettlePayout)
def settle_payout(uow: UnitOfWork, ctx: Context, cmd: c.SettlePayout) -> Result:
    """Settles one district's payable of the month, out of that district's money."""
    require_admin_of(ctx, cmd.district, "the payout")
    account = _account(uow, cmd.rider_id, cmd.period)
    account.settle(ctx, cmd.batch_id, cmd.district, cmd.fen)
    return {"district": cmd.district, "payable_fen": account.payable_in(cmd.district)}


@handles(c.ExpirePoints)
def expire_points(uow: UnitOfWork, ctx: Context, cmd: c.ExpirePoints) -> Result:
    require_admin_of_rider(ctx, uow.get(Rider, cmd.rider_id, errors.RiderNotFound))
    points = uow.get(PointsAccount, PointsAccount.id_for(cmd.rider_id))
    points.expire(ctx, cmd.rider_id, cmd.points, cmd.reason)
    return {"balance": points.balance}


@handles(c.SetPointsPolicy)
def set_points_policy(uow: UnitOfWork, ctx: Context, cmd: c.SetPointsPolicy) -> Result:
    require_admin_of(ctx, cmd.district, "the points policy")
    return {"version": uow.get(PointsPolicy, PointsPolicy.id_for(cmd.district)).set(ctx, cmd.district,
                                                                                     cmd.expire_after_months)}


@handles(c.ExpireOldPoints)
def expire_old_points(uow: UnitOfWork, ctx: Context, cmd: c.ExpireOldPoints) -> Result:
    """Run for a month that has ended, so a rider's points expire only once it is over;
    run again, it finds nothing left to expire."""
    require_admin_of(ctx, cmd.district, "the points policy")
    if cmd.month >= local_month(ctx.now):
        raise errors.InvalidInput(f"{cmd.month} has not ended yet (it is {local_month(ctx.now)} in China)",
                                  month=cmd.month)
    policy = uow.get(PointsPolicy, PointsPolicy.id_for(cmd.district))
    if not policy.months:
        return {"expired": 0, "policy_months": 0}
    earned_by = month_before(cmd.month, policy.months)
    points = uow.get(PointsAccount, PointsAccount.id_for(cmd.rider_id))
    expired = points.expire_by_policy(ctx, cmd.rider_id, cmd.district, earned_by, policy.months)
    return {"expired": expired, "earned_by": earned_by, "policy_months": policy.months}


# --- stations, partners, the rewards catalogue, redemptions --------------------

@handles(c.RegisterStation)
def register_station(uow: UnitOfWork, ctx: Context, cmd: c.RegisterStation) -> Result:
    require_admin_of(ctx, cmd.district, "the new station")
    station = uow.new(Station)
    station.register(ctx, cmd.district, Description(**cmd.description.model_dump()))
    return {"station_id": str(station.id)}


@handles(c.UpdateStation)
def update_station(uow: UnitOfWork, ctx: Context, cmd: c.UpdateStation) -> Result:
    _station(uow, ctx, cmd.station_id).update(ctx, Description(**cmd.description.model_dump()))
    return {}


@handles(c.CloseStation)
def close_station(uow: UnitOfWork, ctx: Context, cmd: c.CloseStation) -> Result:
    _station(uow, ctx, cmd.station_id).close(ctx, cmd.reason)
    return {}


def _station(uow: UnitOfWork, ctx: Context, station_id: UUID) -> Station:
    """A station, for an admin of its district."""
    station = uow.get(Station, station_id, errors.StationNotFound)
    require_admin_of(ctx, station.district, f"station {station.id}")
    return station


def _item(uow: UnitOfWork, ctx: Context, item_id: UUID) -> CatalogueItem:
    """A catalogue item, for an admin of its district."""
    item = uow.get(CatalogueItem, item_id, errors.ItemNotFound)
    require_admin_of(ctx, item.district, f"item {item.id}")
    return item


@handles(c.RegisterPartner)
def register_partner(uow: UnitOfWork, ctx: Context, cmd: c.RegisterPartner) -> Result:
    require_admin_of(ctx, cmd.district, "the new partner")
    if cmd.station_id is not None:
        station = uow.get(Station, cmd.station_id, errors.StationNotFound)
        if station.district != cmd.district:
            raise errors.InvalidInput(f"station {station.id} is in {station.district}, not {cmd.district}",
                                      station_id=str(station.id))
    partner = uow.new(Partner)
    partner.register(ctx, cmd.district, cmd.name, cmd.kind, cmd.station_id)
    return {"partner_id": str(partner.id)}


@handles(c.ListItem)
def list_item(uow: UnitOfWork, ctx: Context, cmd: c.ListItem) -> Result:
    require_admin_of(ctx, cmd.district, "the catalogue")
    partner = uow.get(Partner, cmd.partner_id, errors.PartnerNotFound)
    if partner.district != cmd.district:
        raise errors.InvalidInput(f"partner {partner.name} is {partner.district}'s, not {cmd.district}'s",
                                  partner_id=str(partner.id))
    item = uow.new(CatalogueItem)
    item.list(ctx, cmd.district, partner.id, _terms(cmd), cmd.stock)
    return {"item_id": str(item.id), "version": 1}


@handles(c.ReviseItem)
def revise_item(uow: UnitOfWork, ctx: Context, cmd: c.ReviseItem) -> Result:
    item = _item(uow, ctx, cmd.item_id)
    return {"version": item.revise(ctx, _terms(cmd), cmd.stock_added), "available": item.available}


def _terms(cmd: c.ListItem | c.ReviseItem) -> Terms:
    return Terms(name=cmd.name, price_points=cmd.price_points, valid_from=cmd.valid_from, valid_to=cmd.valid_to,
                 hold_minutes=cmd.hold_minutes)


@handles(c.WithdrawItem)
def withdraw_item(uow: UnitOfWork, ctx: Context, cmd: c.WithdrawItem) -> Result:
    _item(uow, ctx, cmd.item_id).withdraw(ctx, cmd.reason)
    return {}


def _current_code(uow: UnitOfWork, answer: Result) -> Result:
    """The redemption's code as it is now (a renewal since made the first one dead)."""
    redemption = uow.get(Redemption, UUID(answer["redemption_id"]), errors.RedemptionNotFound)
    key = uow.existing_key(uow.app.code_keys, redemption.code_key_owner)
    return {"code": code_of(key)} if key is not None else {}


@handles(c.RedeemItem, secrets=(("code",), _current_code))
def redeem_item(uow: UnitOfWork, ctx: Context, cmd: c.RedeemItem) -> Result:
    """Price, partner and hold come from the catalogue. The points account and the
    item are both written: the last of an item, or of a rider's points, goes once."""
    require_self_or(ctx, cmd.rider_id)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    rider.require_active()
    item = uow.get(CatalogueItem, cmd.item_id, errors.ItemNotFound)
    if item.district not in rider.districts:
        raise errors.NotAMember(f"rider {rider.id} has never been in a grid of {item.district}",
                                district=item.district)
    redemption = uow.new(Redemption)
    item.reserve(ctx, redemption.id)
    terms = item.terms
    points = uow.get(PointsAccount, PointsAccount.id_for(rider.id))
    points.hold(ctx, rider.id, redemption.id, terms.price_points, item.district)
    key = uow.new_key(uow.app.code_keys, redemption.code_key_owner)
    held = redemption.hold(ctx, key, rider_id=rider.id, district=item.district, item_id=item.id,
                           item_version=len(item.versions), item_name=terms.name, partner_id=item.partner_id,
                           points=terms.price_points, expires_at=ctx.now + terms.hold)
    return {"redemption_id": str(redemption.id), "code": code_of(key), "points": held.points,
            "partner_id": str(held.partner_id), "expires_at": held.expires_at.isoformat(),
            "available": points.available}


def _redemption(uow: UnitOfWork, ctx: Context, redemption_id: UUID, *others: Role) -> Redemption:
    """The partner it was handed to (or the listed roles: the district's admins, the engine)."""
    redemption = uow.get(Redemption, redemption_id, errors.RedemptionNotFound)
    assert redemption.held is not None
    if ctx.actor.role is Role.PARTNER:
        if ctx.actor.id != str(redemption.partner_id):
            raise errors.NotThePartner(f"redemption {redemption.id} was handed to another partner",
                                       redemption_id=str(redemption.id))
    else:
        require_role(ctx, *others)
    ctx.scope.require_district(redemption.held.district, f"redemption {redemption.id}")
    return redemption


def _give_back(uow: UnitOfWork, ctx: Context, redemption: Redemption) -> Result:
    assert redemption.held is not None
    held = redemption.held
    points = uow.get(PointsAccount, PointsAccount.id_for(held.rider_id))
    points.release(ctx, held.rider_id, redemption.id)
    uow.get(CatalogueItem, held.item_id, errors.ItemNotFound).give_back(ctx, redemption.id)
    return {"points_returned": held.points}


@handles(c.ConfirmRedemption)
def confirm_redemption(uow: UnitOfWork, ctx: Context, cmd: c.ConfirmRedemption) -> Result:
    if cmd.redemption_id is None:
        partner = _partner_at_the_counter(uow, ctx)
        partner.require_unlocked(ctx)
        redemption = _held_with_code(uow, ctx, partner, cmd.code)
    else:
        redemption = _redemption(uow, ctx, cmd.redemption_id)
        partner = uow.get(Partner, redemption.partner_id, errors.PartnerNotFound)
        partner.require_unlocked(ctx)
    assert redemption.held is not None
    tries = redemption.wrong_tries
    try:
        redemption.confirm(ctx, cmd.code, uow.existing_key(uow.app.code_keys, redemption.code_key_owner))
    except errors.WrongRedemptionCode:
        if redemption.wrong_tries > tries:  # a guess (not a lost key): the partner's too
            partner.code_missed(ctx, redemption.id)  # kept with the refusal: errors.DomainError.keeps_events
        raise
    rider_id = redemption.held.rider_id
    uow.get(PointsAccount, PointsAccount.id_for(rider_id)).spend(ctx, rider_id, redemption.id)
    return {"redemption_id": str(redemption.id), "item": redemption.held.item_name,
            "points_spent": redemption.held.points}


def _partner_at_the_counter(uow: UnitOfWork, ctx: Context) -> Partner:
    """The partner whose token gives a code alone: only a partner's held redemptions are looked in."""
    require_role(ctx, Role.PARTNER)
    try:
        partner_id = UUID(ctx.actor.id)
    except ValueError:
        raise errors.PartnerNotFound(f"no partner {ctx.actor.id!r}", partner_id=ctx.actor.id) from None
    partner = uow.get(Partner, partner_id, errors.PartnerNotFound)
    ctx.scope.require_district(partner.district, f"partner {partner.name}")
    return partner


def _held_with_code(uow: UnitOfWork, ctx: Context, partner: Partner, code: str) -> Redemption:
    """The one held redemption of the partner's whose code in force is `code`. A code
    that is none of theirs is a wrong code of the partner's day (no redemption was
    named, so none is charged with it); confirming the one found checks its own lock
    and hold as when it is named."""
    fits = []
    for held in uow.app.held_redemptions.of(partner.id, uow.pending(), uow.head()):
        key = uow.existing_key(uow.app.code_keys, Redemption.key_owner(held.redemption_id, held.generation))
        if key is not None and code_fits(key, held.redemption_id, code, held.code_digest):
            fits.append(held.redemption_id)
    if len(fits) > 1:
        raise errors.RedemptionCodeAmbiguous(f"{len(fits)} of partner {partner.name}'s held redemptions have that "
                                             "code: name the redemption", redemptions=[str(r) for r in fits])
    if not fits:
        left = partner.code_missed(ctx, None)  # kept with the refusal: errors.DomainError.keeps_events
        raise errors.UnknownRedemptionCode(
            f"that code is none of partner {partner.name}'s held redemptions'" + (
                f": {left} wrong codes left today" if left else ": it confirms nothing more today"),
            tries_left=left)
    return uow.get(Redemption, fits[0], errors.RedemptionNotFound)


@handles(c.RenewRedemptionCode, secrets=(("code",), _current_code))
def renew_redemption_code(uow: UnitOfWork, ctx: Context, cmd: c.RenewRedemptionCode) -> Result:
    """The old code dies (and a lock after wrong codes lifts); the hold keeps its time."""
    redemption = uow.get(Redemption, cmd.redemption_id, errors.RedemptionNotFound)
    assert redemption.held is not None
    require_self_or(ctx, redemption.held.rider_id)
    ctx.scope.require_district(redemption.held.district, f"redemption {redemption.id}")
    key = uow.new_key(uow.app.code_keys, Redemption.key_owner(redemption.id, redemption.generation + 1))
    redemption.renew_code(ctx, key)
    return {"redemption_id": str(redemption.id), "code": code_of(key),
            "expires_at": redemption.held.expires_at.isoformat()}


@handles(c.RefuseRedemption)
def refuse_redemption(uow: UnitOfWork, ctx: Context, cmd: c.RefuseRedemption) -> Result:
    redemption = _redemption(uow, ctx, cmd.redemption_id)
    redemption.refuse(ctx, cmd.reason)
    return _give_back(uow, ctx, redemption)


@handles(c.ExpireRedemption)
def expire_redemption(uow: UnitOfWork, ctx: Context, cmd: c.ExpireRedemption) -> Result:
    redemption = _redemption(uow, ctx, cmd.redemption_id, Role.DISTRICT_ADMIN)
    redemption.expire(ctx)
    return _give_back(uow, ctx, redemption)


# --- appeals ------------------------------------------------------------------

@handles(c.FileAppeal)
def file_appeal(uow: UnitOfWork, ctx: Context, cmd: c.FileAppeal) -> Result:
    """An appeal about an award is filed in the award's district: that district
    decides it, and its budget pays any reinstatement."""
    require_self_or(ctx, cmd.rider_id)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    if cmd.district not in rider.districts:
        raise errors.NotAMember(f"rider {rider.id} has never been in a grid of {cmd.district}",
                                district=cmd.district)
    if cmd.subject.kind is SubjectKind.AWARD:
        award = _appealed_award(uow, rider.id, cmd.subject)
        if award.district != cmd.district:
            raise errors.InvalidInput(f"the award for piece {award.piece_id} is {award.district}'s: file the "
                                      f"appeal in {award.district}", district=award.district)
    appeal = uow.new(Appeal)
    appeal.file(ctx, rider.id, cmd.district, cmd.subject, cmd.text)
    return {"appeal_id": str(appeal.id)}


def _appealed_award(uow: UnitOfWork, rider_id: UUID, subject: Subject) -> Award:
    try:
        piece_id = UUID(subject.ref)
    except ValueError:
        raise errors.InvalidInput(f"an appeal about an award names its piece's id, not {subject.ref!r}",
                                  ref=subject.ref) from None
    if subject.period is None:
        raise errors.InvalidInput("an appeal about an award names its period (YYYY-MM)")
    return _account(uow, rider_id, subject.period).award_for(piece_id)


def _appeal(uow: UnitOfWork, ctx: Context, appeal_id: UUID) -> Appeal:
    appeal = uow.get(Appeal, appeal_id, errors.AppealNotFound)
    ctx.scope.require_district(appeal.district, f"appeal {appeal.id}")
    return appeal


@handles(c.AssignAppeal)
def assign_appeal(uow: UnitOfWork, ctx: Context, cmd: c.AssignAppeal) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    _appeal(uow, ctx, cmd.appeal_id).assign(ctx, cmd.assignee_id)
    return {}


@handles(c.NoteAppeal)
def note_appeal(uow: UnitOfWork, ctx: Context, cmd: c.NoteAppeal) -> Result:
    appeal = _appeal(uow, ctx, cmd.appeal_id)
    if ctx.actor.id != appeal.assignee:
        require_role(ctx, Role.DISTRICT_ADMIN)
    appeal.note(ctx, cmd.text)
    return {}


@handles(c.DecideAppeal)
def decide_appeal(uow: UnitOfWork, ctx: Context, cmd: c.DecideAppeal) -> Result:
    """An upheld appeal's remedy is new events in the same transaction as the
    decision: an award in the current month, never an edit of the old one.

    A reinstatement is the award's district's money (its budget pays, its slice
    of the month holds it) and is marked on the award's own account, which is
    what lets it happen once; compensation is the appeal's district's."""
    require_role(ctx, Role.DISTRICT_ADMIN)
    appeal = _appeal(uow, ctx, cmd.appeal_id)
    appeal.decide(ctx, cmd.outcome, cmd.remedy, cmd.reason)
    if cmd.outcome is not Verdict.UPHELD or cmd.remedy.kind is RemedyKind.NONE:
        return {"remedy_fen": 0}
    assert appeal.rider_id is not None and appeal.subject is not None
    period, day = local_month(ctx.now), local_day(ctx.now)
    amount, district = cmd.remedy.fen, appeal.district
    if cmd.remedy.kind is RemedyKind.REINSTATE_AWARD:
        award = _appealed_award(uow, appeal.rider_id, appeal.subject)
        ctx.scope.require_district(award.district, f"piece {award.piece_id}")
        assert appeal.subject.period is not None
        _account(uow, appeal.rider_id, appeal.subject.period).reinstate(ctx, award.piece_id, appeal.id, period)
        amount, district = award.fen, award.district
    uow.get(SubsidyAccount, SubsidyAccount.id_for(appeal.rider_id, period)).award_remedy(
        ctx, rider_id=appeal.rider_id, district=district, period=period, day=day, appeal_id=appeal.id,
        amount=amount)
    uow.get(Budget, Budget.id_for(district, period)).commit(
        ctx, district, period, piece_id=appeal.id, rider_id=appeal.rider_id, amount=amount, remedy=True)
    return {"remedy_fen": amount, "period": period, "district": district}


# --- Open311 keys -------------------------------------------------------------

@handles(c.IssueOpen311Key, internal=True)
def issue_open311_key(uow: UnitOfWork, ctx: Context, cmd: c.IssueOpen311Key) -> Result:
    require_admin_of(ctx, cmd.district, "the new Open311 key")
    if cmd.rider_id is not None:
        rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
        rider.require_active()
        if cmd.district not in rider.grids.values():  # a grid now: the key reports as the rider, in its grids
            raise errors.RiderNotInDistrict(f"rider {rider.id} has no grid in {cmd.district}",
                                            rider_id=str(rider.id), district=cmd.district)
    key = uow.get(Open311Key, Open311Key.id_for(cmd.key_sha256))
    key.issue(ctx, cmd.district, cmd.rider_id, cmd.label)
    return {"key_id": str(key.id)}


@handles(c.RevokeOpen311Key)
def revoke_open311_key(uow: UnitOfWork, ctx: Context, cmd: c.RevokeOpen311Key) -> Result:
    key = uow.get(Open311Key, cmd.key_id, errors.Open311KeyNotFound)
    require_admin_of(ctx, key.district, f"Open311 key {key.label}")
    key.revoke(ctx, cmd.reason)
    return {}
