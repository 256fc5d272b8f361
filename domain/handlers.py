"""One function per command: load what it touches, apply the rules, say what it made.

Handlers only decide; `GridGovernance.execute` saves, retries on a lost race and
keeps idempotency keys. Who may give a command is checked here as far as the
domain knows it (a rider acts as itself, an officer in its own grids); district
scopes of tokens are the API's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar
from uuid import UUID

from domain import commands as c
from domain import errors
from domain.aggregate import Context
from domain.appeals import Appeal, Outcome, RemedyKind
from domain.clock import local_day, local_month
from domain.clues import Clue
from domain.events import Role
from domain.grids import Grid
from domain.personal import seal
from domain.points import PointsAccount
from domain.rates import Budget, RateSchedule
from domain.riders import Rider
from domain.subsidies import SubsidyAccount
from domain.tasks import GridTask, ReleaseReason

if TYPE_CHECKING:
    from domain.unit_of_work import UnitOfWork

Result = dict[str, Any]
Handler = Callable[["UnitOfWork", Context, Any], Result]
HANDLERS: dict[type[c.Command], Handler] = {}
C = TypeVar("C", bound=c.Command)


def handles(command: type[C]) -> Callable[[Callable[[UnitOfWork, Context, C], Result]], Handler]:
    def register(fn: Callable[[UnitOfWork, Context, C], Result]) -> Handler:
        HANDLERS[command] = fn
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


def require_officer_of(ctx: Context, grid: Grid) -> None:
    require_role(ctx, Role.GRID_OFFICER, Role.DISTRICT_ADMIN)
    if ctx.actor.role is Role.GRID_OFFICER and not grid.is_officer(ctx.actor.id):
        raise errors.NotAnOfficerOfGrid(f"{ctx.actor.id} is not an officer of grid {grid.name}",
                                        grid_id=str(grid.id))


def require_rate_code(uow: UnitOfWork, district: str, rate_code: str) -> None:
    if not uow.get(RateSchedule, RateSchedule.id_for(district)).knows(rate_code):
        raise errors.UnknownRateCode(f"district {district} has no rate {rate_code!r}", rate_code=rate_code)


# --- grids --------------------------------------------------------------------

@handles(c.RegisterGrid)
def register_grid(uow: UnitOfWork, ctx: Context, cmd: c.RegisterGrid) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    grid = uow.new(Grid)
    grid.register(ctx, cmd.district, cmd.street, cmd.community, cmd.name)
    return {"grid_id": str(grid.id)}


@handles(c.AssignOfficer)
def assign_officer(uow: UnitOfWork, ctx: Context, cmd: c.AssignOfficer) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    uow.get(Grid, cmd.grid_id, errors.GridNotFound).assign_officer(ctx, cmd.officer_id)
    return {}


@handles(c.RemoveOfficer)
def remove_officer(uow: UnitOfWork, ctx: Context, cmd: c.RemoveOfficer) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    uow.get(Grid, cmd.grid_id, errors.GridNotFound).remove_officer(ctx, cmd.officer_id)
    return {}


@handles(c.RetireGrid)
def retire_grid(uow: UnitOfWork, ctx: Context, cmd: c.RetireGrid) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    uow.get(Grid, cmd.grid_id, errors.GridNotFound).retire(ctx, cmd.reason)
    return {}


# --- riders -------------------------------------------------------------------

@handles(c.RegisterRider)
def register_rider(uow: UnitOfWork, ctx: Context, cmd: c.RegisterRider) -> Result:
    if ctx.actor.role is Role.RIDER:
        rider_id = cmd.rider_id or UUID(ctx.actor.id)
        require_self_or(ctx, rider_id)
    else:
        require_role(ctx, Role.DISTRICT_ADMIN)
        rider_id = cmd.rider_id or uow.app.ids()
    rider = uow.get(Rider, rider_id)
    if rider.exists:
        raise errors.AlreadyRegistered(f"rider {rider_id} is already registered", rider_id=str(rider_id))
    key = uow.app.keys.get_or_create(rider_id)
    rider.register(ctx, cmd.platform, cmd.station, seal(key, {"name": cmd.name, "phone": cmd.phone}))
    return {"rider_id": str(rider_id)}


@handles(c.JoinGrid)
def join_grid(uow: UnitOfWork, ctx: Context, cmd: c.JoinGrid) -> Result:
    require_self_or(ctx, cmd.rider_id, Role.DISTRICT_ADMIN)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    rider.join(ctx, uow.get(Grid, cmd.grid_id, errors.GridNotFound))
    return {}


@handles(c.LeaveGrid)
def leave_grid(uow: UnitOfWork, ctx: Context, cmd: c.LeaveGrid) -> Result:
    require_self_or(ctx, cmd.rider_id, Role.DISTRICT_ADMIN)
    uow.get(Rider, cmd.rider_id, errors.RiderNotFound).leave(ctx, cmd.grid_id)
    return {}


@handles(c.CertifySupervisor)
def certify_supervisor(uow: UnitOfWork, ctx: Context, cmd: c.CertifySupervisor) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    uow.get(Rider, cmd.rider_id, errors.RiderNotFound).certify_supervisor(ctx, cmd.certificate)
    return {}


@handles(c.SuspendRider)
def suspend_rider(uow: UnitOfWork, ctx: Context, cmd: c.SuspendRider) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    uow.get(Rider, cmd.rider_id, errors.RiderNotFound).suspend(ctx, cmd.reason)
    return {}


@handles(c.ReinstateRider)
def reinstate_rider(uow: UnitOfWork, ctx: Context, cmd: c.ReinstateRider) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    uow.get(Rider, cmd.rider_id, errors.RiderNotFound).reinstate(ctx, cmd.reason)
    return {}


@handles(c.ErasePersonalData)
def erase_personal_data(uow: UnitOfWork, ctx: Context, cmd: c.ErasePersonalData) -> Result:
    require_self_or(ctx, cmd.rider_id, Role.DISTRICT_ADMIN)
    uow.get(Rider, cmd.rider_id, errors.RiderNotFound).erase_personal_data(ctx, cmd.reason)
    # Shred before the event lands: if the save then fails, the data is gone
    # anyway, which is the safe way round for an erasure.
    uow.app.keys.delete(cmd.rider_id)
    return {}


# --- clues --------------------------------------------------------------------

@handles(c.ReportClue)
def report_clue(uow: UnitOfWork, ctx: Context, cmd: c.ReportClue) -> Result:
    require_self_or(ctx, cmd.rider_id)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    grid = uow.get(Grid, cmd.grid_id, errors.GridNotFound)
    grid.require_active()
    rider.require_member(grid.id)
    rider.require_active()
    candidates = uow.app.open_clues.candidates(cmd.category, cmd.location, ctx.now)
    clue = uow.new(Clue)
    clue.report(ctx, grid_id=grid.id, district=grid.district, reporter_id=rider.id, category=cmd.category,
                text=cmd.text, location=cmd.location, evidence_hashes=cmd.evidence_hashes,
                duplicate_candidates=candidates)
    return {"clue_id": str(clue.id), "duplicate_candidates": [str(x) for x in candidates]}


@handles(c.AcceptClue)
def accept_clue(uow: UnitOfWork, ctx: Context, cmd: c.AcceptClue) -> Result:
    clue = uow.get(Clue, cmd.clue_id, errors.ClueNotFound)
    assert clue.grid_id is not None
    grid = uow.get(Grid, clue.grid_id, errors.GridNotFound)
    require_officer_of(ctx, grid)
    grid.require_active()
    require_rate_code(uow, grid.district, cmd.rate_code)
    task = uow.new(GridTask)
    clue.accept(ctx, task.id)
    task.publish(ctx, grid_id=grid.id, district=grid.district, kind=cmd.kind, rate_code=cmd.rate_code,
                 claim_ttl_s=cmd.claim_ttl_s, due=cmd.due, source_clue_id=clue.id)
    return {"task_id": str(task.id)}


@handles(c.MarkDuplicate)
def mark_duplicate(uow: UnitOfWork, ctx: Context, cmd: c.MarkDuplicate) -> Result:
    clue = uow.get(Clue, cmd.clue_id, errors.ClueNotFound)
    original = uow.get(Clue, cmd.of_clue_id, errors.ClueNotFound)
    assert clue.grid_id is not None
    require_officer_of(ctx, uow.get(Grid, clue.grid_id, errors.GridNotFound))
    clue.mark_duplicate(ctx, original)
    return {}


@handles(c.RejectClue)
def reject_clue(uow: UnitOfWork, ctx: Context, cmd: c.RejectClue) -> Result:
    clue = uow.get(Clue, cmd.clue_id, errors.ClueNotFound)
    assert clue.grid_id is not None
    require_officer_of(ctx, uow.get(Grid, clue.grid_id, errors.GridNotFound))
    clue.reject(ctx, cmd.reason)
    return {}


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
    uow.get(PointsAccount, PointsAccount.id_for(rider_id)).earn(ctx, rider_id, task.id, rate.points)
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
    require_role(ctx, Role.DISTRICT_ADMIN)
    schedule = uow.get(RateSchedule, RateSchedule.id_for(cmd.district))
    version = schedule.issue(ctx, cmd.district, cmd.effective_from, cmd.rates, cmd.cap_day_fen, cmd.cap_month_fen)
    return {"version": version}


@handles(c.AllocateBudget)
def allocate_budget(uow: UnitOfWork, ctx: Context, cmd: c.AllocateBudget) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
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
    require_role(ctx, Role.DISTRICT_ADMIN)
    award = _account(uow, cmd.rider_id, cmd.period).reverse(ctx, cmd.piece_id, cmd.reason)
    if award.fen:
        uow.get(Budget, Budget.id_for(award.district, cmd.period)).release(ctx, award.district, cmd.period,
                                                                          cmd.piece_id, award.fen)
    return {"reversed_fen": award.fen}


@handles(c.SettlePayout)
def settle_payout(uow: UnitOfWork, ctx: Context, cmd: c.SettlePayout) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    account = _account(uow, cmd.rider_id, cmd.period)
    account.settle(ctx, cmd.batch_id, cmd.fen)
    return {"balance_fen": account.balance}


@handles(c.RedeemPoints)
def redeem_points(uow: UnitOfWork, ctx: Context, cmd: c.RedeemPoints) -> Result:
    require_self_or(ctx, cmd.rider_id, Role.DISTRICT_ADMIN)
    points = uow.get(PointsAccount, PointsAccount.id_for(cmd.rider_id))
    points.redeem(ctx, cmd.rider_id, cmd.item, cmd.partner, cmd.points)
    return {"balance": points.balance}


@handles(c.ExpirePoints)
def expire_points(uow: UnitOfWork, ctx: Context, cmd: c.ExpirePoints) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    points = uow.get(PointsAccount, PointsAccount.id_for(cmd.rider_id))
    points.expire(ctx, cmd.rider_id, cmd.points, cmd.reason)
    return {"balance": points.balance}


# --- appeals ------------------------------------------------------------------

@handles(c.FileAppeal)
def file_appeal(uow: UnitOfWork, ctx: Context, cmd: c.FileAppeal) -> Result:
    require_self_or(ctx, cmd.rider_id)
    rider = uow.get(Rider, cmd.rider_id, errors.RiderNotFound)
    if cmd.district not in rider.districts:
        raise errors.NotAMember(f"rider {rider.id} has never been in a grid of {cmd.district}",
                                district=cmd.district)
    appeal = uow.new(Appeal)
    appeal.file(ctx, rider.id, cmd.district, cmd.subject, cmd.text)
    return {"appeal_id": str(appeal.id)}


@handles(c.AssignAppeal)
def assign_appeal(uow: UnitOfWork, ctx: Context, cmd: c.AssignAppeal) -> Result:
    require_role(ctx, Role.DISTRICT_ADMIN)
    uow.get(Appeal, cmd.appeal_id, errors.AppealNotFound).assign(ctx, cmd.assignee_id)
    return {}


@handles(c.NoteAppeal)
def note_appeal(uow: UnitOfWork, ctx: Context, cmd: c.NoteAppeal) -> Result:
    appeal = uow.get(Appeal, cmd.appeal_id, errors.AppealNotFound)
    if ctx.actor.id != appeal.assignee:
        require_role(ctx, Role.DISTRICT_ADMIN)
    appeal.note(ctx, cmd.text)
    return {}


@handles(c.DecideAppeal)
def decide_appeal(uow: UnitOfWork, ctx: Context, cmd: c.DecideAppeal) -> Result:
    """An upheld appeal's remedy is new events in the same transaction as the
    decision: an award in the current month, never an edit of the old one."""
    require_role(ctx, Role.DISTRICT_ADMIN)
    appeal = uow.get(Appeal, cmd.appeal_id, errors.AppealNotFound)
    appeal.decide(ctx, cmd.outcome, cmd.remedy, cmd.reason)
    if cmd.outcome is not Outcome.UPHELD or cmd.remedy.kind is RemedyKind.NONE:
        return {"remedy_fen": 0}
    assert appeal.rider_id is not None and appeal.subject is not None
    amount = cmd.remedy.fen
    if cmd.remedy.kind is RemedyKind.REINSTATE_AWARD:
        assert appeal.subject.period is not None
        award = _account(uow, appeal.rider_id, appeal.subject.period).award_for(UUID(appeal.subject.ref))
        if not award.reversed:
            raise errors.InvalidInput("that award was never reversed; there is nothing to reinstate")
        amount = award.fen
    period, day = local_month(ctx.now), local_day(ctx.now)
    uow.get(SubsidyAccount, SubsidyAccount.id_for(appeal.rider_id, period)).award_remedy(
        ctx, rider_id=appeal.rider_id, district=appeal.district, period=period, day=day, appeal_id=appeal.id,
        amount=amount)
    uow.get(Budget, Budget.id_for(appeal.district, period)).commit(
        ctx, appeal.district, period, piece_id=appeal.id, rider_id=appeal.rider_id, amount=amount, remedy=True)
    return {"remedy_fen": amount, "period": period}
