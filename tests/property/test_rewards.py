"""Redemption as a saga, checked against a model after every step: riders earn points
with verified work, admins list, revise and withdraw items, riders redeem, the partner
confirms with the code (or a wrong one), refuses, or the hold runs out and is swept,
admins expire points, and the district's expiry policy is swept at month ends.
After every step, in the engine and in its read models:

    available + held + spent = earned − expired   for every rider, never below zero
    stock never below zero; a code confirms once; a refused or expired hold gives
    back exactly what it held (its points, one of its item's stock)
    a refused command writes nothing, but a wrong code, which is counted: five lock
    the redemption until its rider renews the code, twenty a day lock the partner
    no stored row, of the event store or the read models, holds a code given out
    a policy's sweep expires at least what is left of the old points however they
    were used, never more than were earned then or are available; run again, nothing
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain import commands as c
from domain import errors
from domain.catalogue import CatalogueItem
from domain.clock import local_day, local_month, month_before
from domain.partners import PARTNER_MISSES_PER_DAY
from domain.redemptions import MAX_WRONG_TRIES
from domain.points import PointsAccount
from domain.rates import Rate
from application.unit_of_work import UnitOfWork
from gridgov.bootstrap import log_feed
from projections.points import Points, rider_points
from projections.rewards import Rewards, catalogue, redemptions
from tests.fixtures.apps import fresh_app, run_machine
from tests.fixtures.stores import new_store
from tests.fixtures.world import rider_actor

RIDERS = 3
HOLDING = ("held", "locked")  # a locked redemption still holds its points and its stock


class RewardsSaga(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.app, self.clock, self.world, self.cleanup = fresh_app(self.backend)
        self.store, self.drop_store = new_store("sqlite")
        self.feed = log_feed(self.app, self.store, [Points(), Rewards()])
        self.grid = self.world.grid()
        self.world.schedule(rates={"patrol": Rate(fen=100, points=3)}, cap_day=100_000, cap_month=1_000_000)
        self.world.budget(fen=10_000_000)
        self.riders = [self.world.rider(self.grid) for _ in range(RIDERS)]
        self.partner = self.world.partner()
        # The model: what each rider should have, each item's stock, each redemption.
        self.earned = dict.fromkeys(self.riders, 0)
        self.expired = dict.fromkeys(self.riders, 0)
        self.earned_in: dict[UUID, list[tuple[str, int]]] = {r: [] for r in self.riders}
        self.policy = 0
        self.spent = dict.fromkeys(self.riders, 0)
        self.items: dict[UUID, dict] = {}  # item -> price, stock, reserved, withdrawn, hold_minutes
        self.holds: dict[UUID, dict] = {}  # redemption -> rider, item, points, code, expires_at, status, tries
        self.codes: set[str] = set()  # every code given out
        self.codes_checked_to = 0  # rows up to here held none of the codes given out by then
        self.misses: dict[str, int] = {}  # the partner's wrong codes, by China day

    def teardown(self) -> None:
        self.app.close()
        self.store.close()
        self.drop_store()
        self.cleanup()

    # --- the model's helpers ----------------------------------------------------------
    def held(self, rider: UUID) -> int:
        return sum(h["points"] for h in self.holds.values() if h["rider"] == rider and h["status"] in HOLDING)

    def available(self, rider: UUID) -> int:
        return self.earned[rider] - self.expired[rider] - self.spent[rider] - self.held(rider)

    def refused(self, action, error: type[errors.DomainError]) -> None:  # type: ignore[no-untyped-def]
        head = self.app.head()
        with pytest.raises(error):
            action()
        assert self.app.head() == head, "a refused command wrote events"

    # --- rules ---------------------------------------------------------------------------
    @initialize()
    def a_rider_with_points_and_an_item(self) -> None:
        """Random steps seldom reach a hold, let alone a locked one: start with one in reach."""
        self.earn.hypothesis_stateful_rule.function(self, 0, 2)
        self.list_item.hypothesis_stateful_rule.function(self, 2, 3, 120)

    @rule(pick=st.integers(0, RIDERS - 1), pieces=st.integers(1, 3))
    def earn(self, pick: int, pieces: int) -> None:
        rider = self.riders[pick]
        for _ in range(pieces):
            self.world.piece(self.grid, rider)
            self.earned[rider] += 3
            self.earned_in[rider].append((local_month(self.clock.now()), 3))

    @rule(price=st.integers(1, 12), stock=st.integers(0, 3), hold=st.sampled_from([30, 60, 120]))
    def list_item(self, price: int, stock: int, hold: int) -> None:
        item = self.world.item(self.partner, price=price, stock=stock, hold_minutes=hold)
        self.items[item] = {"price": price, "stock": stock, "reserved": 0, "withdrawn": False, "hold": hold}

    @precondition(lambda self: self.items)
    @rule(data=st.data(), price=st.integers(1, 12), added=st.integers(0, 2))
    def revise(self, data: st.DataObject, price: int, added: int) -> None:
        item = data.draw(st.sampled_from(list(self.items)))
        model = self.items[item]
        command = c.ReviseItem(item_id=item, name="社区食堂工作餐", price_points=price, valid_from=self.clock.now(),
                               valid_to=self.clock.now() + timedelta(days=365), hold_minutes=model["hold"],
                               stock_added=added)
        if model["withdrawn"]:
            return self.refused(lambda: self.world.do(command, self.world.admin), errors.ItemNotOffered)
        self.world.do(command, self.world.admin)
        model.update(price=price, stock=model["stock"] + added)

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(list(self.items)))
        command = c.WithdrawItem(item_id=item, reason="下架")
        if self.items[item]["withdrawn"]:
            return self.refused(lambda: self.world.do(command, self.world.admin), errors.ItemNotOffered)
        self.world.do(command, self.world.admin)
        self.items[item]["withdrawn"] = True

    @precondition(lambda self: self.items)
    @rule(data=st.data(), pick=st.integers(0, RIDERS - 1))
    def redeem(self, data: st.DataObject, pick: int) -> None:
        rider, item = self.riders[pick], data.draw(st.sampled_from(list(self.items)))
        model = self.items[item]
        if model["withdrawn"]:
            return self.refused(lambda: self.world.redeem(rider, item), errors.ItemNotOffered)
        if model["stock"] - model["reserved"] <= 0:
            return self.refused(lambda: self.world.redeem(rider, item), errors.OutOfStock)
        if self.available(rider) < model["price"]:
            return self.refused(lambda: self.world.redeem(rider, item), errors.InsufficientPoints)
        held = self.world.redeem(rider, item).result
        assert held["points"] == model["price"], "the price is the catalogue's"
        model["reserved"] += 1
        self.holds[UUID(held["redemption_id"])] = {
            "rider": rider, "item": item, "points": model["price"], "code": held["code"], "status": "held",
            "expires_at": self.clock.now() + timedelta(minutes=model["hold"]), "tries": 0}
        self.codes.add(held["code"])

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), right_code=st.booleans())
    def confirm(self, data: st.DataObject, right_code: bool) -> None:
        redemption = data.draw(st.sampled_from(list(self.holds)))
        hold = self.holds[redemption]
        code = hold["code"] if right_code else f"{(int(hold['code']) + 1) % 1_000_000:06d}"
        command = c.ConfirmRedemption(redemption_id=redemption, code=code)
        day = local_day(self.clock.now())
        if self.misses.get(day, 0) >= PARTNER_MISSES_PER_DAY:
            return self.refused(lambda: self.world.do(command, self.partner), errors.PartnerLockedForToday)
        if hold["status"] not in HOLDING:
            return self.refused(lambda: self.world.do(command, self.partner), errors.RedemptionNotHeld)
        if self.clock.now() >= hold["expires_at"]:
            return self.refused(lambda: self.world.do(command, self.partner), errors.HoldExpired)
        if hold["status"] == "locked":
            return self.refused(lambda: self.world.do(command, self.partner), errors.RedemptionLocked)
        if not right_code:
            with pytest.raises(errors.WrongRedemptionCode):
                self.world.do(command, self.partner)
            hold["tries"] += 1
            self.misses[day] = self.misses.get(day, 0) + 1
            if hold["tries"] >= MAX_WRONG_TRIES:
                hold["status"] = "locked"
            return
        self.world.do(command, self.partner)
        hold["status"] = "confirmed"
        self.spent[hold["rider"]] += hold["points"]

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), guesses=st.integers(1, 6))
    def guess(self, data: st.DataObject, guesses: int) -> None:
        """The partner tries wrong codes in a row: random steps seldom reach a lock."""
        for _ in range(guesses):
            self.confirm.hypothesis_stateful_rule.function(self, _Fixed(data.draw(st.sampled_from(list(self.holds)))),
                                                           False)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def renew(self, data: st.DataObject) -> None:
        """The rider asks for a new code: the old one dies, a lock lifts, the hold keeps its time."""
        redemption = data.draw(st.sampled_from(list(self.holds)))
        hold = self.holds[redemption]
        command = c.RenewRedemptionCode(redemption_id=redemption)
        rider = rider_actor(hold["rider"])
        if hold["status"] not in HOLDING:
            return self.refused(lambda: self.world.do(command, rider), errors.RedemptionNotHeld)
        if self.clock.now() >= hold["expires_at"]:
            return self.refused(lambda: self.world.do(command, rider), errors.HoldExpired)
        fresh = self.world.do(command, rider).result
        assert fresh["expires_at"] == hold["expires_at"].isoformat()
        hold.update(code=fresh["code"], status="held", tries=0)
        self.codes.add(fresh["code"])

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def refuse(self, data: st.DataObject) -> None:
        redemption = data.draw(st.sampled_from(list(self.holds)))
        self.give_back(redemption, c.RefuseRedemption(redemption_id=redemption, reason="售罄"), "refused",
                       early_is_fine=True)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def sweep(self, data: st.DataObject) -> None:
        redemption = data.draw(st.sampled_from(list(self.holds)))
        self.give_back(redemption, c.ExpireRedemption(redemption_id=redemption), "expired", early_is_fine=False)

    def give_back(self, redemption: UUID, command: c.Command, status: str, early_is_fine: bool) -> None:
        hold = self.holds[redemption]
        who = self.partner if status == "refused" else self.world.engine
        if hold["status"] not in HOLDING:
            return self.refused(lambda: self.world.do(command, who), errors.RedemptionNotHeld)
        if not early_is_fine and self.clock.now() < hold["expires_at"]:
            return self.refused(lambda: self.world.do(command, who), errors.HoldNotExpired)
        before = self.app.head()
        result = self.world.do(command, who).result
        assert result["points_returned"] == hold["points"], "a hold gives back exactly what it held"
        back = self.world.events()[before:]
        assert sorted(type(e).__name__ for e in back) == sorted(
            ["PointsReleased", "StockReturned", "RedemptionRefused" if status == "refused" else "RedemptionExpired"])
        assert [e.points for e in back if type(e).__name__ == "PointsReleased"] == [hold["points"]]
        hold["status"] = status
        self.items[hold["item"]]["reserved"] -= 1

    @rule(minutes=st.sampled_from([5, 31, 61, 121]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes * 60)

    @rule(pick=st.integers(0, RIDERS - 1), points=st.integers(1, 9))
    def expire_points(self, pick: int, points: int) -> None:
        rider = self.riders[pick]
        command = c.ExpirePoints(rider_id=rider, points=points, reason="年度清零")
        if points > self.available(rider):
            return self.refused(lambda: self.world.do(command, self.world.admin), errors.InsufficientPoints)
        self.world.do(command, self.world.admin)
        self.expired[rider] += points

    @rule(months=st.integers(0, 2))
    def set_policy(self, months: int) -> None:
        self.world.do(c.SetPointsPolicy(district=self.world.district, expire_after_months=months), self.world.admin)
        self.policy = months

    @rule(days=st.sampled_from([10, 31]))
    def month_end_sweep(self, days: int) -> None:
        """Time passes; the sweep closes the month before the one it is now."""
        self.clock.advance(days * 24 * 3600)
        closed = month_before(local_month(self.clock.now()), 1)
        for rider in self.riders:
            command = c.ExpireOldPoints(rider_id=rider, district=self.world.district, month=closed)
            available = self.available(rider)
            expired = self.world.do(command, self.world.engine).result["expired"]
            if not self.policy:
                assert expired == 0
                continue
            old = sum(n for month, n in self.earned_in[rider] if month <= month_before(closed, self.policy))
            used = self.spent[rider] + self.held(rider) + self.expired[rider]
            assert max(0, old - used) <= expired <= min(available, old)
            self.expired[rider] += expired
            again = self.world.do(command, self.world.engine).result["expired"]
            assert again == 0, "a month's sweep expires once"

    # --- invariants ----------------------------------------------------------------------
    @invariant()
    def the_engine_agrees_with_the_model(self) -> None:
        uow = UnitOfWork(self.app)
        for rider in self.riders:
            account = uow.get(PointsAccount, PointsAccount.id_for(rider))
            held = self.held(rider)
            assert (account.available, account.balance - account.available) == (self.available(rider), held)
            assert account.available >= 0
        for item, model in self.items.items():
            stocked = uow.get(CatalogueItem, item)
            assert stocked.available == model["stock"] - model["reserved"] >= 0

    @invariant()
    def no_stored_row_holds_a_code(self) -> None:
        """As JSON keeps a string: quoted (timestamps' digits never stand quoted alone)."""
        quoted = [f'"{code}"'.encode() for code in self.codes]
        rows = self.app.recorder.select_notifications(start=self.codes_checked_to + 1, limit=1_000_000)
        assert [r.topic for r in rows if any(q in r.state for q in quoted)] == []
        self.codes_checked_to = rows[-1].id if rows else self.codes_checked_to
        self.feed.catch_up()
        for projection in (Points(), Rewards()):
            for table in projection.table_names.values():
                text = repr(self.store.read(f"SELECT * FROM {table}"))
                assert not any(f"'{code}'" in text for code in self.codes), table

    @invariant()
    def the_read_models_agree_with_the_model(self) -> None:
        self.feed.catch_up()
        for rider in self.riders:
            p = rider_points(self.store, str(rider))
            assert (p["available"], p["held"], p["spent"]) == (self.available(rider), self.held(rider),
                                                                self.spent[rider])
            assert p["available"] + p["held"] + p["spent"] == p["earned"] - p["expired"] == \
                self.earned[rider] - self.expired[rider]
            statuses = {r["redemption_id"]: r["status"] for r in redemptions(self.store, rider_id=str(rider))}
            assert statuses == {str(k): h["status"] for k, h in self.holds.items() if h["rider"] == rider}
        listed = {i["item_id"]: i for i in catalogue(self.store, self.world.district)}
        for item, model in self.items.items():
            row = listed[str(item)]
            assert (row["available"], row["withdrawn"], row["price_points"]) == \
                (model["stock"] - model["reserved"], model["withdrawn"], model["price"])


class _Fixed:
    """A `data` whose draw is one redemption already picked."""

    def __init__(self, value: object) -> None:
        self.value = value

    def draw(self, strategy: object, label: object = None) -> object:
        return self.value


@pytest.mark.parametrize("backend,examples", [("sqlite", 60), pytest.param("postgres", 10, marks=pytest.mark.postgres)])
def test_redemption_saga(backend: str, examples: int) -> None:
    run_machine(RewardsSaga, backend, examples)
