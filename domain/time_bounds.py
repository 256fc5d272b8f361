"""Which instants, days and months the engine accepts from a user: the one place
that says so. Every command field and query parameter that is a time, a day or a
month is one of the types below, so each is refused with a 422 naming it, never
carried into arithmetic that overflows (`date.max + 1 day`, year 0) into a 500.

- a month is `YYYY-MM`, from FIRST_MONTH to LAST_MONTH;
- a day is `YYYY-MM-DD`, a real one (2024-02-29, not 2023-02-29), from FIRST_DAY to LAST_DAY;
- an instant is RFC 3339 text with its UTC offset, at most ±14:00 (the widest any
  place uses); its own date and its day in China both within those days. The
  offset and written date are checked before it is converted, so nothing overflows.

Digits are ASCII: `\\d` and `int()` take ２０２６ as 2026, and a month spelt in
full-width digits would be a second month (issue 24, finding 4). The patterns
are in the OpenAPI document too, so a client generated from it checks first.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from domain.clock import CHINA

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
FIRST_MONTH, LAST_MONTH = "2000-01", "2100-12"
MOST_OFFSET = timedelta(hours=14)  # Kiribati's +14:00; the farthest west is −12:00

_YEAR = "(20[0-9]{2}|2100)"  # 2000 … 2100, ASCII only
MONTH_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])$"
DAY_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
INSTANT_PATTERN = (rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]"
                   r"(:[0-5][0-9](\.[0-9]{1,9})?)?([Zz]|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$")
WINDOW = f"{FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()}"


def _refused(rule: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError("out_of_time_bounds", "{rule}; not {value}", {"rule": rule, "value": repr(value)[:60]})


MONTH_RULE = f"a month is YYYY-MM in ASCII digits, {FIRST_MONTH} … {LAST_MONTH}"
DAY_RULE = f"a day is YYYY-MM-DD in ASCII digits, {WINDOW}"
INSTANT_RULE = (f"a time is RFC 3339 with its UTC offset (like 2026-11-01T08:00:00+08:00) in ASCII digits, "
                f"{WINDOW}")


def _month(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(MONTH_PATTERN, value):
        raise _refused(MONTH_RULE, value)
    return value


def _day_text(value: Any) -> Any:
    # Text only: pydantic would take "1700000000" (a Unix time) or a whole timestamp as a day too.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(DAY_PATTERN, value):
        raise _refused(DAY_RULE, value)
    return value


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise _refused(DAY_RULE, value.isoformat())
    return value


def _instant_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(INSTANT_PATTERN, value):
        raise _refused(INSTANT_RULE, value)
    return value


def _instant(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:
        raise PydanticCustomError("naive_time", "times must carry a UTC offset")
    if abs(offset) > MOST_OFFSET:
        raise _refused("a time's UTC offset is at most ±14:00", value.isoformat())
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise _refused(INSTANT_RULE, value.isoformat())
    # Safe now: the written date and the offset are bounded, so the conversion cannot overflow.
    if not FIRST_DAY <= value.astimezone(CHINA).date() <= LAST_DAY:
        raise _refused(f"a time's day in China is within {WINDOW}", value.isoformat())
    return value


Month = Annotated[str, Field(pattern=MONTH_PATTERN, min_length=7, max_length=7, examples=["2026-11"],
                             description=f"{MONTH_RULE} (China time)"), BeforeValidator(_month)]
Day = Annotated[date, BeforeValidator(_day_text), AfterValidator(_day), Field(
    json_schema_extra={"pattern": DAY_PATTERN, "examples": ["2026-11-01"]},
    description=f"a day, YYYY-MM-DD in ASCII digits, {WINDOW} (China time)")]
Instant = Annotated[datetime, BeforeValidator(_instant_text), AfterValidator(_instant), Field(
    json_schema_extra={"pattern": INSTANT_PATTERN, "examples": ["2026-11-01T08:00:00+08:00"]},
    description=f"an instant, RFC 3339 with a UTC offset of at most ±14:00, its day in China within {WINDOW}")]
