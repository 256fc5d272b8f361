"""The consumer watchdog's rule, over any run of looks: it fires only when the
stored offsets stood still for the whole stall time while the topics were known
to hold more at every look, and it always fires then, within one look."""

from __future__ import annotations

from hypothesis import given, strategies as st

from consumers.watchdog import Watchdog

STALL_S = 10.0

# One look: seconds since the last look, whether an offset moved, the lag then (None: broker away).
looks = st.lists(st.tuples(st.floats(0.1, 4.0), st.booleans(), st.one_of(st.none(), st.integers(0, 50))),
                 max_size=200)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@given(looks)
def test_it_fires_exactly_when_offsets_stood_still_past_the_stall_time_with_lag(run) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    dog = Watchdog(STALL_S, clock=clock)
    offset = 0
    dog.stalled({"t/0": offset}, lambda: 0)
    still_since = clock.now  # the model: when the offsets (or the watch) last started afresh
    for gap, moved, lag in run:
        clock.now += gap
        offset += moved
        asked: list[int] = []
        fired = dog.stalled({"t/0": offset}, lambda: asked.append(1) or lag)  # type: ignore[func-returns-value]
        if moved:
            assert fired is None and not asked, "progress is never a stall"
            still_since = clock.now
            continue
        assert asked, "standing still, the lag is asked at every look"
        if not lag:
            assert fired is None, "idle (no lag) or the broker away (unknown) is not a stall"
            still_since = clock.now  # the stall time counts only while lag is known and above zero
        elif clock.now - still_since < STALL_S:
            assert fired is None, "lag for less than the stall time is not a stall"
        else:
            assert fired == lag, "lag with no progress for the stall time is a stall"
            still_since = clock.now  # the new client gets a whole stall time


def test_a_broker_back_a_moment_ago_does_not_fire_it() -> None:
    """Unknown lag for 29 s (the broker away), then lag: the client gets a whole
    stall time from the broker's return, not one second."""
    clock = Clock()
    dog = Watchdog(STALL_S, clock=clock)
    dog.stalled({"t/0": 3}, lambda: 5)
    for _ in range(29):
        clock.now += 1
        assert dog.stalled({"t/0": 3}, lambda: None) is None
    fired = []
    for _ in range(12):
        clock.now += 1
        fired.append(dog.stalled({"t/0": 3}, lambda: 5))
    assert fired.index(5) == 9, fired  # at 39 s: ten seconds after the last look that could not read the lag


def test_a_consumer_stuck_with_lag_fires_once_per_stall_time() -> None:
    clock = Clock()
    dog = Watchdog(STALL_S, clock=clock)
    fired = []
    for _ in range(100):  # 50 s stuck with 7 records waiting, looked at every half second
        fired.append(dog.stalled({"t/0": 3}, lambda: 7))
        clock.now += 0.5
    assert [f for f in fired if f] == [7] * 4  # at 10, 20, 30 and 40 s: each new client gets 10 s
