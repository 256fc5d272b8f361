"""The embedded source: projections fed straight from the event store's
notification log, in-process, by polling (the library's `subscribe()` is not
implemented for SQLite). Same projection code as the Kafka consumers."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Callable

import orjson
from eventsourcing.persistence import Mapper

from eventlog.transcoder import OrjsonTranscoder
from eventlog import EVERY, EventLog, Raw, first_cursor, share_of, share_range
from eventlog.polling import Polling
from projections.facts import from_raw
from projections.engine.projector import Applied, Delivery, Projector, dead_letter
from projections.engine.tracking import LOG

log = logging.getLogger(__name__)


class LogFeed:
    def __init__(self, log: EventLog, mapper: Mapper, projector: Projector, page: int = 1000) -> None:
        self.log = log
        self.mapper = mapper
        self.projector = projector
        self.page = page
        self.topics = sorted({topic for p in projector.projections for topic in p.topics})
        self.decode = plain_decoder(mapper)
        # A rebuild helper filling one share of a projection skips the others' events
        # before decoding them, unless a whole projection of its group wants them;
        # when it fills the same share of every projection, it does not even read them.
        shares = {(p.part, p.parts) for p in projector.projections}
        self.share = shares.pop() if len(shares) == 1 else EVERY
        self.asks_for_share = log.reads_streams  # else the pages hold every stream
        self.whole_topics = {topic for p in projector.projections if p.parts == 1 for topic in p.topics}
        self.shared: dict[str, list[Any]] = {}
        for p in projector.projections:
            if p.parts > 1:
                for topic in p.topics:
                    self.shared.setdefault(topic, []).append(p)

    def position(self) -> int:
        """Where the slowest of the projections stands in the log."""
        return min(self.projector.positions(LOG).values(), default=0)

    def head(self) -> int:
        return self.log.head()

    def catch_up(self, stop: int | None = None, progress: Callable[[int], None] | None = None,
                 after: int | None = None) -> Applied:
        """Apply everything after `after` (default: the stored position), up to
        `stop` (default: the head now)."""
        stop = self.head() if stop is None else stop
        total = Applied()
        position = self.position() if after is None else after
        while position < stop:
            deliveries, position = self.read(position, stop)
            total.add(self.projector.apply(deliveries, read_to=[(LOG, position)]))
            if progress:
                progress(position)
        return total

    def fill(self, stop: int, progress: Callable[[int], None] | None = None) -> Applied:
        """Fill copies that are empty, from the start of the log up to `stop`.

        When every projection here is written stream by stream, the log is read in
        stream order (the store's own key) instead, each page ending where a stream
        does: every row an event touches is then made in the same page, so nothing
        is looked up in the copy, and rows go in in key order. Otherwise the log is
        read in order from its start (not from the stored position: in PostgreSQL
        another share of a rebuild writes the same positions table)."""
        if not (self.asks_for_share and all(p.by_stream for p in self.projector.projections)):
            return self.catch_up(stop, progress, after=0)
        total = Applied()
        low, high = (bound.int for bound in share_range(self.share))
        after = first_cursor(self.share)
        while True:
            page = self.log.streams_page(after, stop, self.topics, self.page, self.share)
            if not page:
                break
            if len(page) == self.page:
                page = whole_streams(page)
            # Only a stream longer than a page goes on into the next one, whose rows then exist.
            new_streams = page[0][1] != after[0]
            after = (page[-1][1], page[-1][2])
            total.add(self.projector.apply(self._decode(page), new_streams=new_streams))
            if progress:  # how far through the share's ids: they are spread evenly
                progress(stop * (uuid.UUID(after[0]).int - low) // (high - low))
        total.add(self.projector.apply([], read_to=[(LOG, stop)]))
        if progress:
            progress(stop)
        return total

    def read(self, after: int, stop: int) -> tuple[list[Delivery], int]:
        """One page of the log after `after`, decoded; returns it and where it ended."""
        page = self.log.page(after, self.page, self.topics, stop, self.share)
        if not page:
            return [], stop
        end = page[-1][0] if len(page) == self.page else stop
        return self._decode(page), end

    def _decode(self, page: list[Raw]) -> list[Delivery]:
        """The events of a page that projections here fold, decoded. One that cannot
        be decoded is dead-lettered, never retried forever."""
        deliveries = []
        part, parts = self.share
        for position, stream, version, topic, state in page:
            if parts > 1:
                if not self.asks_for_share and share_of(stream, parts) != part:
                    continue
            elif topic not in self.whole_topics and not any(p.owns(stream) for p in self.shared[topic]):
                continue
            try:
                deliveries.append(Delivery(from_raw(topic, stream, version, state, self.decode), LOG, position))
            except Exception as e:
                with self.projector.store.transaction() as tx:
                    dead_letter(tx, "*", LOG, position, stream, version, topic, repr(e))
        return deliveries


def whole_streams(page: list[Raw]) -> list[Raw]:
    """A page read in stream order without its last stream, which may go on in the
    next page; unless that stream is all there is."""
    last, end = page[-1][1], len(page)
    while end and page[end - 1][1] == last:
        end -= 1
    return page[:end] or page


def plain_decoder(mapper: Mapper) -> Callable[[bytes], Any]:
    """orjson itself when the store neither encrypts nor compresses: two Python
    calls fewer per event, which a rebuild of millions notices."""
    if not mapper.cipher and not mapper.compressor and isinstance(mapper.transcoder, OrjsonTranscoder):
        return orjson.loads
    return mapper.decode_state


class Follower(Polling):
    """Keeps projections caught up in a background thread (the embedded server)."""

    def __init__(self, feed: LogFeed, interval: float = 0.05) -> None:
        self.feed = feed
        super().__init__("projection-follower", lambda stop: feed.catch_up(), interval)
