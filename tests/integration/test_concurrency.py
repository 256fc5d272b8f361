"""Sixteen riders press "claim" on the same task at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from domain import errors
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
