"""Open311 keys: the credential a district admin issues to an Open311 client (a civic app, a city's
back-office) and revokes.

A key is a random secret the API makes and shows once. The engine never keeps it: the key's stream is
named by the secret's SHA-256 (`Open311Key.id_for`), so whoever holds the secret finds its stream again
without a read model — a revocation is in force at the very next request — and nothing stored turns back
into the secret. A key of a rider reports clues as that rider; a key of no rider (a service's) only reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event
from domain.ids import derived_id


def key_sha256(api_key: str) -> str:
    """The digest a key's stream is named by (hex): the only form of the secret the engine ever handles."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class Open311Holder:
    """Who holds a key, as its stream says now."""

    key_id: UUID
    district: str
    rider_id: UUID | None
    label: str
    revoked: bool


class Open311KeyEvent(Event):
    aggregate = "open311_keys"


class Open311KeyIssued(Open311KeyEvent):
    """A key issued for the district's Open311 clients: a rider's (reports as the rider) or a service's (reads)."""

    district: str
    rider_id: UUID | None
    label: str
    issued_by: str


class Open311KeyRevoked(Open311KeyEvent):
    reason: str
    by: str


class Open311Key(Aggregate, events=Open311KeyEvent):
    @staticmethod
    def id_for(digest: str) -> UUID:
        return derived_id("open311-key", digest)

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.district = ""
        self.rider_id: UUID | None = None
        self.label = ""
        self.revoked = False

    def issue(self, ctx: Context, district: str, rider_id: UUID | None, label: str) -> None:
        if self.exists:  # the same secret twice: only a caller that chose it could, and it is not a new key
            raise errors.AlreadyRegistered(f"Open311 key {self.id} is already issued", key_id=str(self.id))
        self._trigger(ctx, Open311KeyIssued, district=district, rider_id=rider_id, label=label,
                      issued_by=ctx.actor.id)

    def revoke(self, ctx: Context, reason: str) -> None:
        if self.revoked:
            raise errors.Open311KeyAlreadyRevoked(f"Open311 key {self.label} is already revoked", key_id=str(self.id))
        self._trigger(ctx, Open311KeyRevoked, reason=reason, by=ctx.actor.id)

    def holder(self) -> Open311Holder:
        return Open311Holder(key_id=self.id, district=self.district, rider_id=self.rider_id, label=self.label,
                             revoked=self.revoked)

    def _when(self, event: Event) -> None:
        match event:
            case Open311KeyIssued():
                self.district, self.rider_id, self.label = event.district, event.rider_id, event.label
            case Open311KeyRevoked():
                self.revoked = True
