"""Events as projections see them: the stored JSON, upcast, not re-validated.

Projections fold the same JSON that is stored and that Kafka carries, so the
embedded feed and the Kafka consumers hand them the same thing, and a rebuild
does not pay for building and validating a model object per event.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from eventsourcing.persistence import StoredEvent

from domain.clock import CHINA
from domain.events import EVENT_TYPES, Event, type_of_topic
from domain.upcasting import upcast



class Fact(NamedTuple):  # a tuple: made a million times a rebuild, faster than a frozen dataclass
    type: str
    stream: str
    version: int
    data: dict[str, Any]
    at: str  # the timestamp as ts_text gives it: worked out once, most projections want it

    @classmethod
    def of(cls, kind: str, stream: str, version: int, data: dict[str, Any]) -> Fact:
        return cls(kind, stream, version, data, ts_text(data["timestamp"]))

    @property
    def actor(self) -> dict[str, str]:
        return self.data["meta"]["actor"]


@lru_cache(maxsize=256)
def _topic(topic: str) -> tuple[str, int]:
    """A topic's event type and current schema version, worked out once per topic."""
    kind = type_of_topic(topic)
    cls = EVENT_TYPES.get(kind)
    return kind, cls.schema_version if cls is not None else 0


def from_stored(stored: StoredEvent, decode: Any = orjson.loads) -> Fact:
    """Decode and upcast one stored event (`decode` is the mapper's, for stores
    that compress or encrypt)."""
    return from_raw(stored.topic, str(stored.originator_id), stored.originator_version, stored.state, decode)


def from_raw(topic: str, stream: str, version: int, state: bytes, decode: Any = orjson.loads) -> Fact:
    """The same from a log row's columns (eventlog), without a StoredEvent."""
    kind, current = _topic(topic)
    data = decode(state)
    schema_version = data.pop("_v", 1)
    if schema_version < current:
        data = upcast(kind, data, schema_version, current)
    return Fact.of(kind, stream, version, data)


def from_event(event: Event) -> Fact:
    """A domain event as it would come back from the store (tests, in-process use)."""
    data = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
    return Fact.of(type(event).__name__, str(event.originator_id), event.originator_version, data)


def ts_text(value: str) -> str:
    """A JSON timestamp as fixed-width UTC text, which sorts like time in both
    databases. Pydantic writes UTC as `…Z` and drops zero microseconds."""
    if value.endswith("Z"):
        if len(value) == 20:  # 2026-11-02T01:00:00Z
            return value[:19] + ".000000Z"
        if len(value) == 27:
            return value
    when = datetime.fromisoformat(value)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ts(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def china_day(value: str) -> str:
    """The day in China (UTC+8 all year) of a JSON timestamp."""
    if value.endswith("Z") and len(value) >= 20:  # UTC: the hour decides the day
        return _china_day_of_utc_hour(value[:13])
    return datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%d")


@lru_cache(maxsize=4096)
def _china_day_of_utc_hour(hour: str) -> str:
    return datetime.fromisoformat(f"{hour}:00:00+00:00").astimezone(CHINA).strftime("%Y-%m-%d")
