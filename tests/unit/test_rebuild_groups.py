"""How a parallel rebuild shares projections out among its helper processes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from projections.audit import Audit
from eventlog import share_of
from projections.registry import named
from eventlog import share_range
from projections.engine.parallel import FillJob, groups_of, workers_wanted
from projections.points import Points
from projections.stats import Stats


class Tally(Points):
    """A projection whose rows sum events of many streams: it cannot be split."""
    by_stream = False


def test_helper_i_fills_share_i_of_every_projection() -> None:
    groups = groups_of(named("all"), 2)
    assert [sorted((s.cls.name, s.part, s.parts) for s in group) for group in groups] == [
        sorted((cls.name, part, 2) for cls in named("all")) for part in (0, 1)]


def test_a_projection_that_cannot_be_split_goes_whole_to_the_helper_with_least_to_do() -> None:
    groups = groups_of([Audit, Stats, Tally], 2)
    assert [FillJob(Audit, 0, 2), FillJob(Stats, 0, 2)] == [s for s in groups[0] if s.cls is not Tally]
    assert [FillJob(Audit, 1, 2), FillJob(Stats, 1, 2)] == [s for s in groups[1] if s.cls is not Tally]
    assert sum(FillJob(Tally) in group for group in groups) == 1


def test_helpers_are_one_per_core_but_no_more_than_whole_projections_to_hand_out() -> None:
    assert workers_wanted([Audit], 4) == 4  # split by stream: as many helpers as asked for (REBUILD_WORKERS)
    assert workers_wanted([Tally], 4) == 1  # one projection that cannot be split: no one to share with


def test_one_worker_fills_everything_whole() -> None:
    assert [[(s.cls, s.part, s.parts) for s in g] for g in groups_of(named("all"), 1)] == [
        [(cls, 0, 1) for cls in sorted(named("all"), key=lambda c: -c.weight)]]


@given(st.one_of(st.uuids().map(str), st.text(min_size=1)), st.integers(min_value=1, max_value=8))
def test_every_stream_belongs_to_exactly_one_share(stream: str, parts: int) -> None:
    owners = [part for part in range(parts) if Audit(share=(part, parts)).owns(stream)]
    assert len(owners) == 1


@given(st.uuids(), st.integers(min_value=1, max_value=8))
def test_a_streams_share_is_the_range_the_log_queries_ask_for(stream: uuid.UUID, parts: int) -> None:
    # Both stores compare ids as the UUIDs' bytes do: PostgreSQL's uuid, SQLite's 32 hex digits.
    part = share_of(str(stream), parts)
    low, high = share_range((part, parts))
    assert low.int <= stream.int <= high.int and low.hex <= stream.hex <= high.hex
    assert [p for p in range(parts) if share_range((p, parts))[0].int <= stream.int <= share_range((p, parts))[1].int
            ] == [part]
