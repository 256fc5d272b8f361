"""A small base for aggregates: apply events, collect the new ones.

Subclasses write their rules as command methods that call `_trigger`, and their
state changes in `_when`, one `case` per event type. The library's Application
saves them through the CollectEventsProtocol (`collect_events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Iterable, Self, TypeVar
from uuid import UUID

from domain.events import Actor, Event, Meta
from domain.scope import EVERYWHERE, Scope

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Context:
    """Everything a command needs besides its own payload: who, when, and why."""

    actor: Actor
    now: datetime
    command_id: UUID
    correlation_id: UUID
    # How far the caller's token reaches; handlers check it on what they load.
    scope: Scope = EVERYWHERE

    @property
    def meta(self) -> Meta:
        return Meta(actor=self.actor, correlation_id=self.correlation_id, causation_id=self.command_id)


class Aggregate:
    # The base of this aggregate's events: a stream holds events of one aggregate only.
    events: ClassVar[type[Event]] = Event

    def __init_subclass__(cls, events: type[Event] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if events is not None:
            cls.events = events

    def __init__(self, id: UUID) -> None:
        self.id = id
        self.version = 0
        self._pending: list[Event] = []

    @property
    def exists(self) -> bool:
        return self.version > 0

    def _trigger(self, ctx: Context, event_type: type[E], **fields: Any) -> E:
        event = event_type(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=ctx.now,
            meta=ctx.meta,
            **fields,
        )
        self.apply(event)
        self._pending.append(event)
        return event

    def apply(self, event: Event) -> None:
        self._when(event)
        self.version = event.originator_version

    def _when(self, event: Event) -> None:
        raise NotImplementedError

    def collect_events(self) -> list[Event]:
        events, self._pending = self._pending, []
        return events

    @classmethod
    def project(cls, aggregate: Self | None, events: Iterable[Event]) -> Self | None:
        """The projector the library's Repository folds stored events with."""
        for event in events:
            if aggregate is None:
                if not isinstance(event, cls.events):
                    raise WrongStream(f"{event.originator_id} is a stream of {type(event).aggregate}, "
                                      f"not of {cls.__name__}")
                aggregate = cls(event.originator_id)
            aggregate.apply(event)
        return aggregate


class WrongStream(LookupError):
    """An id was looked up as the wrong kind of aggregate."""
