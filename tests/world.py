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
