"""The six digits alone, for any redemptions waiting and any codes typed: a code in
force names exactly its own held redemption and confirms it, once; any other code
confirms nothing and is a wrong code of the partner's day, and the twentieth locks
the partner for the day (domain/partners.py)."""

from __future__ import annotations

from uuid import UUID

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain import errors
from domain.clock import ManualClock
from domain.partners import PARTNER_MISSES_PER_DAY
from domain.redemptions import RedemptionConfirmed
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World

# What the partner types: the code of the i-th redemption (it may be confirmed by then), or any six digits.
TYPED = st.one_of(st.tuples(st.just("code of"), st.integers(0, 4)),
                  st.tuples(st.just("digits"), st.integers(0, 999_999)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waiting=st.integers(1, 5), typed=st.lists(TYPED, max_size=PARTNER_MISSES_PER_DAY + 4),
       riders=st.integers(1, 3))
def test_a_code_alone_confirms_its_own_and_nothing_else(waiting: int, typed: list[tuple[str, int]],
                                                        riders: int) -> None:
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock=clock)
    try:
        world = World(app, clock)
        grid, first = world.scene()
        people = [first, *(world.rider(grid) for _ in range(riders - 1))]
        for rider in people:
            world.piece(grid, rider)  # 5 points each
        partner = world.partner()
        item = world.item(partner, price=1, stock=10)
        held = [world.redeem(people[i % riders], item).result for i in range(waiting)]
        codes = [h["code"] for h in held]
        assume(len(set(codes)) == len(codes))  # one in a million: two waiting with one code
        open_codes = {h["code"]: h["redemption_id"] for h in held}
        misses, confirmed = 0, []
        for how, n in typed:
            code = codes[n % waiting] if how == "code of" else f"{n:06d}"
            head = app.head()
            if misses >= PARTNER_MISSES_PER_DAY:
                try:
                    world.do(c.ConfirmRedemption(code=code), partner)
                except errors.PartnerLockedForToday:
                    assert app.head() == head  # a locked partner's try writes nothing
                    continue
                raise AssertionError("a partner locked for the day confirmed")
            if code in open_codes:
                outcome = world.do(c.ConfirmRedemption(code=code), partner)
                assert outcome.result["redemption_id"] == open_codes.pop(code)
                confirmed.append(outcome.result["redemption_id"])
            else:
                try:
                    world.do(c.ConfirmRedemption(code=code), partner)
                except errors.UnknownRedemptionCode as refusal:
                    misses += 1
                    assert refusal.facts["tries_left"] == PARTNER_MISSES_PER_DAY - misses
                    assert app.head() > head  # the miss is kept
                    continue
                raise AssertionError(f"{code}, no waiting redemption's code, confirmed one")
        assert sorted(str(e.originator_id) for e in world.events() if isinstance(e, RedemptionConfirmed)) \
            == sorted(confirmed)
        assert {UUID(r) for r in open_codes.values()} == {h.redemption_id for h in app.held_redemptions.of(
            UUID(partner.id))}
    finally:
        app.close()
