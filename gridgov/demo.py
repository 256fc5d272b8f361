"""A deterministic day in Chengdu: the six districts of the city's programme,
their grids and officers, a few hundred riders, a rate schedule and budget, and
one simulated day of clues, claims, completions, verifications, awards,
redemptions, a payout and one appeal. Same seed, same story, same summary.
One story, read top to bottom: hence one module.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, TypeVar
from uuid import UUID


from domain import commands as c
from domain import errors
from domain.appeals import Verdict
from domain.appeals import Remedy, RemedyKind, Subject, SubjectKind
from domain.clock import CHINA, ManualClock, local_day, local_month
from domain.clues import Category, Clue, Location
from domain.places import rectangle
from gridgov.layout import cell, district_square, middle, reach
from domain.events import Actor, Role, topics_of
from domain.partners import PartnerKind
from domain.points import PointsAccount
from domain.riders import Rider
from domain.stations import Service
from domain.rates import Rate
from gridgov import demo_words as words
from application.service import GridGovernance
from domain.subsidies import SubsidyAccount
from application.unit_of_work import UnitOfWork
from domain.tasks import GridTask, TaskPublished, TaskStatus
from domain.aggregate import Aggregate

A = TypeVar("A", bound=Aggregate)

DAY_START = datetime(2026, 11, 2, 7, 0, tzinfo=CHINA)
TICK_S = 300  # five minutes
TICKS = 16 * 12  # 07:00 to 23:00
REDEEM_TICK = 12 * 12  # 19:00

# district -> (centre, streets)
DISTRICTS: dict[str, tuple[Location, tuple[str, ...]]] = {
    "温江": (Location(lat=30.6826, lon=103.8560), ("柳城街道", "公平街道", "涌泉街道")),
    "锦江": (Location(lat=30.6571, lon=104.0817), ("春熙路街道", "书院街街道", "牛市口街道")),
    "双流": (Location(lat=30.5744, lon=103.9236), ("东升街道", "九江街道", "西航港街道")),
    "青羊": (Location(lat=30.6742, lon=104.0610), ("少城街道", "草市街街道", "府南街道")),
    "新都": (Location(lat=30.8231, lon=104.1587), ("新都街道", "大丰街道", "三河街道")),
    "成华": (Location(lat=30.6600, lon=104.1010), ("猛追湾街道", "双桥子街道", "府青路街道")),
}
RATES = {
    "clue-check": Rate(fen=300, points=3, name_zh="线索核查", name_en="Clue check"),  # go and look at a reported clue
    "fire-lane": Rate(fen=800, points=8, name_zh="清理消防通道", name_en="Clearing a fire lane"),
    "patrol": Rate(fen=500, points=5, name_zh="网格巡查", name_en="Grid patrol"),
    "elderly-visit": Rate(fen=1_000, points=10, name_zh="探访独居老人", name_en="Visiting an elder living alone"),
}
TASK_RATE = {Category.BLOCKED_FIRE_LANE: "fire-lane", Category.FIRE_HAZARD: "fire-lane",
             Category.ELDERLY_FALL: "elderly-visit"}
CATEGORY_WEIGHTS = {Category.FAKE_MEAL_READY: 20, Category.UNSAFE_FOOD: 10, Category.FIRE_HAZARD: 12,
                    Category.BLOCKED_FIRE_LANE: 18, Category.TRAFFIC_HAZARD: 25, Category.ELDERLY_FALL: 6,
                    Category.ROBBERY: 2, Category.OTHER: 7}
# The demo's officers and admins by name (the staff directory): a surname and a given name each, in turn.
SURNAMES = "李王张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN_NAMES = ("建国", "秀英", "志强", "丽华", "海燕", "永红", "文军", "晓敏", "国平", "桂兰", "德明", "春梅",
               "卫东", "玉珍", "振华", "雪梅", "宏伟", "淑芬", "光明", "红霞", "俊杰")


def task_name(rate_code: str) -> str:
    """A task as its officer names it: the rate's own name (the code is the engine's)."""
    return RATES[rate_code].name_zh or rate_code


def staff_name(n: int) -> str:
    """The n-th name of the demo's staff: no two alike among the first few hundred."""
    return SURNAMES[n % len(SURNAMES)] + GIVEN_NAMES[n % len(GIVEN_NAMES)]


