"""A small base for aggregates: apply events, collect the new ones.

Subclasses write their rules as command methods that call `_trigger`, and their
state changes in `_when`, one `case` per event type. The library's Application
saves them through the CollectEventsProtocol (`collect_events`).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, ClassVar, Iterable, Self, TypeVar
from uuid import UUID

from domain.events import Actor, Event, Frozen, Meta
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

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """A copy whose state can be changed without touching this one. The library's repository
        copies every aggregate it hands out of its cache; copy.deepcopy copied each UUID and frozen
        model too, one by one (a catalogue item's 300 reservations: 70% of a redemption's time)."""
        twin = object.__new__(type(self))
        twin.__dict__.update({name: _state_copy(value, memo) for name, value in self.__dict__.items()})
        return twin

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


# Values no command changes in place: shared between an aggregate and its copy.
_IMMUTABLE = (str, int, float, bool, bytes, type(None), UUID, datetime, date, timedelta, Enum, Frozen)


def _state_copy(value: Any, memo: dict[int, Any]) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    kind = type(value)
    if kind is list:
        return [_state_copy(item, memo) for item in value]
    if kind is set:
        return {_state_copy(item, memo) for item in value}
    if kind is dict:
        return {key: _state_copy(item, memo) for key, item in value.items()}
    if kind is tuple:
        return tuple(_state_copy(item, memo) for item in value)
    names = _field_names(kind)
    if names is not None:
        return _dataclass_copy(value, names, memo)
    return copy.deepcopy(value, memo)  # anything else, as the library would


@functools.cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    return tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None


def _dataclass_copy(value: Any, names: tuple[str, ...], memo: dict[int, Any]) -> Any:
    """A dataclass copied field by field: copy.deepcopy's way through __reduce_ex__ was a quarter of
    a demo day's profile (a rider's month holds an Award for each piece). Through the memo, as deepcopy
    does, so one object held twice (a points lot in `lots` and in `taken_by`) stays one in the copy."""
    twin = memo.get(id(value))
    if twin is None:
        twin = memo[id(value)] = object.__new__(type(value))
        for name in names:
            object.__setattr__(twin, name, _state_copy(getattr(value, name), memo))
    return twin


class WrongStream(LookupError):
    """An id was looked up as the wrong kind of aggregate."""
