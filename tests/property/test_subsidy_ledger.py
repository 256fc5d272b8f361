"""The subsidy ledger and points, checked from the stored events after every step
(docs/design.md §4, §5), over riders who work in two districts in the same month:
balance = awarded − reversed − paid, in total and per district; a payout settles
one district's money and never more than it owes; caps and budget respected,
with what they withheld recorded; a piece paid once; a reversed award
reinstated at most once, by its own district's budget; points never below zero;
a command refused writes nothing."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import commands as c
from domain import errors
from domain.appeals import Remedy, RemedyKind, Subject, SubjectKind, Verdict
from domain.points import PointsEarned, PointsExpired, PointsRedeemed
from domain.budgets import BudgetAllocated, BudgetCommitted, BudgetReleased
from domain.rates import Rate
from domain.scope import Scope
from domain.subsidies import (AwardKind, AwardReinstated, PayoutSettled, SubsidyAccount, SubsidyAwarded,
                              SubsidyCapped, SubsidyReversed)
from tests.fixtures.apps import fresh_app, run_machine
from tests.fixtures.world import World, rider_actor

RATES = {"patrol": Rate(fen=500, points=5), "fire": Rate(fen=1_200, points=12)}
CAP_DAY, CAP_MONTH = 2_000, 6_000
DISTRICTS = ("温江", "锦江")


class SubsidyLedger(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.app, self.clock, first, self.cleanup = fresh_app(self.backend)
        self.worlds = {"温江": first, "锦江": World(self.app, self.clock, "锦江")}
        self.grids = {d: w.grid() for d, w in self.worlds.items()}
        for world in self.worlds.values():
            world.schedule(rates=RATES, cap_day=CAP_DAY, cap_month=CAP_MONTH)
        # Every rider works in both districts' grids: its months hold money of both.
        self.riders = [first.rider(self.grids["温江"]) for _ in range(3)]
        for rider in self.riders:
            first.do(c.JoinGrid(rider_id=rider, grid_id=self.grids["锦江"]), rider_actor(rider))
        self.awards: list[tuple[UUID, str, UUID, str]] = []  # rider, period, piece, district
        self.appeals: list[tuple[UUID, tuple[UUID, str, UUID, str]]] = []  # appeal, its award
        self.reinstated: list[tuple[UUID, str, UUID, str]] = []
        self.reversed: list[tuple[UUID, str, UUID, str]] = []

    def teardown(self) -> None:
        self.app.close()
        self.cleanup()

    def admin_of(self, district: str) -> tuple[World, Scope]:
        return self.worlds[district], Scope(districts=frozenset({district}))

    def refused_cleanly(self, action: Callable[[], object]) -> None:
        head = self.app.head()
        try:
            action()
        except errors.DomainError:
            assert self.app.head() == head, "a refused command wrote events"

    @rule(district=st.sampled_from(DISTRICTS), fen=st.integers(1, 5_000))
    def allocate(self, district: str, fen: int) -> None:
        self.worlds[district].budget(fen=fen)

    @rule(pick=st.integers(0, 2), district=st.sampled_from(DISTRICTS), code=st.sampled_from(sorted(RATES)))
    def verified_piece(self, pick: int, district: str, code: str) -> None:
        rider = self.riders[pick]
        task, outcome = self.worlds[district].piece(self.grids[district], rider, code)
        self.awards.append((rider, outcome.result["period"], task, district))

    @precondition(lambda self: self.awards)
    @rule(data=st.data(), by=st.sampled_from(DISTRICTS))
    def reverse(self, data: st.DataObject, by: str) -> None:
        """Any district's admin tries; only the piece's own may."""
        rider, period, piece, district = data.draw(st.sampled_from(self.awards))
        world, scope = self.admin_of(by)
        head = self.app.head()
        try:
            world.do(c.ReverseAward(rider_id=rider, period=period, piece_id=piece, reason="audit finding"),
                     world.admin, scope=scope)
            assert by == district, "an admin reversed another district's award"
            self.reversed.append((rider, period, piece, district))
        except errors.DomainError as e:
            assert self.app.head() == head, "a refused command wrote events"
            assert by == district or isinstance(e, errors.OutOfScope)

    @rule(pick=st.integers(0, 2), district=st.sampled_from(DISTRICTS), fen=st.integers(1, 3_000),
          batch=st.integers(0, 5))
    def settle(self, pick: int, district: str, fen: int, batch: int) -> None:
        world, scope = self.admin_of(district)
        self.refused_cleanly(lambda: world.do(
            c.SettlePayout(rider_id=self.riders[pick], period=world.period, district=district,
                           batch_id=f"batch-{batch}", fen=fen), world.admin, scope=scope))

    @precondition(lambda self: self.awards)
    @rule(data=st.data(), reversed_only=st.booleans())
    def appeal_an_award(self, data: st.DataObject, reversed_only: bool) -> None:
        """Often about a reversed award, and often more than once about the same."""
        rider, period, piece, district = data.draw(st.sampled_from(self.reversed if reversed_only and self.reversed
                                                                   else self.awards))
        subject = Subject(kind=SubjectKind.AWARD, ref=str(piece), period=period)
        try:
            outcome = self.worlds[district].do(c.FileAppeal(rider_id=rider, district=district, subject=subject,
                                                            text="the work was done"), rider_actor(rider))
        except errors.DomainError:
            return
        self.appeals.append((UUID(outcome.result["appeal_id"]), (rider, period, piece, district)))

    @precondition(lambda self: self.appeals)
    @rule(data=st.data(), own=st.booleans(),
          remedy=st.sampled_from([Remedy(kind=RemedyKind.REINSTATE_AWARD), Remedy(kind=RemedyKind.AWARD_FEN, fen=300),
                                  Remedy()]))
    def decide(self, data: st.DataObject, own: bool, remedy: Remedy) -> None:
        """By the appeal's own district's admin, or the other one's (refused)."""
        appeal, award = data.draw(st.sampled_from(self.appeals))
        district = award[3]
        world, scope = self.admin_of(district if own else next(d for d in DISTRICTS if d != district))
        head = self.app.head()
        try:
            world.do(c.DecideAppeal(appeal_id=appeal, outcome=Verdict.UPHELD, remedy=remedy, reason="upheld"),
                     world.admin, scope=scope)
        except errors.DomainError:
            assert self.app.head() == head, "a refused command wrote events"
            return
        if remedy.kind is RemedyKind.REINSTATE_AWARD:
            self.reinstated.append(award)

    @precondition(lambda self: self.reinstated)
    @rule(data=st.data())
    def appeal_a_reinstated_award_again(self, data: st.DataObject) -> None:
        """A second appeal about an award already reinstated, upheld the same way."""
        rider, period, piece, district = data.draw(st.sampled_from(self.reinstated))
        world, scope = self.admin_of(district)
        appeal = UUID(world.do(c.FileAppeal(rider_id=rider, district=district, text="pay me again",
                                            subject=Subject(kind=SubjectKind.AWARD, ref=str(piece), period=period)),
                               rider_actor(rider)).result["appeal_id"])
        self.refused_cleanly(lambda: world.do(
            c.DecideAppeal(appeal_id=appeal, outcome=Verdict.UPHELD, remedy=Remedy(kind=RemedyKind.REINSTATE_AWARD),
                           reason="upheld again"), world.admin, scope=scope))

    @rule(pick=st.integers(0, 2), points=st.integers(1, 30))
    def redeem(self, pick: int, points: int) -> None:
        rider = self.riders[pick]
        self.refused_cleanly(lambda: self.worlds["温江"].do(
            c.RedeemPoints(rider_id=rider, item="商超购物减免", partner="market", points=points), rider_actor(rider)))

    @rule(hours=st.sampled_from([3, 12, 24, 24 * 10]))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours * 3600)

    @invariant()
    def ledger_rules_hold_over_the_whole_history(self) -> None:
        events = self.worlds["温江"].events()
        running: dict[tuple[UUID, str], int] = defaultdict(int)  # (account, district) -> balance as it went
        day_total: dict[tuple[UUID, str], int] = defaultdict(int)
        month_total: dict[tuple[UUID, str], int] = defaultdict(int)
        room: dict[UUID, int] = defaultdict(int)  # budget stream (district, month) -> what is left
        budget_district: dict[UUID, str] = {}
        withheld: dict[UUID, int] = defaultdict(int)
        awarded: dict[UUID, SubsidyAwarded] = {}
        reversed_: set[UUID] = set()
        reinstated: dict[UUID, UUID] = {}  # piece -> appeal
        points: dict[UUID, int] = defaultdict(int)
        for e in events:
            match e:
                case BudgetAllocated():
                    room[e.originator_id] += e.fen
                case BudgetCommitted():
                    room[e.originator_id] -= e.fen
                    budget_district[e.piece_id] = e.district
                    assert room[e.originator_id] >= 0 or e.remedy, "budget overspent"
                case BudgetReleased():
                    room[e.originator_id] += e.fen
                case SubsidyAwarded():
                    assert e.piece_id not in awarded, "a piece was awarded twice"
                    awarded[e.piece_id] = e
                    running[(e.originator_id, e.district)] += e.fen
                    if e.kind is AwardKind.PIECE:
                        day_total[(e.rider_id, e.day)] += e.fen
                        month_total[(e.rider_id, e.period)] += e.fen
                        assert day_total[(e.rider_id, e.day)] <= CAP_DAY
                        assert month_total[(e.rider_id, e.period)] <= CAP_MONTH
                    elif e.fen:
                        assert budget_district.get(e.piece_id, e.district) == e.district, \
                            "a remedy was paid from another district's budget than its award's"
                case SubsidyCapped():
                    withheld[e.piece_id] += e.withheld_fen
                case SubsidyReversed():
                    reversed_.add(e.piece_id)
                    running[(e.originator_id, awarded[e.piece_id].district)] -= e.fen
                case AwardReinstated():
                    assert e.piece_id in reversed_, "an award was reinstated that was never reversed"
                    assert e.piece_id not in reinstated, "an award was reinstated twice"
                    reinstated[e.piece_id] = e.appeal_id
                case PayoutSettled():
                    assert e.district is not None
                    key = (e.originator_id, e.district)
                    assert e.fen <= running[key], "paid more than the district owes"
                    running[key] -= e.fen
                case PointsEarned():
                    points[e.originator_id] += e.points
                case PointsRedeemed() | PointsExpired():
                    points[e.originator_id] -= e.points
                    assert points[e.originator_id] >= 0, "points went below zero"
        for piece, award in awarded.items():
            assert award.fen + withheld[piece] == award.rate_fen, "a cap withheld without saying so"
        for piece, appeal in reinstated.items():
            remedy = awarded[appeal]
            assert (remedy.fen, remedy.district) == (awarded[piece].fen, awarded[piece].district)
        for rider in self.riders:
            account_id = SubsidyAccount.id_for(rider, self.worlds["温江"].period)
            account = self.app.repository.get(account_id, projector_func=SubsidyAccount.project) \
                if any(key[0] == account_id for key in running) else None
            if account is None:
                continue
            for district, tally in account.districts.items():
                assert tally.payable == tally.awarded - tally.reversed - tally.paid == running[(account_id,
                                                                                                district)]
            assert account.balance == sum(v for k, v in running.items() if k[0] == account_id)


@pytest.mark.parametrize("backend,examples", [("sqlite", 100), pytest.param("postgres", 15, marks=pytest.mark.postgres)])
def test_subsidy_ledger(backend: str, examples: int) -> None:
    run_machine(SubsidyLedger, backend, examples)
