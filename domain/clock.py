"""Time as an injectable dependency, so claim expiry and effective dates are testable."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol

# China has one time zone and no daylight saving: day and month caps follow it.
CHINA = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to: tests and the deterministic demo."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(timezone.utc)


def local_day(when: datetime) -> str:
    return when.astimezone(CHINA).strftime("%Y-%m-%d")


def local_month(when: datetime) -> str:
    return when.astimezone(CHINA).strftime("%Y-%m")


def month_before(month: str, months: int) -> str:
    """`2026-03`, 5 -> `2025-10`."""
    year, m = map(int, month.split("-"))
    index = year * 12 + (m - 1) - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
