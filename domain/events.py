"""What every stored event carries, and the registry of event types.

Events are frozen pydantic models: their declared field types are what restores
UUIDs, datetimes and nested values on the way back from JSON (see persistence.py).

Names are part of the stored data, so they are declared, never module paths:

- each aggregate's events share a base that sets `aggregate` (`TaskEvent`:
  "tasks"); it names the Kafka topic they are published on;
- each event is stored and published as `gridgov.<ClassName>` (`stored_name`),
  its schema version beside it. A class name is therefore forever: rename one
  and the stored history no longer reads.

Events stored before names were declared carry the module path of the time,
`domain.<aggregate>:<ClassName>`; `type_of_topic` reads both, and `topics_of`
gives both, for queries that filter the log by type.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Iterable
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    RIDER = "rider"
    GRID_OFFICER = "grid_officer"
    DISTRICT_ADMIN = "district_admin"
    AUDITOR = "auditor"
    SERVICE = "service"
    # A shop, canteen or station handing rewards over: confirms or refuses its own redemptions.
    PARTNER = "partner"
    # The engine itself: claim-expiry sweeps, remedies carried out on a decision.
    SYSTEM = "system"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Frozen):
    id: str
    role: Role


class Meta(Frozen):
    """Who caused an event and in answer to what: an auditor's first question."""

    actor: Actor
    correlation_id: UUID
    causation_id: UUID


PREFIX = "gridgov."
EVENT_TYPES: dict[str, type[Event]] = {}  # by class name: every concrete event type


class Event(Frozen):
    """Base of every domain event. `schema_version` is bumped when the stored shape
    changes, together with an upcaster in upcasting.py and a sample in tests/samples."""

    schema_version: ClassVar[int] = 1
    # No longer written (old streams still hold it, so it stays readable and shown).
    retired: ClassVar[bool] = False
    # Set by each aggregate's base of events; its events' Kafka topic is named for it.
    aggregate: ClassVar[str] = ""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    meta: Meta

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "aggregate" in cls.__dict__:
            return  # a base of one aggregate's events, not an event itself
        if not cls.aggregate:
            raise TypeError(f"{cls.__name__} derives from Event directly; derive it from its aggregate's base")
        if cls.__name__ in EVENT_TYPES:
            raise TypeError(f"two event types named {cls.__name__}")
        EVENT_TYPES[cls.__name__] = cls

    @property
    def type_name(self) -> str:
        return type(self).__name__


def stored_name(cls: type[Event]) -> str:
    """`TaskClaimed` -> `gridgov.TaskClaimed`: the type as stored and published."""
    return PREFIX + cls.__name__


def type_of_topic(topic: str) -> str:
    """The event type a stored topic names: `gridgov.TaskClaimed`, or the legacy
    `domain.tasks:TaskClaimed`, -> `TaskClaimed`."""
    if topic.startswith(PREFIX):
        return topic[len(PREFIX):]
    return topic.rpartition(":")[2]


def event_class(topic: str) -> type[Event]:
    try:
        return EVENT_TYPES[type_of_topic(topic)]
    except KeyError:
        raise LookupError(f"no event type is stored as {topic!r}") from None


def topics_of(classes: Iterable[type[Event]]) -> list[str]:
    """Every topic events of these types may be stored under: the name, and the
    legacy module path for the history written before names were declared."""
    return sorted({topic for cls in classes for topic in (stored_name(cls), legacy_topic(cls))})


def legacy_topic(cls: type[Event]) -> str:
    # Until names were declared, every aggregate's events lived in domain/<aggregate>.py.
    return f"domain.{cls.aggregate}:{cls.__name__}"
