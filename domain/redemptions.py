"""Redemption: a rider trades points for a catalogue item, as a short saga in events.

    RedemptionHeld ──► RedemptionConfirmed   the partner saw the rider's one-time code
                   ├─► RedemptionRefused     the partner could not hand it over
                   └─► RedemptionExpired     nobody came before the hold ran out

Holding moves the points from available to held (PointsHeld) and reserves one of
the item's stock (StockReserved), in the same transaction; confirming spends the
points (PointsSpent); refusing or expiring gives both back (PointsReleased,
StockReturned). The price and the partner are the catalogue's, never the caller's.

The code is six digits drawn from the engine's id source and shown to the rider
once (the command's answer, which an Idempotency-Key replays); the event keeps
only its HMAC under a key of the redemption's own, kept beside the event store
(the key store), never in the events nor on the wire. A plain hash of six digits
would give the code away to anyone who reads the events, the partner first among
them, in a million tries: the code is what proves the rider stood at the counter.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, StrictInt

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event


class RedemptionStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    EXPIRED = "expired"


class RedemptionEvent(Event):
    aggregate = "redemptions"


class RedemptionHeld(RedemptionEvent):
    rider_id: UUID
    district: str
    item_id: UUID
    item_version: int
    item_name: str
    partner_id: UUID
    points: StrictInt = Field(gt=0)
    code_digest: str
    expires_at: datetime


class RedemptionConfirmed(RedemptionEvent):
    pass


class RedemptionRefused(RedemptionEvent):
    reason: str


class RedemptionExpired(RedemptionEvent):
    pass


def code_from(secret: UUID) -> str:
    return f"{int.from_bytes(secret.bytes[:8], 'big') % 1_000_000:06d}"


def digest(key: bytes, redemption_id: UUID, code: str) -> str:
    return hmac.new(key, redemption_id.bytes + code.encode(), hashlib.sha256).hexdigest()


class Redemption(Aggregate, events=RedemptionEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.held: RedemptionHeld | None = None
        self.status = RedemptionStatus.HELD

    @property
    def partner_id(self) -> UUID:
        assert self.held is not None
        return self.held.partner_id

    def hold(self, ctx: Context, code: str, key: bytes, **facts: object) -> RedemptionHeld:
        return self._trigger(ctx, RedemptionHeld, code_digest=digest(key, self.id, code), **facts)

    def confirm(self, ctx: Context, code: str, key: bytes | None) -> None:
        held = self._require_held()
        if ctx.now >= held.expires_at:
            raise errors.HoldExpired(f"the hold ran out at {held.expires_at.isoformat()}",
                                     expires_at=held.expires_at.isoformat())
        if key is None:  # a store restored without its key table: nothing can prove the hand-over
            raise errors.WrongRedemptionCode(f"redemption {self.id} has no key left to check a code with")
        if not hmac.compare_digest(digest(key, self.id, code), held.code_digest):
            raise errors.WrongRedemptionCode("that is not this redemption's code")
        self._trigger(ctx, RedemptionConfirmed)

    def refuse(self, ctx: Context, reason: str) -> RedemptionHeld:
        held = self._require_held()
        self._trigger(ctx, RedemptionRefused, reason=reason)
        return held

    def expire(self, ctx: Context) -> RedemptionHeld:
        held = self._require_held()
        if ctx.now < held.expires_at:
            raise errors.HoldNotExpired(f"the hold runs until {held.expires_at.isoformat()}",
                                        expires_at=held.expires_at.isoformat())
        self._trigger(ctx, RedemptionExpired)
        return held

    def _require_held(self) -> RedemptionHeld:
        assert self.held is not None
        if self.status is not RedemptionStatus.HELD:
            raise errors.RedemptionNotHeld(f"redemption {self.id} is already {self.status.value}",
                                           status=self.status.value)
        return self.held

    def _when(self, event: Event) -> None:
        match event:
            case RedemptionHeld():
                self.held = event
            case RedemptionConfirmed():
                self.status = RedemptionStatus.CONFIRMED
            case RedemptionRefused():
                self.status = RedemptionStatus.REFUSED
            case RedemptionExpired():
                self.status = RedemptionStatus.EXPIRED
