"""Waiting for the pipeline to drain ends (gridgov/simulate.py, wait_for_none_behind).

It waits on progress, not on a clock: it gives up once the count behind has not gone below
its lowest for the stall time. Before, any change counted as progress, so a count that
came back unanswered now and then (a lag look timing out on a loaded broker) between two
equal ones kept the wait alive for ever: a run of `gridgov simulate` that never ended.
The property: whatever the looks answer, a pattern that repeats for ever ends the wait,
by reaching none behind or by giving up; a count that keeps falling is never given up on.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, strategies as st

from gridgov.simulate import wait_for_none_behind

STALL_S = 5.0
answers = st.one_of(st.none(), st.integers(0, 50))


class StillWaiting(BaseException):
    """Past the looks a wait that ends needs: raised through the wait's `except Exception`."""


class Looks:
    """The answers in turn, then `repeat` for ever; a clock that moves only when the wait sleeps."""

    def __init__(self, first: list[int | None], repeat: list[int | None]) -> None:
        self.answers = itertools.chain(first, itertools.cycle(repeat))
        self.now, self.looks = 0.0, 0
        # Each cycle's lowest is met within two cycles, so a stall shows within the stall time's looks after.
        self.bound = len(first) + len(repeat) * 2 + int(STALL_S / 0.2) + 2

    def count(self) -> int:
        self.looks += 1
        if self.looks > self.bound:
            raise StillWaiting(f"still waiting after {self.bound} looks")
        answer = next(self.answers)
        if answer is None:
            raise TimeoutError("the broker did not answer")
        return answer

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(first=st.lists(answers, max_size=30), repeat=st.lists(answers, min_size=1, max_size=6))
def test_answers_that_repeat_end_the_wait(first: list[int | None], repeat: list[int | None]) -> None:
    looks = Looks(first, repeat)
    try:
        wait_for_none_behind(looks.count, STALL_S, clock=lambda: looks.now, sleep=looks.sleep)
    except RuntimeError as gave_up:
        assert 0 not in first, "gave up after none were behind"
        assert "stopped draining" in str(gave_up)
    else:
        assert 0 in first or 0 in repeat


@given(start=st.integers(1, 10_000), unanswered=st.integers(0, 3))
def test_a_count_that_keeps_falling_is_waited_for(start: int, unanswered: int) -> None:
    """However slowly: one fewer each look, with unanswered looks between, longer than the stall time in all."""
    falling = [a for n in range(start, -1, -1) for a in [n, *[None] * unanswered]]
    looks = Looks(falling, [None])
    looks.bound = len(falling) + 1
    wait_for_none_behind(looks.count, STALL_S, clock=lambda: looks.now, sleep=looks.sleep)
    assert looks.looks == (start * (unanswered + 1)) + 1


def test_the_old_wait_was_kept_alive_by_an_unanswered_look_between_equal_counts() -> None:
    looks = Looks([], [7, None])
    with pytest.raises(RuntimeError, match="7 records behind"):
        wait_for_none_behind(looks.count, STALL_S, clock=lambda: looks.now, sleep=looks.sleep)
