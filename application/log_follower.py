"""What the indexes read from the log (open clues, places, held redemptions) share: each follows
the events of a few topics, caught up before it is asked.

A command passes the log's head as its unit of work knows it (UnitOfWork.head: the position the
aggregates it reads are current as of); an index already there reads nothing. A report used to
read the log three times (the places' head and page, the open clues' page) for nothing new,
most of the day; now a batch reads once what its commands did not write themselves.
"""

from __future__ import annotations

import threading
from typing import Sequence

from domain.events import stored_name
from eventlog import EventLog, stored_event

PAGE = 500


class LogFollower:
    topics: Sequence[str] = ()

    def __init__(self, log: EventLog, mapper) -> None:  # type: ignore[no-untyped-def]
        self.log, self.mapper = log, mapper
        self.position = 0  # every event of `topics` up to here is applied
        self._lock = threading.Lock()

    def wrote(self, events: Sequence[object], positions: Sequence[int]) -> None:
        """This process wrote `events` at `positions`. An index right before them takes them in as they
        are, rather than reading back from the log what it had in hand: the log's positions are handed
        out in commit order, so nothing of anyone else's lies between (the next batch of a city day
        read its predecessor's clues back, 4-7 % of the writer's time)."""
        if not positions:
            return
        with self._lock:
            if self.position != positions[0] - 1:
                return  # behind, or another writer's rows came first: `_catch_up` reads them all
            topics = set(self.topics)
            for event in events:
                if stored_name(type(event)) in topics:  # type: ignore[arg-type]
                    self._apply(event)
            self.position = positions[-1]

    def _apply(self, event: object) -> None:
        raise NotImplementedError

    def _catch_up(self, head: int | None) -> None:
        """Up to `head` (None: the log's head now), and from there on next time: a position left at
        the last event of the topics would have each call scan every event since (no index by topic)."""
        if head is None:
            head = self.log.head()
        elif self.position >= head:
            return
        while True:
            page = self.log.page(self.position, PAGE, self.topics, stop=head)
            for row in page:
                self._apply(self.mapper.to_domain_event(stored_event(row)))
                self.position = row[0]
            if len(page) < PAGE:
                self.position = max(self.position, head)
                return
