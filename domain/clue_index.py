"""Open clues, for duplicate detection, kept by reading the store's own log.

Every process that takes reports (API workers, the demo) keeps one; before each
question it reads the clue events it has not seen yet, so two processes agree on
what is open without sharing memory. Only clues inside the time window are kept.
"""

from __future__ import annotations

import threading
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.utils import get_topic

from domain.clues import (Category, ClueClosed, ClueMarkedDuplicate, ClueRejected, ClueReported, DuplicatePolicy,
                          Location, OpenClue, likely_duplicates)

TOPICS = [get_topic(cls) for cls in (ClueReported, ClueMarkedDuplicate, ClueRejected, ClueClosed)]
PAGE = 500


class OpenClueIndex:
    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper, policy: DuplicatePolicy) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.policy = policy
        self.position = 0
        self.open: dict[UUID, OpenClue] = {}
        self._lock = threading.Lock()

    def candidates(self, category: Category, location: Location, at: datetime) -> tuple[UUID, ...]:
        with self._lock:
            self._catch_up()
            self._forget_before(at - self.policy.window)
            return likely_duplicates(category, location, at, self.open.values(), self.policy)

    def _catch_up(self) -> None:
        while True:
            page = self.recorder.select_notifications(start=self.position, limit=PAGE, topics=TOPICS,
                                                      inclusive_of_start=False)
            for notification in page:
                self._apply(self.mapper.to_domain_event(notification))
                self.position = notification.id
            if len(page) < PAGE:
                return

    def _apply(self, event: object) -> None:
        match event:
            case ClueReported():
                self.open[event.originator_id] = OpenClue(event.originator_id, event.category, event.location,
                                                          event.timestamp)
            case ClueMarkedDuplicate() | ClueRejected() | ClueClosed():
                self.open.pop(event.originator_id, None)

    def _forget_before(self, horizon: datetime) -> None:
        for clue_id in [c.id for c in self.open.values() if c.reported_at < horizon]:
            del self.open[clue_id]
