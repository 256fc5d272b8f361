"""A new rate schedule takes effect now or later, never in the past: one dated back would
say its rates were in force while the old ones were paying (the admin's "today 00:00"
typed in the afternoon). Now, to the minute the admin typed, is taken. Run in memory,
on SQLite and on PostgreSQL; the rule for every offset is a property of the aggregate."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import errors
from domain.aggregate import Context
from domain.clock import CHINA
from domain.events import Actor, Role
from domain.rates import EFFECTIVE_GRACE, Rate, RateSchedule
from tests.fixtures.world import START, World


def nothing_written(world: World, action, error: type[errors.DomainError]) -> errors.DomainError:  # type: ignore[no-untyped-def]
    head = world.app.head()
    with pytest.raises(error) as caught:
        action()
    assert world.app.head() == head, "a refused command must append nothing"
    return caught.value


def test_today_midnight_typed_in_the_afternoon_is_refused_and_now_to_the_minute_is_taken(world: World) -> None:
    world.scene()  # the district's schedule, in force
    afternoon = world.clock.now().astimezone(CHINA).replace(hour=15, minute=12, second=40)
    world.clock.set(afternoon)
    midnight = afternoon.replace(hour=0, minute=0, second=0)
    refused = nothing_written(world, lambda: world.schedule(effective_from=midnight), errors.ScheduleInThePast)
    assert refused.facts["effective_from"] == midnight.isoformat()
    assert world.schedule(effective_from=afternoon.replace(second=0)) == 2  # now, to the minute the admin typed
    assert world.schedule(effective_from=afternoon + timedelta(days=1)) == 3


def test_the_refusal_is_in_words(api) -> None:  # type: ignore[no-untyped-def]
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    body = {"district": "温江", "rates": {"patrol": {"fen": 500, "points": 5}}, "cap_day_fen": 5000,
            "cap_month_fen": 50000}
    api.command("issue-rate-schedule", {**body, "effective_from": START.isoformat()}, admin)
    past = (START - timedelta(hours=3)).isoformat()
    problem = api.command("issue-rate-schedule", {**body, "effective_from": past}, {**admin, "Accept-Language": "zh-CN"},
                          status=422)
    assert problem["type"] == "urn:gridgov:problem:schedule-in-the-past"
    assert "生效时间" in problem["title"] + problem["detail"], problem


def _context(now):  # type: ignore[no-untyped-def]
    return Context(actor=Actor(id="admin-温江", role=Role.DISTRICT_ADMIN), now=now, command_id=uuid4(),
                   correlation_id=uuid4())


@given(offset=st.integers(min_value=-3 * 86_400, max_value=3 * 86_400))
def test_a_later_version_is_taken_exactly_when_it_is_no_earlier_than_now_less_the_grace(offset: int) -> None:
    schedule = RateSchedule(RateSchedule.id_for("温江"))
    rates = {"patrol": Rate(fen=500, points=5)}
    schedule.issue(_context(START), "温江", START - timedelta(days=30), rates, 100, 1000)  # the first: dated back freely
    now = START + timedelta(hours=6)
    when = now + timedelta(seconds=offset)
    if when >= now - EFFECTIVE_GRACE:
        assert schedule.issue(_context(now), "温江", when, rates, 100, 1000) == 2
    else:
        with pytest.raises(errors.ScheduleInThePast):
            schedule.issue(_context(now), "温江", when, rates, 100, 1000)
        assert len(schedule.versions) == 1
