"""Timestamps as read models keep them."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from domain.clock import CHINA
from projections.facts import china_day, ts_text

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))


@given(instants)
def test_the_china_day_of_a_utc_timestamp_is_its_date_eight_hours_on(when: datetime) -> None:
    # As pydantic writes it: `…Z`, without the microseconds when they are zero.
    text = when.isoformat().replace("+00:00", "Z")
    assert china_day(text) == when.astimezone(CHINA).date().isoformat()
    assert china_day(when.astimezone(CHINA).isoformat()) == when.astimezone(CHINA).date().isoformat()


@given(instants)
def test_timestamps_become_fixed_width_utc_text_that_sorts_like_time(when: datetime) -> None:
    text = ts_text(when.isoformat().replace("+00:00", "Z"))
    assert len(text) == 27 and datetime.fromisoformat(text) == when
    assert ts_text(when.astimezone(CHINA).isoformat()) == text


def test_a_kafka_message_whose_timestamp_is_not_a_time_is_poison_not_a_crash() -> None:
    from consumers.envelope import PoisonMessage, from_message, to_message
    from projections.facts import Fact

    good = Fact.of("TaskClaimed", "0f6a2d3e-1d2b-4c3a-9e8f-3b2a1c0d9e8f", 2,
                   {"timestamp": "2026-11-02T01:00:00Z", "meta": {}, "rider_id": "r"})
    message = to_message(good, 7)
    assert from_message(message.headers, message.key, message.value) == good
    # Binary mode: the value is the data alone, which a producer may get wrong.
    value = message.value.replace(b'"2026-11-02T01:00:00Z"', b'"yesterday"')
    assert value != message.value
    try:
        from_message(message.headers, message.key, value)
    except PoisonMessage as e:
        assert "yesterday" in str(e)
    else:
        raise AssertionError("a bad timestamp was accepted")
