"""Which districts (and grid) a command touches, so a token can be held to its
scope before the command runs. Unknown targets are let through: the command
itself then answers with its own not-found error."""

from __future__ import annotations

from uuid import UUID

from api.http.auth import OutOfScope, Principal
from domain import commands as c
from domain.appeals import Appeal
from domain.clues import Clue
from domain.events import Role
from domain.grids import Grid
from domain.riders import Rider
from domain.service import GridGovernance
from domain.subsidies import SubsidyAccount
from domain.tasks import GridTask
from domain.unit_of_work import UnitOfWork

READ_ONLY = (Role.AUDITOR, Role.SERVICE)


def target(app: GridGovernance, command: c.Command) -> tuple[set[str], str | None]:
    """(districts, grid id) of what the command acts on; empty if unknown."""
    uow = UnitOfWork(app)
    if isinstance(command, (c.RegisterGrid, c.IssueRateSchedule, c.AllocateBudget, c.FileAppeal)):
        return {command.district}, None
    for attribute, cls in (("grid_id", Grid), ("task_id", GridTask), ("clue_id", Clue), ("appeal_id", Appeal)):
        value = getattr(command, attribute, None)
        if isinstance(value, UUID):
            aggregate = uow.get(cls, value)
            if not aggregate.exists:
                return set(), None
            grid = str(getattr(aggregate, "grid_id", None) or (value if cls is Grid else "")) or None
            return {aggregate.district}, grid
    if isinstance(command, (c.ReverseAward, c.SettlePayout)):
        account = uow.get(SubsidyAccount, SubsidyAccount.id_for(command.rider_id, command.period))
        return {award.district for award in account.awards.values()}, None
    rider_id = getattr(command, "rider_id", None)
    if isinstance(rider_id, UUID):
        return set(uow.get(Rider, rider_id).districts), None
    return set(), None


def authorize(app: GridGovernance, principal: Principal, command: c.Command) -> None:
    if principal.role in READ_ONLY:
        raise OutOfScope(f"a {principal.role.value} token is read-only")
    if principal.role is Role.SYSTEM:
        raise OutOfScope("system actions are the engine's own; no token may carry that role")
    if principal.role is Role.RIDER:
        return  # a rider acts only as itself: the domain checks that on every command
    districts, grid = target(app, command)
    if districts and not districts & principal.districts:
        raise OutOfScope(f"this token does not cover {', '.join(sorted(districts))}")
    if principal.role is Role.GRID_OFFICER and grid is not None and grid not in principal.grids:
        raise OutOfScope(f"this token does not cover grid {grid}")
