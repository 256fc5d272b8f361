"""The OpenAPI document says what the server enforces (issue 24): a client generated
from it checks the same rules before it sends. A pattern never refuses what the server
takes; for months and days it refuses exactly what the server refuses."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings, strategies as st
from pydantic import TypeAdapter, ValidationError

from domain import commands as c
from domain.time_bounds import DAY_PATTERN, INSTANT_PATTERN, MONTH_PATTERN, Day, Instant, Month

DIGITS = st.sampled_from("0123456789０１２９٠٩۰०𝟎")


def takes(kind: Any, value: str) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
        return True
    except ValidationError:
        return False


@given(st.text(min_size=1, max_size=40))
def test_the_pattern_of_visible_text_takes_all_the_server_takes(text: str) -> None:
    for kind in (c.Text, c.Name):
        if takes(kind, text):
            assert re.search(c.VISIBLE["pattern"], text), repr(text)
    if takes(c.Note, text):
        assert re.search(c.PRINTABLE["pattern"], text), repr(text)


@given(st.text(DIGITS, min_size=4, max_size=4), st.text(DIGITS, min_size=2, max_size=2),
       st.text(DIGITS, min_size=2, max_size=2))
@settings(max_examples=300)
def test_a_month_or_a_day_is_taken_exactly_when_its_pattern_matches(year: str, month: str, day: str) -> None:
    assert takes(Month, f"{year}-{month}") == bool(re.search(MONTH_PATTERN, f"{year}-{month}"))
    text = f"{year}-{month}-{day}"
    if takes(Day, text):
        assert re.search(DAY_PATTERN, text)
    elif re.search(DAY_PATTERN, text):  # the pattern cannot know February, April, June, September, November
        assert day in ("29", "30", "31"), text


@given(st.datetimes().map(lambda d: d.isoformat(timespec="seconds")),
       st.sampled_from(["Z", "+00:00", "+08:00", "-12:00", "+14:00", "-14:00", "+14:30", "+05:45"]))
def test_an_instant_the_server_takes_matches_its_pattern(written: str, offset: str) -> None:
    text = written + offset
    if takes(Instant, text):
        assert re.search(INSTANT_PATTERN, text), text
