"""Each partner's held redemptions with the digest of the code in force, kept by
reading the store's own log, so that the six digits alone can name one.

Like the open clues (clue_index.py): every process keeps its own and, before each
question, reads the redemption events it has not seen yet, so a redemption held a
moment ago in another process is found at the counter. A read model could trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Mapper

from domain.events import topics_of
from domain.redemptions import (RedemptionCodeRenewed, RedemptionConfirmed, RedemptionExpired, RedemptionHeld,
                                RedemptionRefused)
from eventlog import EventLog
from application.log_follower import LogFollower

TOPICS = topics_of((RedemptionHeld, RedemptionCodeRenewed, RedemptionConfirmed, RedemptionRefused,
                    RedemptionExpired))


@dataclass(frozen=True)
class Held:
    redemption_id: UUID
    generation: int  # of the code's key (Redemption.key_owner)
    code_digest: str


class HeldRedemptions(LogFollower):
    topics = TOPICS

    def __init__(self, log: EventLog, mapper: Mapper) -> None:
        super().__init__(log, mapper)
        self.partner_of: dict[UUID, UUID] = {}  # held redemption -> its partner
        self.by_partner: dict[UUID, dict[UUID, Held]] = {}

    def of(self, partner_id: UUID, pending: Sequence[object] = (), head: int | None = None) -> list[Held]:
        """The partner's held redemptions (locked ones and ones whose hold ran out
        too: confirming them says why not). `pending`: events decided but not yet in
        the log (a batch's), seen as if they were; `head`: the log read up to there (log_follower.py)."""
        with self._lock:
            self._catch_up(head)
            held = dict(self.by_partner.get(partner_id, {}))
        for event in pending:
            self._overlay(held, partner_id, event)
        return list(held.values())

    def _apply(self, event: object) -> None:
        match event:
            case RedemptionHeld():
                self.partner_of[event.originator_id] = event.partner_id
                self.by_partner.setdefault(event.partner_id, {})[event.originator_id] = Held(
                    event.originator_id, 0, event.code_digest)
            case RedemptionCodeRenewed():
                partner = self.partner_of.get(event.originator_id)
                if partner is not None:
                    self.by_partner[partner][event.originator_id] = Held(event.originator_id, event.generation,
                                                                         event.code_digest)
            case RedemptionConfirmed() | RedemptionRefused() | RedemptionExpired():
                partner = self.partner_of.pop(event.originator_id, None)
                if partner is not None:
                    held = self.by_partner[partner]
                    held.pop(event.originator_id, None)
                    if not held:
                        del self.by_partner[partner]

    def _overlay(self, held: dict[UUID, Held], partner_id: UUID, event: object) -> None:
        match event:
            case RedemptionHeld() if event.partner_id == partner_id:
                held[event.originator_id] = Held(event.originator_id, 0, event.code_digest)
            case RedemptionCodeRenewed() if event.originator_id in held:
                held[event.originator_id] = Held(event.originator_id, event.generation, event.code_digest)
            case RedemptionConfirmed() | RedemptionRefused() | RedemptionExpired():
                held.pop(event.originator_id, None)
