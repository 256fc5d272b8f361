"""The demo's story at the size of the city: every rider of Chengdu in the grids,
clues in proportion to the riders out on the road, with the day's shape.

The demo (demo.py) is a few hundred riders and a handful of clues an hour; here
each five-minute tick draws its clues from the number of riders and the hour
(lunch and dinner are when riders are out), patrols come in proportion to the
grids, and at the end of the day every rider who earned is paid out. What the
riders, officers and admins do with each clue is the demo's own: the same
commands, the same mistakes, decided by the same engine.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Callable, Iterable, TypeVar
from uuid import UUID

from domain import commands as c
from domain import errors
from domain.clock import CHINA, ManualClock, local_day, local_month
from domain.events import Actor, Role
from application.service import GridGovernance
from domain.aggregate import Aggregate
from gridgov.demo import DISTRICTS, RATES, TICK_S, TICKS, Demo, GridInfo, as_rider
from gridgov.layout import Box, cell, district_square, middle, reach
from domain.places import rectangle
from domain.subsidies import SubsidyAccount

A = TypeVar("A", bound=Aggregate)

# Clues a rider reports on an ordinary day, on average (Chengdu's riders report
# tens of thousands a year; the simulation asks for more, to load the engine).
CLUES_PER_RIDER_DAY = 0.06
PATROLS_PER_GRID_DAY = 2
# Riders on the road by hour, 07:00 to 22:00: the lunch and dinner peaks.
HOURLY_SHAPE = (2, 3, 3, 4, 9, 10, 7, 4, 3, 4, 7, 9, 8, 5, 3, 2)
BUDGET_FEN = 500_000_000  # a district's month: ¥5,000,000
GRIDS_PER_STREET = 20
READ_AHEAD = 1_000  # the evening's accounts, read so many at a time


class CityDay(Demo):
    def __init__(self, app: GridGovernance, clock: ManualClock, seed: int, riders: int, day: datetime,
                 progress: Callable[[int, int], None] | None = None,
                 setup_progress: Callable[[int, int], None] | None = None, batch_size: int = 200,
                 grids_per_street: int = GRIDS_PER_STREET, speed: float | None = None) -> None:
        super().__init__(app, clock, seed, riders, progress, start=day.replace(hour=7, tzinfo=CHINA))
        self.setup_progress = setup_progress or (lambda done, total: None)
        self.batch, self.batch_size = app.batch(), batch_size
        self.grids_per_street = grids_per_street
        self.speed = speed  # None: as fast as it goes
        self.latest: tuple[float, int] | None = None  # (when, position) of the last command written
        self.on_day_start: Callable[[], None] = lambda: None
        self.setup_s = self.day_s = 0.0
        self.day_events = 0

    # --- group commit: the story's commands in batches (application/batch.py) ---------------
    def decide(self, command: c.Command, actor: Actor) -> dict:
        result = self.batch.execute(command, actor)
        if self.batch.size >= self.batch_size:
            self.commit()
        return result

    def read(self, cls: type[A], id: UUID) -> A:
        return self.batch.get(cls, id)

    def read_ahead(self, cls: type[A], ids: Iterable[UUID]) -> None:
        self.batch.prefetch(cls, ids)

    def commit(self) -> None:
        try:
            positions = self.batch.commit()
        except errors.ConcurrencyConflict as e:
            # Not a refusal to count and go on: the batch's answers are void and the story
            # built on them. The day's store is its own; someone else is writing to it.
            raise RuntimeError(f"another writer changed the simulated city's store: {e}") from e
        if positions:
            self.latest = (time.monotonic(), positions[-1])

    def run(self, days: int = 1):  # type: ignore[no-untyped-def]
        """The city joins (timed as `setup_s`), then one day (`day_s`, `day_events`)."""
        started = time.monotonic()
        self.clock.set(self.start.replace(hour=6))
        self.set_up_city()
        self.commit()
        self.setup_s = time.monotonic() - started
        self.clock.set(self.start)
        self.on_day_start()
        started, head = time.monotonic(), self.app.head()
        for tick in range(TICKS):
            self.one_tick(tick)
            self.commit()
            self.clock.advance(TICK_S)
            if self.speed:  # the day at `speed` times real time: a tick's commands, then wait for its end
                time.sleep(max(0.0, started + (tick + 1) * TICK_S / self.speed - time.monotonic()))
            self.progress(tick + 1, TICKS)
        self.end_of_day()
        self.commit()
        self.day_s, self.day_events = time.monotonic() - started, self.app.head() - head
        return self.summary(1)

    # --- the city ---------------------------------------------------------------------
    def set_up_city(self) -> None:
        month = local_month(self.start)
        for district, (centre, streets) in DISTRICTS.items():
            admin = self.admins[district] = Actor(id=f"admin-{district}", role=Role.DISTRICT_ADMIN)
            self.name_staff(district, admin, admin)
            self.do(c.IssueRateSchedule(district=district, effective_from=self.start.replace(day=1, hour=0),
                                        rates=RATES, cap_day_fen=3_000, cap_month_fen=60_000), admin)
            self.do(c.AllocateBudget(district=district, period=month, fen=BUDGET_FEN), admin)
            square = district_square(centre)
            self.do(c.SetDistrictBoundary(district=district, boundary=rectangle(*square)), admin)
            for n, street in enumerate(streets):
                for block in range(self.grids_per_street):
                    box = cell(square, len(streets), self.grids_per_street, n, block)
                    self.register_grid(district, box, street, n, block, admin)
        self.set_up_rewards()
        for n in range(self.rider_count):
            self.register_rider(n)
            if n % 500 == 0:
                self.setup_progress(n, self.rider_count)
        self.setup_progress(self.rider_count, self.rider_count)

    def register_grid(self, district: str, box: Box, street: str, n: int, block: int, admin: Actor) -> None:
        """A grid on its cell of the district's square (gridgov/layout.py)."""
        result = self.do(c.RegisterGrid(district=district, street=street, community=f"{street}第{block + 1}社区",
                                        name=f"{district}-{n + 1}-{block + 1}", boundary=rectangle(*box)), admin)
        assert result is not None
        officer = Actor(id=f"officer-{district}-{n + 1}-{block + 1}", role=Role.GRID_OFFICER)
        grid = GridInfo(UUID(result["grid_id"]), district, middle(box), officer, reach=reach(box))
        self.do(c.AssignOfficer(grid_id=grid.id, officer_id=officer.id), admin)
        self.name_staff(district, officer, admin)
        self.grids.append(grid)

    def register_rider(self, n: int) -> None:
        home = self.grids[n % len(self.grids)]
        result = self.do(c.RegisterRider(platform=self.rng.choice(["meituan", "eleme"]),
                                         station=f"{home.district}站{n % 190 + 1}", name=f"骑手{n:05d}",
                                         phone=f"13{n:09d}"), self.admins[home.district])
        assert result is not None
        rider = UUID(result["rider_id"])
        self.rider_grids[rider] = []
        if self.do(c.JoinGrid(rider_id=rider, grid_id=home.id), as_rider(rider)) is not None:
            self.rider_grids[rider].append(home)
            home.riders.append(rider)

    # --- the day: the demo's, with how many in proportion to the city ------------------
    FAR_SPREAD = 0.02

    def clues_this_tick(self, tick: int) -> int:
        return self.draw(self.per_tick(CLUES_PER_RIDER_DAY * self.rider_count, tick))

    def patrols_this_tick(self, tick: int) -> list[GridInfo]:
        return self.rng.sample(self.grids, self.draw(self.per_tick(PATROLS_PER_GRID_DAY * len(self.grids), tick)))

    def reporting_grid(self, rider: UUID) -> GridInfo:
        return self.rider_grids[rider][0]  # a rider of the city is in one grid

    @staticmethod
    def per_tick(per_day: float, tick: int) -> float:
        """The day's `per_day`, shared over the ticks by the hour's weight."""
        hour = tick // 12
        return per_day * HOURLY_SHAPE[hour] / sum(HOURLY_SHAPE) / 12

    def draw(self, mean: float) -> int:
        """How many this tick: Poisson around `mean` (a normal approximation when large)."""
        if mean > 30:
            return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k

    def redeemers_today(self, earners: int) -> int:
        return earners // 20  # one in twenty who earned, at dinner

    def end_of_day(self) -> None:
        """The demo's evening; then every rider who earned is paid what each district owes."""
        self.clock.set(self.start.replace(hour=23))
        super().end_of_day()
        month = local_month(self.clock.now())
        earners = sorted({rider for _, rider in self.verified}, key=str)
        for n, rider in enumerate(earners):
            if n % READ_AHEAD == 0:
                self.read_ahead(SubsidyAccount, [SubsidyAccount.id_for(r, month) for r in earners[n:n + READ_AHEAD]])
            for district, tally in sorted(self.account(rider, month).districts.items()):
                if tally.payable > 0:
                    self.do(c.SettlePayout(rider_id=rider, period=month, district=district, fen=tally.payable,
                                           batch_id=f"{local_day(self.clock.now())}-{district}-日结"),
                            self.admins[district])