def rider_name(n: int) -> str:
    """The n-th rider's name (sealed; pages show it masked, 王*平, to most)."""
    return SURNAMES[(n + 7) % len(SURNAMES)] + GIVEN_NAMES[(n // len(SURNAMES)) % len(GIVEN_NAMES)]


# Each district's catalogue: (item, partner, its kind, price in points). The canteen is at the station.
REWARDS = [("社区食堂工作餐", "骑手驿站食堂", PartnerKind.CANTEEN, 3), ("车辆配件更换", "电动车配件店", PartnerKind.SHOP, 8),
           ("商超购物减免", "社区超市", PartnerKind.SHOP, 5)]


@dataclass
class GridInfo:
    id: UUID
    district: str
    centre: Location
    officer: Actor
    riders: list[UUID] = field(default_factory=list)
    reach: float = 0.01  # degrees from the centre a clue may be and still be in the grid (gridgov/layout.py)


@dataclass
class Summary:
    days: int
    events: int
    commands: int
    refused: int
    riders: int
    grids: int
    clues: int
    duplicates_flagged: int
    tasks: dict[str, int]
    awarded_fen: int
    top_balances: list[tuple[UUID, int]]
    appeal: str


class Demo:
    def __init__(self, app: GridGovernance, clock: ManualClock, seed: int, riders: int = 300,
                 progress: Callable[[int, int], None] | None = None, start: datetime = DAY_START) -> None:
        self.app, self.clock, self.rng = app, clock, random.Random(seed)
        self.start = start
        self.rider_count = riders
        self.progress = progress or (lambda done, total: None)
        self.grids: list[GridInfo] = []
        self.admins: dict[str, Actor] = {}
        self.catalogue: dict[str, list[tuple[UUID, Actor]]] = {}  # by district: (item, its partner)
        self.uncollected: list[UUID] = []  # held redemptions nobody came for
        self.rider_grids: dict[UUID, list[GridInfo]] = {}
        self.reported: list[tuple[UUID, GridInfo, tuple[str, ...]]] = []
        self.tasks: dict[UUID, GridInfo] = {}
        self.claims: dict[UUID, tuple[UUID, int]] = {}  # task -> (rider, tick it will be done)
        self.awaiting: list[tuple[UUID, UUID]] = []  # (task, rider) done, to be verified
        self._everyone: list[UUID] = []  # rider_grids' keys, listed again only when riders join
        self.verified: list[tuple[UUID, UUID]] = []  # (task, rider)
        self.commands = self.refused = self.clue_count = self.flagged = self.staff_named = 0

    # --- the story ------------------------------------------------------------------
    def run(self, days: int = 1) -> Summary:
        self.clock.set(self.start.replace(hour=6))
        self.set_up_city()
        for day in range(days):
            morning = self.start + timedelta(days=day)
            if day and local_month(morning) != local_month(morning - timedelta(days=1)):
                self.new_month_budgets(local_month(morning))
            self.clock.set(morning)
            for tick in range(TICKS):
                self.one_tick(tick)
                self.clock.advance(TICK_S)
                self.progress(day * TICKS + tick + 1, days * TICKS)
            self.end_of_day()
        return self.summary(days)

    def new_month_budgets(self, month: str) -> None:
        for district, admin in self.admins.items():
            self.do(c.AllocateBudget(district=district, period=month, fen=2_000_000), admin)

    def do(self, command: c.Command, actor: Actor) -> dict | None:
        """Run a command; the demo's riders make honest mistakes, the engine refuses them."""
        self.commands += 1
        try:
            return self.decide(command, actor)
        except errors.DomainError:
            self.refused += 1
            return None

    def decide(self, command: c.Command, actor: Actor) -> dict:
        return self.app.execute(command, actor).result

    def read(self, cls: type[A], id: UUID) -> A:
        """An aggregate as the story's commands have left it."""
        return UnitOfWork(self.app).get(cls, id)

    def read_ahead(self, cls: type[A], ids: Iterable[UUID]) -> None:
        """The aggregates the next commands will ask for, read in one go (current.py: `prefetch`)."""
        UnitOfWork(self.app).prefetch(cls, ids)

    def set_up_city(self) -> None:
        month = local_month(self.start)
        for district, (centre, streets) in DISTRICTS.items():
            admin = self.admins[district] = Actor(id=f"admin-{district}", role=Role.DISTRICT_ADMIN)
            self.name_staff(district, admin, admin)
            self.do(c.IssueRateSchedule(district=district, effective_from=self.start.replace(day=1, hour=0),
                                        rates=RATES, cap_day_fen=3_000, cap_month_fen=60_000), admin)
            self.do(c.AllocateBudget(district=district, period=month, fen=2_000_000), admin)
            square = district_square(centre)
            self.do(c.SetDistrictBoundary(district=district, boundary=rectangle(*square)), admin)
            for n, street in enumerate(streets):
                for block in range(2):
                    box = cell(square, len(streets), 2, n, block)
                    result = self.do(c.RegisterGrid(district=district, street=street, community=f"{street}第{block + 1}社区",
                                                    name=f"{district}-{n + 1}-{block + 1}",
                                                    boundary=rectangle(*box)), admin)
                    assert result is not None
                    officer = Actor(id=f"officer-{district}-{n + 1}-{block + 1}", role=Role.GRID_OFFICER)
                    grid = GridInfo(UUID(result["grid_id"]), district, middle(box), officer, reach=reach(box))
                    self.do(c.AssignOfficer(grid_id=grid.id, officer_id=officer.id), admin)
                    self.name_staff(district, officer, admin)
                    self.grids.append(grid)
        self.set_up_rewards()
        for n in range(self.rider_count):
            home = self.grids[n % len(self.grids)]
            admin = self.admins[home.district]
            result = self.do(c.RegisterRider(platform=self.rng.choice(["meituan", "eleme"]),
                                             station=f"{home.district}站{n % 7 + 1}", name=rider_name(n),
                                             phone=f"138{n:08d}"), admin)
            assert result is not None
            rider = UUID(result["rider_id"])
            self.rider_grids[rider] = []
            for grid in [home] + ([self.rng.choice(self.grids)] if self.rng.random() < 0.2 else []):
                if grid not in self.rider_grids[rider] and self.do(c.JoinGrid(rider_id=rider, grid_id=grid.id),
                                                                    as_rider(rider)) is not None:
                    self.rider_grids[rider].append(grid)
                    grid.riders.append(rider)

    def name_staff(self, district: str, who: Actor, admin: Actor) -> None:
        self.do(c.NameStaff(staff_id=who.id, display_name=staff_name(self.staff_named), district=district,
                            role=who.role), admin)
        self.staff_named += 1

    def set_up_rewards(self) -> None:
        """Each district: a rider station with a canteen, two shops, three items for points."""
        for district, (centre, _) in DISTRICTS.items():
            admin = self.admins[district]
            description = c.StationDescription(name=f"{district}骑手驿站", address=f"{district}中心路1号",
                                               location=centre, hours="07:00-22:00",
                                               services=(Service.CHARGING, Service.WATER, Service.CANTEEN))
            station = self.do(c.RegisterStation(district=district, description=description), admin)
            assert station is not None
            longer = description.model_copy(update={"hours": "06:30-23:00"})
            self.do(c.UpdateStation(station_id=UUID(station["station_id"]), description=longer), admin)
            self.catalogue[district] = []
            for item, partner, kind, price in REWARDS:
                at = UUID(station["station_id"]) if kind is PartnerKind.CANTEEN else None
                made = self.do(c.RegisterPartner(district=district, name=partner, kind=kind, station_id=at), admin)
                assert made is not None
                listed = self.do(c.ListItem(district=district, partner_id=UUID(made["partner_id"]), name=item,
                                            price_points=price, stock=500, valid_from=self.start.replace(day=1, hour=0),
                                            valid_to=self.start.replace(day=1, hour=0) + timedelta(days=366),
                                            hold_minutes=60), admin)
                assert listed is not None
                self.catalogue[district].append((UUID(listed["item_id"]),
                                                 Actor(id=made["partner_id"], role=Role.PARTNER)))

    def redeem_rewards(self) -> None:
        """At dinner time riders who earned redeem; most collect, a shop runs out now and then, a few never come
        (their holds are ended by the engine's sweep an hour later)."""
        earners = sorted({rider for _, rider in self.verified}, key=str)
        for rider in self.rng.sample(earners, self.redeemers_today(len(earners))):
            district = self.rng.choice(self.rider_grids[rider]).district
            have = self.read(PointsAccount, PointsAccount.id_for(rider)).available
            # Most look at their points first; now and then one asks for what it cannot afford yet.
            offer = [(n, entry) for n, entry in enumerate(self.catalogue[district]) if REWARDS[n][3] <= have]
            item, partner = self.rng.choice(offer)[1] if offer and self.rng.random() < 0.9 else \
                self.rng.choice(self.catalogue[district])
            held = self.do(c.RedeemItem(rider_id=rider, item_id=item), as_rider(rider))
            if held is None:
                continue  # not enough points yet
            redemption = UUID(held["redemption_id"])
            luck = self.rng.random()
            if luck < 0.8:
                self.do(c.ConfirmRedemption(redemption_id=redemption, code=held["code"]), partner)
            elif luck < 0.9:
                self.do(c.RefuseRedemption(redemption_id=redemption, reason="今日已售罄"), partner)
            else:
                self.uncollected.append(redemption)

    def redeemers_today(self, earners: int) -> int:
        return min(20, earners)

    def sweep_holds(self) -> None:
        for redemption in self.uncollected:
            self.do(c.ExpireRedemption(redemption_id=redemption), Actor(id="engine", role=Role.SYSTEM))
        self.uncollected = []

    def one_tick(self, tick: int) -> None:
        self.report_clues(self.clues_this_tick(tick))
        self.triage()
        for grid in self.patrols_this_tick(tick):
            self.publish(grid, "patrol")
        self.claim_open_tasks(tick)
        self.finish_work(tick)
        self.verify_work()
        if tick == REDEEM_TICK:
            self.redeem_rewards()
        if tick == REDEEM_TICK + 13:  # past the items' hour of hold
            self.sweep_holds()
        if tick % 24 == 23:
            for task in list(self.claims):
                if self.do(c.ExpireClaim(task_id=task), Actor(id="engine", role=Role.SYSTEM)) == {"released": True}:
                    del self.claims[task]

    def clues_this_tick(self, tick: int) -> int:
        return self.rng.choice([1, 2, 3, 4, 5])

    def patrols_this_tick(self, tick: int) -> list[GridInfo]:
        return self.rng.sample(self.grids, 3) if tick % 12 == 0 else []  # every hour an officer or two

    def reporting_grid(self, rider: UUID) -> GridInfo:
        return self.rng.choice(self.rider_grids[rider])

    def everyone(self) -> list[UUID]:
        """The riders, in the order they joined: listed once, not every tick (750,000 of them)."""
        if len(self._everyone) != len(self.rider_grids):  # riders join, never leave the story
            self._everyone = list(self.rider_grids)
        return self._everyone

    FAR_SPREAD = 0.01  # degrees: how far from its grid's middle a clue may be

    def report_clues(self, count: int) -> None:
        riders = self.everyone()
        reporters = [self.rng.choice(riders) for _ in range(count)]
        self.read_ahead(Rider, reporters)
        for rider in reporters:
            if not self.rider_grids[rider]:
                continue
            grid = self.reporting_grid(rider)
            category = self.rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
            # Some reports are of the same thing another rider already saw.
            # Where the rider stands decides the grid: inside the grid's own ground (grid.reach).
            spread = min(0.0005 if self.rng.random() < 0.3 else self.FAR_SPREAD, grid.reach)
            where = Location(lat=grid.centre.lat + self.rng.uniform(-spread, spread),
                             lon=grid.centre.lon + self.rng.uniform(-spread, spread))
            result = self.do(c.ReportClue(rider_id=rider, category=category,
                                          text=words.report(category, self.clue_count), location=where),
                             as_rider(rider))
            if result is not None:
                self.clue_count += 1
                self.flagged += bool(result["duplicate_candidates"])
                self.reported.append((UUID(result["clue_id"]), grid, tuple(result["duplicate_candidates"])))

    def triage(self) -> None:
        pending, self.reported = self.reported, []
        self.read_ahead(Clue, [UUID(candidates[0]) for _, _, candidates in pending if candidates])
        for clue, grid, candidates in pending:
            roll = self.rng.random()
            if candidates and roll < 0.8:
                self.do(c.MarkDuplicate(clue_id=clue, of_clue_id=UUID(candidates[0])), grid.officer)
            elif roll < 0.25:
                self.do(c.RejectClue(clue_id=clue, reason=words.REJECTED_CLUE), grid.officer)
            else:
                result = self.do(c.AcceptClue(clue_id=clue, kind=task_name("clue-check"), rate_code="clue-check",
                                              claim_ttl_s=3 * 3600), grid.officer)
                if result is not None:
                    self.tasks[UUID(result["task_id"])] = grid

    def publish(self, grid: GridInfo, rate_code: str) -> None:
        result = self.do(c.PublishTask(grid_id=grid.id, kind=task_name(rate_code), rate_code=rate_code,
                                       claim_ttl_s=2 * 3600),
                         grid.officer)
        if result is not None:
            self.tasks[UUID(result["task_id"])] = grid

    def claim_open_tasks(self, tick: int) -> None:
        claims = [(task, self.rng.choice(grid.riders)) for task, grid in list(self.tasks.items())
                  if task not in self.claims and grid.riders and self.rng.random() >= 0.5]
        self.read_ahead(GridTask, [task for task, _ in claims])
        self.read_ahead(Rider, [rider for _, rider in claims])
        for task, rider in claims:
            if self.do(c.ClaimTask(task_id=task, rider_id=rider), as_rider(rider)) is not None:
                # Most finish within the hour; a few forget, and their claim expires.
                done_at = tick + self.rng.randint(1, 12) if self.rng.random() < 0.9 else tick + 10_000
                self.claims[task] = (rider, done_at)
                del self.tasks[task]

    def finish_work(self, tick: int) -> None:
        for task, (rider, done_at) in list(self.claims.items()):
            if done_at == tick:
                note = words.done(len(self.verified) + len(self.awaiting))
                if self.do(c.CompleteTask(task_id=task, rider_id=rider, note=note), as_rider(rider)) is not None:
                    self.awaiting.append((task, rider))
                    del self.claims[task]

    def verify_work(self) -> None:
        pending, self.awaiting = self.awaiting, []
        month = local_month(self.clock.now())
        self.read_ahead(SubsidyAccount, [SubsidyAccount.id_for(rider, month) for _, rider in pending])
        self.read_ahead(PointsAccount, [PointsAccount.id_for(rider) for _, rider in pending])
        for task, _ in pending:
            grid = self.grid_of_task(task)
            if self.rng.random() < 0.9:
                result = self.do(c.VerifyCompletion(task_id=task), grid.officer)
                if result is not None:
                    self.verified.append((task, UUID(result["rider_id"])))
            else:
                self.do(c.RejectCompletion(task_id=task, reason=words.REJECTED_COMPLETION), grid.officer)
                rider = self.task(task).claimant
                if rider is not None:
                    self.claims[task] = (rider, -1)  # resubmits at the end of the day

    def end_of_day(self) -> None:
        for task, (rider, done_at) in list(self.claims.items()):
            if done_at == -1 and self.do(c.CompleteTask(task_id=task, rider_id=rider, note=words.DONE_AGAIN),
                                         as_rider(rider)) is not None:
                self.awaiting.append((task, rider))
        self.verify_work()
        month = local_month(self.clock.now())
        earners = sorted({rider for _, rider in self.verified}, key=str)
        self.appeal_story(month)
        for rider in earners[:10]:
            # Each district settles its own slice of the month, from its own money.
            for district, tally in sorted(self.account(rider, month).districts.items()):
                if tally.payable > 0:
                    self.do(c.SettlePayout(rider_id=rider, period=month, district=district, fen=tally.payable,
                                           batch_id=f"{local_day(self.clock.now())}-{district}-日结"),
                            self.admins[district])

    def appeal_story(self, month: str) -> None:
        """An award reversed on a hasty audit, appealed, and upheld with its reinstatement."""
        this_month = [(task, rider) for task, rider in self.verified if task in self.account(rider, month).awards]
        if not this_month:
            self.appeal = "none"
            return
        task, rider = this_month[len(this_month) // 2]
        district = self.grid_of_task(task).district
        admin = self.admins[district]
        self.do(c.ReverseAward(rider_id=rider, period=month, piece_id=task, reason="现场照片与地址不符"), admin)
        result = self.do(c.FileAppeal(rider_id=rider, district=district, text="照片拍摄于网格内, 地址无误",
                                      subject=Subject(kind=SubjectKind.AWARD, ref=str(task), period=month)),
                         as_rider(rider))
        assert result is not None
        appeal = UUID(result["appeal_id"])
        # The officer of the task's grid looks into it: someone of the staff directory, shown by name.
        self.do(c.AssignAppeal(appeal_id=appeal, assignee_id=self.grid_of_task(task).officer.id), admin)
        self.do(c.NoteAppeal(appeal_id=appeal, text="已与骑手沟通, 调取定位记录"), admin)
        decided = self.do(c.DecideAppeal(appeal_id=appeal, outcome=Verdict.UPHELD, reason="定位记录证实地址无误",
                                         remedy=Remedy(kind=RemedyKind.REINSTATE_AWARD)), admin)
        self.appeal = f"upheld, {decided['remedy_fen'] if decided else 0} fen reinstated to rider {rider}"

    # --- looking things up ----------------------------------------------------------
    def task(self, task_id: UUID) -> GridTask:
        return self.read(GridTask, task_id)

    def grid_of_task(self, task_id: UUID) -> GridInfo:
        grid_id = self.task(task_id).grid_id
        return next(g for g in self.grids if g.id == grid_id)

    def account(self, rider: UUID, month: str) -> SubsidyAccount:
        """The rider's account for the month (empty if nothing was awarded in it)."""
        return self.read(SubsidyAccount, SubsidyAccount.id_for(rider, month))

    def summary(self, days: int = 1) -> Summary:
        month = local_month(self.clock.now())
        statuses: dict[str, int] = {s.value: 0 for s in TaskStatus}
        for task_id in self.all_task_ids():
            statuses[self.task(task_id).status.value] += 1
        accounts = {r: self.account(r, month) for _, r in self.verified}
        balances = [(rider, account.balance) for rider, account in accounts.items()]
        awarded = sum(account.awarded for account in accounts.values())
        balances.sort(key=lambda b: (-b[1], str(b[0])))
        return Summary(days=days, events=self.app.head(), commands=self.commands, refused=self.refused,
                       riders=len(self.rider_grids), grids=len(self.grids), clues=self.clue_count,
                       duplicates_flagged=self.flagged, tasks=statuses, awarded_fen=awarded,
                       top_balances=balances[:5], appeal=self.appeal)

    def all_task_ids(self) -> set[UUID]:
        ids: set[UUID] = set()
        after = 0
        while page := self.app.eventlog.page(after, 1000, topics_of([TaskPublished])):
            ids.update(UUID(stream) for _, stream, *_ in page)
            after = page[-1][0]
        return ids


def as_rider(rider: UUID) -> Actor:
    return Actor(id=str(rider), role=Role.RIDER)
