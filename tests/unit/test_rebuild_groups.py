"""How a parallel rebuild shares projections out among its helper processes."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.tasks import TaskPublished
from projections.audit import Audit
from projections.base import Projection
from projections.facts import Fact
from projections.rows import BatchRows, Table
from eventlog import share_of
from projections.registry import named
from eventlog import share_range
from projections.engine.parallel import FillJob, groups_of, workers_wanted
from projections.points import Points
from projections.stats import Stats


class Tally(Points):
    """A projection whose rows sum events of many streams: it cannot be split."""
    by_stream = False


class TasksPerDistrict(Projection):
    """A counting read model: one row per district, added to by every task's events,
    so not keyed by stream (`by_stream` stays False)."""
    name = "tasks_per_district"
    weight = 0.3
    handles = (TaskPublished,)
    tables = {"counts": Table({"district": "TEXT NOT NULL", "tasks": "BIGINT NOT NULL"}, key=("district",))}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [("counts", (fact.data["district"],))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        row = rows.get("counts", fact.data["district"])
        rows.put("counts", {"district": fact.data["district"], "tasks": (row["tasks"] if row else 0) + 1})


@given(st.integers(min_value=2, max_value=8), st.lists(st.uuids().map(str), min_size=1, max_size=20))
def test_helper_i_fills_share_i_of_every_projection_split_by_stream_and_one_helper_the_rest_whole(
        workers: int, streams: list[str]) -> None:
    classes = [*named("all"), TasksPerDistrict, Tally]
    groups = groups_of(classes, workers)
    split = sorted(cls.name for cls in classes if cls.by_stream)
    assert split and len(groups) == workers
    for part, group in enumerate(groups):
        assert sorted(job.cls.name for job in group if job.parts > 1) == split
        assert {(job.part, job.parts) for job in group if job.parts > 1} == {(part, workers)}
    whole = [job for group in groups for job in group if job.parts == 1]
    assert sorted(job.cls.name for job in whole) == sorted(cls.name for cls in classes if not cls.by_stream)
    # Every stream's events reach exactly one copy of each read model: its share's, or the whole one.
    for stream in streams:
        for cls in classes:
            copies = [job for group in groups for job in group if job.cls is cls and job.shadow().owns(stream)]
            assert len(copies) == 1, (cls.name, stream)


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
