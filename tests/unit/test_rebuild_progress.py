"""A parallel rebuild's progress moves whenever any helper moves: a helper still
reading its first page does not hold the bar at zero, and the bar never goes back; a helper
silent for the stall time stops the wait."""

from __future__ import annotations

import queue

import pytest
from hypothesis import given, strategies as st

from projections.engine.parallel import _gather


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 100)), min_size=1, max_size=40))
def test_progress_is_how_far_the_helpers_are_together_and_never_goes_back(steps: list[tuple[int, int]]) -> None:
    stop, helpers = 1000, 3
    reports: queue.Queue = queue.Queue()  # type: ignore[type-arg]
    reached, expected = [0] * helpers, []
    for helper, stride in steps:  # each helper's own positions only go forward
        reached[helper] = min(stop, reached[helper] + stride)
        reports.put((helper, ("progress", reached[helper])))
        expected.append(sum(reached) // helpers)
    for helper in range(helpers):
        reports.put((helper, ("progress", stop)))
        reports.put((helper, ("done", 0, [])))
    shown: list[int] = []
    _gather(reports, helpers, shown.append, lambda index: None)
    assert shown[:len(steps)] == expected  # any helper's step moves it by that step's share
    assert shown == sorted(shown) and shown[-1] == stop


def test_one_helper_working_while_another_reads_its_first_page_moves_the_bar() -> None:
    reports: queue.Queue = queue.Queue()  # type: ignore[type-arg]
    for position in (100, 200, 300):
        reports.put((0, ("progress", position)))  # helper 1 says nothing yet
    for helper in (0, 1):
        reports.put((helper, ("progress", 300)))
        reports.put((helper, ("done", 0, [])))
    shown: list[int] = []
    _gather(reports, 2, shown.append, lambda index: None)
    assert shown[:3] == [50, 100, 150]


def test_a_helper_that_says_nothing_for_the_stall_time_stops_the_rebuild_naming_it() -> None:
    """A helper blocked without exiting (its EOF would say so) held the rebuild for ever. Helper 0
    finishes and helper 1 never speaks: the wait ends, naming helper 1 (the caller kills the helpers)."""
    reports: queue.Queue = queue.Queue()  # type: ignore[type-arg]
    reports.put((0, ("progress", 300)))
    reports.put((0, ("done", 0, [])))
    with pytest.raises(RuntimeError, match=r"rebuild helper 1 said nothing for 0 s"):
        _gather(reports, 2, None, lambda index: None, stall_s=0.2)
