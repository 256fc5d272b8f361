"""How long the relay waits between rounds (consumers/relay.py, `Relay.run`).

The relay used to wait its whole idle time (50 ms) after any round that found nothing
new. With commands a few milliseconds apart a round finds nothing about as often as
not, so the next command waited up to 50 ms before it was published: the end-to-end
p99 at 500 commands/s (bench/pipeline.py). The wait now starts at FIRST_WAIT_S and
doubles while rounds stay empty, up to the idle time.
"""

from __future__ import annotations

import threading

from hypothesis import given, strategies as st

from consumers.relay import FIRST_WAIT_S, Relay, RelayStats

IDLE = 0.05


class Rounds:
    """A relay's rounds as a list of how many events each published, and the waits it took."""

    def __init__(self, found: list[int]) -> None:
        self.found = list(found)
        self.stats = RelayStats()

    def publish_once(self) -> int:
        return self.found.pop(0)

    def position(self) -> int:
        return 0

    def lag(self) -> int:
        return 0


class Stop(threading.Event):
    """Set once every round has run; keeps what the relay waited for instead of waiting."""

    def __init__(self, rounds: Rounds) -> None:
        super().__init__()
        self.rounds = rounds
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return not self.rounds.found

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        return False


@given(st.lists(st.integers(0, 3), min_size=1, max_size=40))
def test_the_wait_after_an_empty_round_starts_short_and_doubles_to_the_idle_time(found: list[int]) -> None:
    rounds = Rounds(found)
    stop = Stop(rounds)
    Relay.run(rounds, stop, idle=IDLE, report_every=3600)  # type: ignore[arg-type]
    expected, empty_in_a_row = [], 0
    for n in found:
        if n:
            empty_in_a_row = 0
            continue
        expected.append(min(FIRST_WAIT_S * 2 ** empty_in_a_row, IDLE))
        empty_in_a_row += 1
    assert stop.waits == expected


def test_a_round_after_events_is_followed_by_a_short_wait_at_most() -> None:
    """The case that set the p99: events, then one empty round, then a command."""
    rounds = Rounds([5, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    stop = Stop(rounds)
    Relay.run(rounds, stop, idle=IDLE, report_every=3600)  # type: ignore[arg-type]
    assert stop.waits[0] == FIRST_WAIT_S < IDLE
    assert stop.waits[-1] == IDLE, "an idle relay goes back to asking twenty times a second"
