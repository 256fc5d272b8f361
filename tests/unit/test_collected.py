"""What one save writes is gathered as the library would gather it, without its protocol checks."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import uuid4

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate as LibraryAggregate

from application.service import Collected
from domain.aggregate import Context
from domain.clues import Category, Clue, Location
from domain.events import Actor, Role


def reported() -> Clue:
    ctx = Context(actor=Actor(role=Role.RIDER, id=str(uuid4())), now=datetime(2026, 11, 2, tzinfo=timezone.utc),
                  command_id=uuid4(), correlation_id=uuid4())
    clue = Clue(uuid4())
    clue.report(ctx, grid_id=uuid4(), district="武侯区", reporter_id=uuid4(), category=Category.FIRE_HAZARD,
                text="井盖缺失", location=Location(lat=30.66, lon=104.06), evidence_hashes=(),
                duplicate_candidates=())
    return clue


def gathered(kind: type[ProcessingEvent], *objs: object) -> tuple[list[object], dict[object, object], dict]:
    collected = kind()
    collected.collect_events(*objs, keys=["k"])
    return collected.events, collected.aggregates, collected.saved_kwargs


def test_aggregates_events_and_nones_are_gathered_as_the_library_gathers_them() -> None:
    first, second = reported(), reported()
    twin = first.__deepcopy__({})
    expected = gathered(ProcessingEvent, twin, None, second._pending[0])
    got = gathered(Collected, first, None, second._pending[0])
    assert got[0] == expected[0] and len(got[0]) == 2
    assert list(got[1]) == list(expected[1]) == [first.id]
    assert got[2] == expected[2] == {"keys": ["k"]}
    assert first._pending == [], "the aggregate's events were taken, as the library takes them"


def test_the_librarys_own_aggregates_still_go_the_librarys_way() -> None:
    class Plain(LibraryAggregate):
        pass

    plain = Plain()
    events, aggregates, _ = gathered(Collected, plain)
    assert len(events) == 1 and aggregates == {plain.id: plain}
