"""The partner types only the six digits: the code names the redemption among the
partner's held ones. The limits on wrong codes still hold (docs/design.md): a code
that names none of them is a wrong code of the partner's day."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain import commands as c
from domain import errors
from domain.partners import PARTNER_MISSES_PER_DAY, PartnerCodeLocked, PartnerCodeMissed
from domain.redemptions import RedemptionConfirmed, RedemptionHeld
from tests.fixtures.world import World, rider_actor


def _two_meals_waiting(world: World):  # type: ignore[no-untyped-def]
    grid, first = world.scene()
    second = world.rider(grid)
    for rider in (first, second):
        world.piece(grid, rider)
    partner = world.partner()
    item = world.item(partner, price=5)
    return partner, [world.redeem(rider, item).result for rider in (first, second)]


def _not_any(codes: list[str]) -> str:
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in codes)


def test_with_two_meals_waiting_either_code_confirms_its_own(world: World) -> None:
    partner, held = _two_meals_waiting(world)
    for h in reversed(held):  # the older one second: the newest is not the only one a code reaches
        outcome = world.do(c.ConfirmRedemption(code=h["code"]), partner)
        assert outcome.result["redemption_id"] == h["redemption_id"]
        assert outcome.result["points_spent"] == 5 and outcome.result["item"] == "社区食堂工作餐"
        assert [type(e) for e in world.events(UUID(h["redemption_id"]))][-1] is RedemptionConfirmed
    assert world.count(RedemptionConfirmed) == 2


def test_the_old_form_with_the_redemption_still_works(world: World) -> None:
    partner, held = _two_meals_waiting(world)
    first = held[0]
    outcome = world.do(c.ConfirmRedemption(redemption_id=UUID(first["redemption_id"]), code=first["code"]), partner)
    assert outcome.result["redemption_id"] == first["redemption_id"]


def test_a_code_that_names_none_is_a_wrong_code_of_the_partners_day(world: World) -> None:
    partner, held = _two_meals_waiting(world)
    wrong = _not_any([h["code"] for h in held])
    head = world.app.head()
    with pytest.raises(errors.WrongRedemptionCode) as caught:
        world.do(c.ConfirmRedemption(code=wrong), partner)
    assert caught.value.facts["tries_left"] == PARTNER_MISSES_PER_DAY - 1
    assert world.app.head() > head  # the miss is kept
    [missed] = [e for e in world.events(UUID(partner.id)) if isinstance(e, PartnerCodeMissed)]
    assert missed.redemption_id is None and missed.misses == 1
    for h in held:  # no redemption was charged for it: each still takes its own code
        assert not [e for e in world.events(UUID(h["redemption_id"])) if type(e).__name__ == "RedemptionCodeMissed"]


def test_the_partners_day_limit_holds_for_codes_alone(world: World) -> None:
    partner, held = _two_meals_waiting(world)
    wrong = _not_any([h["code"] for h in held])
    for _ in range(PARTNER_MISSES_PER_DAY):
        with pytest.raises(errors.WrongRedemptionCode):
            world.do(c.ConfirmRedemption(code=wrong), partner)
    assert world.count(PartnerCodeLocked) == 1
    head = world.app.head()
    with pytest.raises(errors.PartnerLockedForToday):
        world.do(c.ConfirmRedemption(code=held[0]["code"]), partner)
    assert world.app.head() == head


def test_another_partners_code_is_not_found_among_mine(world: World) -> None:
    mine, held = _two_meals_waiting(world)
    other = world.partner("另一家")
    with pytest.raises(errors.WrongRedemptionCode):
        world.do(c.ConfirmRedemption(code=held[0]["code"]), other)
    assert world.count(RedemptionConfirmed) == 0


def test_only_a_partner_confirms_by_code_alone(world: World) -> None:
    _, held = _two_meals_waiting(world)
    rider = next(e.rider_id for e in world.events() if isinstance(e, RedemptionHeld))
    head = world.app.head()
    with pytest.raises(errors.NotAllowed):
        world.do(c.ConfirmRedemption(code=held[0]["code"]), rider_actor(rider))
    with pytest.raises(errors.NotAllowed):
        world.do(c.ConfirmRedemption(code=held[0]["code"]), world.admin)
    assert world.app.head() == head


def test_two_waiting_with_one_code_are_said_so_and_named_then(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One in a million a pair: the code alone names neither, counts as no miss, and the old form decides."""
    import domain.redemptions

    monkeypatch.setattr(domain.redemptions, "code_of", lambda key: "123456")  # both holds drawn to one code
    partner, held = _two_meals_waiting(world)
    head = world.app.head()
    with pytest.raises(errors.RedemptionCodeAmbiguous) as caught:
        world.do(c.ConfirmRedemption(code="123456"), partner)
    assert sorted(caught.value.facts["redemptions"]) == sorted(h["redemption_id"] for h in held)
    assert world.app.head() == head  # not a wrong code: nothing counted
    second = held[1]["redemption_id"]
    assert world.do(c.ConfirmRedemption(redemption_id=UUID(second), code="123456"),
                    partner).result["redemption_id"] == second
    assert world.do(c.ConfirmRedemption(code="123456"), partner).result["redemption_id"] == held[0]["redemption_id"]
