"""How a parallel rebuild shares projections out among its helper processes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from projections.audit import Audit
from projections.catalog import named
from projections.parallel import groups_of


def test_the_audit_trail_is_split_by_stream_and_every_other_projection_goes_whole() -> None:
    groups = groups_of(named("all"), 2)
    assert len(groups) == 2
    shares = [share for group in groups for share in group]
    assert sorted((s.part, s.parts) for s in shares if s.cls is Audit) == [(0, 2), (1, 2)]
    assert {s.cls.name for s in shares if s.cls is not Audit} == {"board", "balances", "points", "stats"}
    assert all(s.parts == 1 for s in shares if s.cls is not Audit)
    assert [s.cls for s in groups[0]].count(Audit) == 1  # one share in each helper, not both in one
    loads = [sum(s.weight for s in group) for group in groups]
    assert max(loads) - min(loads) < max(s.weight for s in shares)


def test_one_worker_fills_everything_whole() -> None:
    assert [[(s.cls, s.part, s.parts) for s in g] for g in groups_of(named("all"), 1)] == [
        [(cls, 0, 1) for cls in sorted(named("all"), key=lambda c: -c.weight)]]


@given(st.one_of(st.uuids().map(str), st.text(min_size=1)), st.integers(min_value=1, max_value=8))
def test_every_stream_belongs_to_exactly_one_share(stream: str, parts: int) -> None:
    owners = [part for part in range(parts) if Audit(share=(part, parts)).owns(stream)]
    assert len(owners) == 1
