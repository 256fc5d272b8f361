"""The record of a command given with an idempotency key.

It is written in the same transaction as the command's own events, as version 1
of a stream named by the key, so the store's unique (stream, version) constraint
is what makes a second attempt fail: no extra table, no window between the two.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.ids import derived_id


class CommandRecorded(Event):
    command: str
    payload_sha256: str
    result: dict[str, Any]


class IdempotencyRecord(Aggregate):
    @staticmethod
    def id_for(key: str) -> UUID:
        return derived_id("idempotency", key)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.command = ""
        self.payload_sha256 = ""
        self.result: dict[str, Any] = {}

    def record(self, ctx: Context, command: str, payload_sha256: str, result: dict[str, Any]) -> None:
        self._trigger(ctx, CommandRecorded, command=command, payload_sha256=payload_sha256, result=result)

    def _when(self, event: Event) -> None:
        match event:
            case CommandRecorded():
                self.command, self.payload_sha256, self.result = event.command, event.payload_sha256, event.result
