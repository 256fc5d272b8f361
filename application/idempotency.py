"""The record of a command given with an idempotency key.

It is written in the same transaction as the command's own events, as version 1
of a stream named by the caller and the key, so the store's unique (stream,
version) constraint is what makes a second attempt fail: no extra table, no
window between the two. A key belongs to its caller (Stripe scopes keys per
account): another caller sending the same key makes a record of its own, and
never sees the first caller's answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate, Context
import orjson

from domain.events import Actor, Event
from domain.ids import derived_id


class IdempotencyEvent(Event):
    aggregate = "idempotency"


class CommandRecorded(IdempotencyEvent):
    command: str
    payload_sha256: str
    result: dict[str, Any]


class IdempotencyRecord(Aggregate, events=IdempotencyEvent):
    @staticmethod
    def id_for(actor: Actor, key: str) -> UUID:
        # JSON, not a joined string: no caller id and key can be cut to look like another's.
        return derived_id("idempotency", orjson.dumps([actor.role.value, actor.id, key]).decode())

    @staticmethod
    def legacy_id_for(key: str) -> UUID:
        """Where records were kept before keys were per caller."""
        return derived_id("idempotency", key)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.command = ""
        self.payload_sha256 = ""
        self.result: dict[str, Any] = {}
        self.actor: Actor | None = None

    def record(self, ctx: Context, command: str, payload_sha256: str, result: dict[str, Any]) -> None:
        self._trigger(ctx, CommandRecorded, command=command, payload_sha256=payload_sha256, result=result)

    def _when(self, event: Event) -> None:
        match event:
            case CommandRecorded():
                self.command, self.payload_sha256, self.result = event.command, event.payload_sha256, event.result
                self.actor = event.meta.actor
