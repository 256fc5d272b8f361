"""Sixteen riders press "claim" on the same task, or "redeem" on the last items, at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from domain import errors
from domain.catalogue import StockReserved
from domain.redemptions import RedemptionHeld
from domain.tasks import TaskClaimed
from tests.fixtures.world import World

RIDERS = 16


def test_exactly_one_of_sixteen_concurrent_claims_wins(world: World) -> None:
    grid, _ = world.scene()
    riders = [world.rider(grid) for _ in range(RIDERS)]
    task = world.task(grid)
    start = threading.Barrier(RIDERS)

    def claim(rider):  # type: ignore[no-untyped-def]
        start.wait()
        try:
            return world.claim(task, rider)
        except errors.DomainError as e:
            return e

    with ThreadPoolExecutor(RIDERS) as pool:
        results = list(pool.map(claim, riders))

    won = [r for r in results if not isinstance(r, errors.DomainError)]
    lost = [r for r in results if isinstance(r, errors.DomainError)]
    assert len(won) == 1
    assert len(lost) == RIDERS - 1
    assert all(isinstance(e, errors.TaskAlreadyClaimed) for e in lost), {type(e).__name__ for e in lost}
    assert all(e.code == "task-already-claimed" and "already claimed" in e.message for e in lost)
    claims = [e for e in world.events(task) if isinstance(e, TaskClaimed)]
    assert len(claims) == 1
    assert claims[0].originator_version == 2


def test_sixteen_riders_after_the_last_three_items_get_three_holds(world: World) -> None:
    """Each has the points; the stock decides. The losers are told it is out of stock,
    not that they raced, and nothing of theirs is written."""
    grid, first = world.scene()
    riders = [first] + [world.rider(grid) for _ in range(RIDERS - 1)]
    for rider in riders:
        world.piece(grid, rider)  # 5 points each
    item = world.item(world.partner(), price=5, stock=5)
    for rider in riders[:2]:
        world.redeem(rider, item)  # two of five gone: three left
    riders = riders[2:] + [world.rider(grid), world.rider(grid)]
    for rider in riders[-2:]:
        world.piece(grid, rider)
    start = threading.Barrier(RIDERS)

    def redeem(rider):  # type: ignore[no-untyped-def]
        start.wait()
        try:
            return world.redeem(rider, item)
        except errors.DomainError as e:
            return e

    with ThreadPoolExecutor(RIDERS) as pool:
        results = list(pool.map(redeem, riders))

    won = [r for r in results if not isinstance(r, errors.DomainError)]
    lost = [r for r in results if isinstance(r, errors.DomainError)]
    assert len(won) == 3
    assert {type(e).__name__ for e in lost} == {"OutOfStock"} and len(lost) == RIDERS - 3
    assert all(e.code == "out-of-stock" and "out of stock" in e.message for e in lost)
    held = [e for e in world.events() if isinstance(e, RedemptionHeld)]
    assert len(held) == 5 and len({e.originator_id for e in held}) == 5
    reserved = [e for e in world.events(item) if isinstance(e, StockReserved)]
    assert len(reserved) == 5
    winners = {UUID(r.result["redemption_id"]) for r in won}
    assert winners <= {e.redemption_id for e in reserved}
