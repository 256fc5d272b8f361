"""A small builder for test stories: a district with a grid, its officer, riders,
a rate schedule and a budget, and one-line helpers for the task lifecycle."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain import commands as c
from domain.clock import ManualClock, local_month
from domain.clues import Category, Location
from domain.events import Actor, Event, Role
from domain.rates import Rate
from domain.service import GridGovernance, Outcome

WENJIANG_CENTRE = Location(lat=30.6826, lon=103.8560)


def rider_actor(rider_id: UUID) -> Actor:
    return Actor(id=str(rider_id), role=Role.RIDER)


class World:
    def __init__(self, app: GridGovernance, clock: ManualClock, district: str = "温江") -> None:
        self.app = app
        self.clock = clock
        self.district = district
        self.admin = Actor(id=f"admin-{district}", role=Role.DISTRICT_ADMIN)
        self.officer = Actor(id=f"officer-{district}-1", role=Role.GRID_OFFICER)
        self.engine = Actor(id="engine", role=Role.SYSTEM)
        self._riders = 0

    def do(self, command: c.Command, actor: Actor, **kwargs: Any) -> Outcome:
        return self.app.execute(command, actor, **kwargs)

    @property
    def period(self) -> str:
        return local_month(self.clock.now())

    # --- setting the scene ---------------------------------------------------------
    def grid(self, name: str = "柳城-1", officer: Actor | None = None) -> UUID:
        grid_id = UUID(self.do(c.RegisterGrid(district=self.district, street="柳城街道", community="光华社区",
                                              name=name), self.admin).result["grid_id"])
        self.do(c.AssignOfficer(grid_id=grid_id, officer_id=(officer or self.officer).id), self.admin)
        return grid_id

    def rider(self, grid_id: UUID | None = None) -> UUID:
        self._riders += 1
        rider_id = UUID(self.do(c.RegisterRider(platform="meituan", station="温江站", name=f"骑手{self._riders}",
                                                phone=f"1380000{self._riders:04d}"), self.admin).result["rider_id"])
        if grid_id is not None:
            self.do(c.JoinGrid(rider_id=rider_id, grid_id=grid_id), rider_actor(rider_id))
        return rider_id

    def schedule(self, rates: dict[str, Rate] | None = None, cap_day: int = 2_000, cap_month: int = 30_000,
                 effective_from: Any = None) -> int:
        rates = rates or {"patrol": Rate(fen=500, points=5), "fire": Rate(fen=1_200, points=12)}
        return self.do(c.IssueRateSchedule(district=self.district, effective_from=effective_from or self.clock.now(),
                                           rates=rates, cap_day_fen=cap_day, cap_month_fen=cap_month),
                       self.admin).result["version"]

    def budget(self, fen: int = 1_000_000, period: str | None = None) -> None:
        self.do(c.AllocateBudget(district=self.district, period=period or self.period, fen=fen), self.admin)

    def scene(self) -> tuple[UUID, UUID]:
        """A grid with an officer, a rider in it, a schedule and a budget."""
        grid_id = self.grid()
        self.schedule()
        self.budget()
        return grid_id, self.rider(grid_id)

    # --- the task lifecycle --------------------------------------------------------
    def task(self, grid_id: UUID, rate_code: str = "patrol", ttl: int = 3600) -> UUID:
        return UUID(self.do(c.PublishTask(grid_id=grid_id, kind="patrol", rate_code=rate_code, claim_ttl_s=ttl),
                            self.officer).result["task_id"])

    def claim(self, task_id: UUID, rider_id: UUID) -> Outcome:
        return self.do(c.ClaimTask(task_id=task_id, rider_id=rider_id), rider_actor(rider_id))

    def complete(self, task_id: UUID, rider_id: UUID) -> Outcome:
        return self.do(c.CompleteTask(task_id=task_id, rider_id=rider_id, note="done"), rider_actor(rider_id))

    def verify(self, task_id: UUID) -> Outcome:
        return self.do(c.VerifyCompletion(task_id=task_id), self.officer)

    def piece(self, grid_id: UUID, rider_id: UUID, rate_code: str = "patrol") -> tuple[UUID, Outcome]:
        """A task published, claimed, completed and verified: one paid piece."""
        task_id = self.task(grid_id, rate_code)
        self.claim(task_id, rider_id)
        self.complete(task_id, rider_id)
        return task_id, self.verify(task_id)

    def report(self, rider_id: UUID, grid_id: UUID, category: Category = Category.FIRE_HAZARD,
               location: Location = WENJIANG_CENTRE) -> Outcome:
        return self.do(c.ReportClue(rider_id=rider_id, grid_id=grid_id, category=category, text="电动车楼道充电",
                                    location=location), rider_actor(rider_id))

    # --- looking at the store --------------------------------------------------------
    def events(self, originator_id: UUID | None = None) -> list[Event]:
        if originator_id is not None:
            return list(self.app.events.get(originator_id))
        notifications = self.app.recorder.select_notifications(start=1, limit=1_000_000)
        return [self.app.mapper.to_domain_event(n) for n in notifications]

    def count(self, event_type: type[Event]) -> int:
        return sum(isinstance(e, event_type) for e in self.events())


def tour_of_every_event_type(world: World) -> None:
    """One story that makes every event type of the catalogue at least once
    (the sample freezer and the catalogue tests rely on it)."""
    from domain.appeals import Verdict
    from domain.appeals import Remedy, RemedyKind, Subject, SubjectKind

    grid, rider = world.scene()
    other = world.rider(grid)
    world.do(c.CertifySupervisor(rider_id=rider, certificate="食品安全监督员-0001"), world.admin)
    clue = UUID(world.report(rider, grid).result["clue_id"])
    dup = UUID(world.report(other, grid).result["clue_id"])
    world.do(c.MarkDuplicate(clue_id=dup, of_clue_id=clue), world.officer)
    junk = UUID(world.report(other, grid, Category.OTHER).result["clue_id"])
    world.do(c.RejectClue(clue_id=junk, reason="not in this grid's remit"), world.officer)
    task = UUID(world.do(c.AcceptClue(clue_id=clue, kind="fire-check", rate_code="fire", claim_ttl_s=600),
                         world.officer, idempotency_key="tour-accept").result["task_id"])
    world.claim(task, rider)
    world.clock.advance(601)
    world.do(c.ExpireClaim(task_id=task), world.engine)
    world.claim(task, other)
    world.do(c.ReleaseClaim(task_id=task, rider_id=other, reason="reassigned"), world.officer)
    world.claim(task, rider)
    world.complete(task, rider)
    world.do(c.RejectCompletion(task_id=task, reason="photo too dark"), world.officer)
    world.complete(task, rider)
    world.verify(task)  # closes the clue
    for _ in range(2):
        world.piece(grid, rider, "fire")  # the second hits the day cap
    cancelled = world.task(grid)
    world.do(c.CancelTask(task_id=cancelled, reason="resolved by the fire brigade"), world.officer)
    world.do(c.ReverseAward(rider_id=rider, period=world.period, piece_id=task, reason="wrong address"), world.admin)
    world.do(c.SettlePayout(rider_id=rider, period=world.period, district=world.district, batch_id="tour-1", fen=100), world.admin)
    world.do(c.RedeemPoints(rider_id=rider, item="社区食堂工作餐", partner="canteen", points=5), rider_actor(rider))
    world.do(c.ExpirePoints(rider_id=rider, points=1, reason="year end"), world.admin)
    appeal = UUID(world.do(c.FileAppeal(rider_id=rider, district=world.district, text="the address was right",
                                        subject=Subject(kind=SubjectKind.AWARD, ref=str(task), period=world.period)),
                           rider_actor(rider)).result["appeal_id"])
    world.do(c.AssignAppeal(appeal_id=appeal, assignee_id="committee-1"), world.admin)
    world.do(c.NoteAppeal(appeal_id=appeal, text="checked the map"), world.admin)
    world.do(c.DecideAppeal(appeal_id=appeal, outcome=Verdict.UPHELD, reason="address confirmed",
                            remedy=Remedy(kind=RemedyKind.REINSTATE_AWARD)), world.admin)
    world.do(c.LeaveGrid(rider_id=other, grid_id=grid), rider_actor(other))
    world.do(c.SuspendRider(rider_id=other, reason="complaint"), world.admin)
    world.do(c.ReinstateRider(rider_id=other, reason="complaint withdrawn"), world.admin)
    world.do(c.ErasePersonalData(rider_id=other, reason="left the platform"), rider_actor(other))
    spare = world.grid("柳城-9")
    world.do(c.RemoveOfficer(grid_id=spare, officer_id=world.officer.id), world.admin)
    world.do(c.RetireGrid(grid_id=spare, reason="merged into 柳城-1"), world.admin)
