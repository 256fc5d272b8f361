"""The consumer watchdog's rule, over any run of looks: it fires only when the
stored offsets stood still for the whole stall time while the topics held more,
and it always fires then, within one look."""

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
        elif clock.now - still_since < STALL_S:
            assert fired is None and not asked, "standing still for less than the stall time is not a stall"
        else:
            assert asked, "after the stall time the lag is asked"
            assert fired == (lag or None), "a stall is lag with no progress; idle or broker away is not"
            still_since = clock.now  # the new client (or the idle consumer) gets a whole stall time again


def test_a_consumer_stuck_with_lag_fires_once_per_stall_time() -> None:
    clock = Clock()
    dog = Watchdog(STALL_S, clock=clock)
    fired = []
    for _ in range(100):  # 50 s stuck with 7 records waiting, looked at every half second
        fired.append(dog.stalled({"t/0": 3}, lambda: 7))
        clock.now += 0.5
    assert [f for f in fired if f] == [7] * 4  # at 10, 20, 30 and 40 s: each new client gets 10 s
