"""Timestamps as read models keep them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from projections.facts import china_day, ts_text

CHINA = timezone(timedelta(hours=8))
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
