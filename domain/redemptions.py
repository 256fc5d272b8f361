"""Redemption: a rider trades points for a catalogue item, as a short saga in events.

    RedemptionHeld ──► RedemptionConfirmed   the partner saw the rider's one-time code
                   ├─► RedemptionRefused     the partner could not hand it over
                   └─► RedemptionExpired     nobody came before the hold ran out

Holding moves the points from available to held (PointsHeld) and reserves one of
the item's stock (StockReserved), in the same transaction; confirming spends the
points (PointsSpent); refusing or expiring gives both back (PointsReleased,
StockReturned). The price and the partner are the catalogue's, never the caller's.

The code is six digits drawn from a key of the redemption's own, kept beside the
event store (the key store), never in the events, in an idempotency record nor on
the wire but to the rider: the command's answer, and its replay under the same
Idempotency-Key, read it from the key store again (`code_of`). The event keeps
only the code's HMAC under that key. A plain hash of six digits would give the
code away to anyone who reads the events, the partner first among them, in a
million tries: the code is what proves the rider stood at the counter.

Guessing is bounded. A redemption takes MAX_WRONG_TRIES wrong codes, then locks
(RedemptionLocked) until its rider asks for a new code (RedemptionCodeRenewed:
a key of a new generation, the old code dead; the hold and its time stay). A
partner takes PARTNER_MISSES_PER_DAY wrong codes a China day across all its
redemptions, then may confirm none until the next day (domain/partners.py).
docs/design.md works out what chance that leaves a guesser.
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
from domain.ids import derived_id

MAX_WRONG_TRIES = 5  # per code: then the redemption locks until its rider renews the code


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


class RedemptionCodeMissed(RedemptionEvent):
    """A wrong code was given for it: `tries` wrong ones since its code was issued."""

    partner_id: UUID
    tries: StrictInt = Field(gt=0)


class RedemptionLocked(RedemptionEvent):
    """Too many wrong codes: no code confirms it until its rider renews the code."""

    tries: StrictInt = Field(gt=0)


class RedemptionCodeRenewed(RedemptionEvent):
    """The rider asked for a new code: a key of this generation (the key store's), a new digest."""

    generation: StrictInt = Field(gt=0)
    code_digest: str


class RedemptionRefused(RedemptionEvent):
    reason: str


class RedemptionExpired(RedemptionEvent):
    pass


def code_of(key: bytes) -> str:
    """The six digits a key stands for: whoever holds the key store can show the
    rider its code again; whoever holds only the events cannot."""
    drawn = hmac.new(key, b"gridgov redemption code", hashlib.sha256).digest()
    return f"{int.from_bytes(drawn[:8], 'big') % 1_000_000:06d}"


def digest(key: bytes, redemption_id: UUID, code: str) -> str:
    return hmac.new(key, redemption_id.bytes + code.encode(), hashlib.sha256).hexdigest()


def code_fits(key: bytes, redemption_id: UUID, code: str, code_digest: str) -> bool:
    """Whether `code` is the one in force for a redemption whose event keeps `code_digest`."""
    return hmac.compare_digest(digest(key, redemption_id, code), code_digest)


class Redemption(Aggregate, events=RedemptionEvent):
    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.held: RedemptionHeld | None = None
        self.status = RedemptionStatus.HELD
        self.code_digest = ""
        self.generation = 0  # of the code's key: a renewal takes a key of the next one
        self.wrong_tries = 0  # since the code was issued
        self.locked = False

    @property
    def partner_id(self) -> UUID:
        assert self.held is not None
        return self.held.partner_id

    @staticmethod
    def key_owner(redemption_id: UUID, generation: int) -> UUID:
        """Where the key of a code's generation is kept: the first under the redemption's own id."""
        return redemption_id if generation == 0 else derived_id("redemption-code", f"{redemption_id}:{generation}")

    @property
    def code_key_owner(self) -> UUID:
        return self.key_owner(self.id, self.generation)

    def hold(self, ctx: Context, key: bytes, **facts: object) -> RedemptionHeld:
        return self._trigger(ctx, RedemptionHeld, code_digest=digest(key, self.id, code_of(key)), **facts)

    def confirm(self, ctx: Context, code: str, key: bytes | None) -> None:
        """A wrong code is refused and counted (`missed` is the caller's to keep:
        the refusal's events are saved, errors.KeepsEvents)."""
        held = self._require_open(ctx)
        if self.locked:
            raise errors.RedemptionLocked(f"redemption {self.id} took {self.wrong_tries} wrong codes and is locked "
                                          "until its rider asks for a new code", tries=self.wrong_tries)
        if key is None:  # a store restored without its key table: nothing can prove the hand-over
            raise errors.WrongRedemptionCode(f"redemption {self.id} has no key left to check a code with")
        if not code_fits(key, self.id, code, self.code_digest):
            self._miss(ctx)
            left = MAX_WRONG_TRIES - self.wrong_tries
            raise errors.WrongRedemptionCode(
                "that is not this redemption's code" + (f": {left} tries left" if left else
                                                        ": it is now locked until the rider asks for a new code"),
                tries_left=left)
        self._trigger(ctx, RedemptionConfirmed)

    def renew_code(self, ctx: Context, key: bytes) -> None:
        """A new code (under a key of the next generation, see `key_owner`): the old one is dead, the lock lifted."""
        self._require_open(ctx)
        self._trigger(ctx, RedemptionCodeRenewed, generation=self.generation + 1,
                      code_digest=digest(key, self.id, code_of(key)))

    def _miss(self, ctx: Context) -> None:
        self._trigger(ctx, RedemptionCodeMissed, partner_id=self.partner_id, tries=self.wrong_tries + 1)
        if self.wrong_tries >= MAX_WRONG_TRIES:
            self._trigger(ctx, RedemptionLocked, tries=self.wrong_tries)

    def _require_open(self, ctx: Context) -> RedemptionHeld:
        held = self._require_held()
        if ctx.now >= held.expires_at:
            raise errors.HoldExpired(f"the hold ran out at {held.expires_at.isoformat()}",
                                     expires_at=held.expires_at.isoformat())
        return held

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
                self.held, self.code_digest = event, event.code_digest
            case RedemptionCodeMissed():
                self.wrong_tries = event.tries
            case RedemptionLocked():
                self.locked = True
            case RedemptionCodeRenewed():
                self.generation, self.code_digest = event.generation, event.code_digest
                self.wrong_tries, self.locked = 0, False
            case RedemptionConfirmed():
                self.status = RedemptionStatus.CONFIRMED
            case RedemptionRefused():
                self.status = RedemptionStatus.REFUSED
            case RedemptionExpired():
                self.status = RedemptionStatus.EXPIRED
