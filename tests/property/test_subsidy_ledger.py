"""The subsidy ledger and points, checked from the stored events after every step
(DESIGN §4): balance = awarded − reversed − paid; nothing paid beyond the balance
or twice; caps and budget respected, with what they withheld recorded; a piece
paid once; points never below zero."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import commands as c
from domain import errors
from domain.points import PointsEarned, PointsExpired, PointsRedeemed
from domain.rates import BudgetAllocated, BudgetCommitted, BudgetReleased, Rate
from domain.subsidies import AwardKind, PayoutSettled, SubsidyAccount, SubsidyAwarded, SubsidyCapped, SubsidyReversed
from tests.backends import fresh_app, run_machine
from tests.world import rider_actor

RATES = {"patrol": Rate(fen=500, points=5), "fire": Rate(fen=1_200, points=12)}
CAP_DAY, CAP_MONTH = 2_000, 6_000


class SubsidyLedger(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.app, self.clock, self.world, self.cleanup = fresh_app(self.backend)
        self.grid = self.world.grid()
        self.world.schedule(rates=RATES, cap_day=CAP_DAY, cap_month=CAP_MONTH)
        self.riders = [self.world.rider(self.grid) for _ in range(3)]
        self.awards: list[tuple[UUID, str, UUID]] = []  # rider, period, piece

    def teardown(self) -> None:
        self.app.close()
        self.cleanup()

    def refused_cleanly(self, action) -> None:  # type: ignore[no-untyped-def]
        head = self.app.head()
        try:
            action()
        except errors.DomainError:
            assert self.app.head() == head, "a refused command wrote events"

    @rule(fen=st.integers(1, 5_000))
    def allocate(self, fen: int) -> None:
        self.world.budget(fen=fen)

    @rule(pick=st.integers(0, 2), code=st.sampled_from(sorted(RATES)))
    def verified_piece(self, pick: int, code: str) -> None:
        rider = self.riders[pick]
        task, outcome = self.world.piece(self.grid, rider, code)
        self.awards.append((rider, outcome.result["period"], task))

    @precondition(lambda self: self.awards)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        rider, period, piece = data.draw(st.sampled_from(self.awards))
        self.refused_cleanly(lambda: self.world.do(
            c.ReverseAward(rider_id=rider, period=period, piece_id=piece, reason="audit finding"), self.world.admin))

    @rule(pick=st.integers(0, 2), fen=st.integers(1, 3_000), batch=st.integers(0, 5))
    def settle(self, pick: int, fen: int, batch: int) -> None:
        rider = self.riders[pick]
        self.refused_cleanly(lambda: self.world.do(
            c.SettlePayout(rider_id=rider, period=self.world.period, batch_id=f"batch-{batch}", fen=fen),
            self.world.admin))

    @rule(pick=st.integers(0, 2), points=st.integers(1, 30))
    def redeem(self, pick: int, points: int) -> None:
        rider = self.riders[pick]
        self.refused_cleanly(lambda: self.world.do(
            c.RedeemPoints(rider_id=rider, item="商超购物减免", partner="market", points=points), rider_actor(rider)))

    @rule(hours=st.sampled_from([3, 12, 24, 24 * 10]))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours * 3600)

    @invariant()
    def ledger_rules_hold_over_the_whole_history(self) -> None:
        events = self.world.events()
        running: dict[UUID, int] = defaultdict(int)  # account -> balance as it went
        day_total: dict[tuple[UUID, str], int] = defaultdict(int)
        month_total: dict[tuple[UUID, str], int] = defaultdict(int)
        room: dict[UUID, int] = defaultdict(int)  # budget stream (district, month) -> what is left
        withheld: dict[UUID, int] = defaultdict(int)
        awarded: dict[UUID, SubsidyAwarded] = {}
        points: dict[UUID, int] = defaultdict(int)
        for e in events:
            match e:
                case BudgetAllocated():
                    room[e.originator_id] += e.fen
                case BudgetCommitted():
                    room[e.originator_id] -= e.fen
                    assert room[e.originator_id] >= 0 or e.remedy, "budget overspent"
                case BudgetReleased():
                    room[e.originator_id] += e.fen
                case SubsidyAwarded():
                    assert e.piece_id not in awarded, "a piece was awarded twice"
                    awarded[e.piece_id] = e
                    running[e.originator_id] += e.fen
                    if e.kind is AwardKind.PIECE:
                        day_total[(e.rider_id, e.day)] += e.fen
                        month_total[(e.rider_id, e.period)] += e.fen
                        assert day_total[(e.rider_id, e.day)] <= CAP_DAY
                        assert month_total[(e.rider_id, e.period)] <= CAP_MONTH
                case SubsidyCapped():
                    withheld[e.piece_id] += e.withheld_fen
                case SubsidyReversed():
                    running[e.originator_id] -= e.fen
                case PayoutSettled():
                    assert e.fen <= running[e.originator_id], "paid more than the balance"
                    running[e.originator_id] -= e.fen
                case PointsEarned():
                    points[e.originator_id] += e.points
                case PointsRedeemed() | PointsExpired():
                    points[e.originator_id] -= e.points
                    assert points[e.originator_id] >= 0, "points went below zero"
        for piece, award in awarded.items():
            assert award.fen + withheld[piece] == award.rate_fen, "a cap withheld without saying so"
        for rider in self.riders:
            account_id = SubsidyAccount.id_for(rider, self.world.period)
            if account_id in running:
                account = self.app.repository.get(account_id, projector_func=SubsidyAccount.project)
                assert account.balance == account.awarded - account.reversed - account.paid == running[account_id]


@pytest.mark.parametrize("backend,examples", [("sqlite", 30), pytest.param("postgres", 8, marks=pytest.mark.postgres)])
def test_subsidy_ledger(backend: str, examples: int) -> None:
    run_machine(SubsidyLedger, backend, examples)
