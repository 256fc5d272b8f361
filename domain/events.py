"""What every stored event carries, and the registry of event types.

Events are frozen pydantic models: their declared field types are what restores
UUIDs, datetimes and nested values on the way back from JSON (see persistence.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    RIDER = "rider"
    GRID_OFFICER = "grid_officer"
    DISTRICT_ADMIN = "district_admin"
    AUDITOR = "auditor"
    SERVICE = "service"
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


EVENT_TYPES: dict[str, type[Event]] = {}


class Event(Frozen):
    """Base of every domain event. `schema_version` is bumped when the stored shape
    changes, together with an upcaster in upcasting.py and a sample in tests/samples."""

    schema_version: ClassVar[int] = 1
    aggregate: ClassVar[str] = ""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    meta: Meta

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__name__ in EVENT_TYPES:
            raise TypeError(f"two event types named {cls.__name__}")
        EVENT_TYPES[cls.__name__] = cls

    @property
    def type_name(self) -> str:
        return type(self).__name__
