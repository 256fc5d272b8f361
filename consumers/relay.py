"""The relay: the event store's notification log, published to Kafka.

It reads from its durably tracked position, publishes a page with acks=all
through an idempotent producer (retries keep each key's order), waits for every
acknowledgement, and only then records the page's last position. A crash
re-publishes what was not recorded, never skips; consumers drop the repeats
by stream version, and subscribers by CloudEvent id.

A page that fails (the broker was away longer than the delivery timeout) throws
its producer away. kafka-python's idempotent producer does not recover from
expired batches: its flush() then waits forever on sequence numbers the broker
will never see. A fresh producer gets a fresh producer id and starts clean.

The producer itself never gives a record up (its delivery timeout is NEVER_MS):
the relay does, at KAFKA_DELIVERY_TIMEOUT_MS, and then stops the producer at once.
A producer that expires a batch on its own starts a new producer id and sends its
later batches under it: a stream's later events then reached a partition without
the earlier ones, and when the page was sent again the consumers took the earlier
ones for repeats (their version was below the stream's) and dropped them. Seen in
the three-node test beside two busy loops: five tasks missing from the board. So
whatever one producer gets into a partition is a prefix of what it was given, in
order, and the page sent again after it only repeats (tests/integration/test_relay_order.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from eventsourcing.persistence import Tracking
from kafka import KafkaProducer
from kafka.errors import KafkaTimeoutError

from consumers.envelope import to_message, topic_for
from consumers.settings import KafkaSettings
from consumers.topics import NOT_PUBLISHED, ensure_topics
from eventlog import Raw
from domain.events import type_of_topic
from projections.facts import from_raw

log = logging.getLogger(__name__)
# A round finds nothing new as often as not while commands come every few milliseconds (a round
# takes about as long); waiting the whole idle time then held each command that came meanwhile
# for up to 50 ms, which was the end-to-end p99 at 500 commands/s. So the wait starts short and
# doubles: an idle relay still asks the store about twenty times a second.
FIRST_WAIT_S = 0.002
TRACKING_NAME = "kafka-relay"


NEVER_MS = 2**31 - 1  # the producer's delivery timeout: about 25 days, i.e. it retries until stopped


def producer_for(settings: KafkaSettings, **overrides: object) -> KafkaProducer:
    delivery = settings.delivery_timeout_ms
    config = settings.client("gridgov-relay", acks="all", enable_idempotence=True, retries=2**31 - 1,
                             max_in_flight_requests_per_connection=5, linger_ms=5, batch_size=256 * 1024,
                             request_timeout_ms=min(15_000, delivery // 2), delivery_timeout_ms=NEVER_MS,
                             max_block_ms=delivery)
    config.update(overrides)
    return KafkaProducer(**config)


def abandon(producer: KafkaProducer) -> None:
    """Close a producer whose batches can never complete, without waiting on them."""
    try:
        producer.close(timeout=0)
    except KafkaTimeoutError:
        # close() flushes first and raises on what is pending, before it stops its
        # network thread; stop that thread here, or every failed page leaks one.
        producer._sender.force_close()


def await_acknowledged(producer: KafkaProducer, futures: list, wait_s: float) -> None:  # type: ignore[type-arg]
    """Until Kafka has acknowledged every record of `futures`; raises at the first that
    failed, or after `wait_s` (the caller then abandons the producer)."""
    deadline = time.monotonic() + wait_s
    producer.flush(timeout=wait_s)
    for future in futures:
        future.get(timeout=max(0.0, deadline - time.monotonic()))


def stop_at_first_failure(producer: KafkaProducer) -> object:
    """An errback that stops `producer`'s network thread when a record fails: an error the
    producer does not retry makes it go on under a new epoch with the records after, which
    would reach the partition without the failed one. Runs in that thread, which then ends."""
    def stop(_error: Exception) -> None:
        producer._sender.force_close()
    return stop


@dataclass
class RelayStats:
    published: int = 0
    skipped: int = 0
    dead: int = 0


class Relay:
    def __init__(self, app, settings: KafkaSettings, page: int = 1000) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.settings = settings
        self.page = page
        self.tracking = app.factory.tracking_recorder()
        ensure_topics(settings)
        self._producer: KafkaProducer | None = producer_for(settings)
        self.stats = RelayStats()

    @property
    def producer(self) -> KafkaProducer:
        """Made again on first use after a failed page (not at once: with the broker
        away, making one waits for it, and the relay's loop should be the one waiting)."""
        if self._producer is None:
            self._producer = producer_for(self.settings)
        return self._producer

    def position(self) -> int:
        return self.tracking.max_tracking_id(TRACKING_NAME) or 0

    def lag(self) -> int:
        """Events in the store not yet acknowledged by Kafka."""
        return self.app.head() - self.position()

    def publish_once(self) -> int:
        """Publish one page after the tracked position; returns how many were read."""
        return self.publish_after(self.position())

    def publish_after(self, position: int, record: bool = True) -> int:
        """Publish one page after `position`; with `record`, move the tracked
        position there once Kafka has acknowledged all of it. Without, it is a
        replay (subscribers drop what they have by CloudEvent id or stream version)."""
        rows = self.app.eventlog.page(position, self.page)
        if not rows:
            return 0
        try:
            published = self._publish(rows)
        except Exception:
            self._renew_producer()
            raise
        if record:
            self.tracking.insert_tracking(Tracking(TRACKING_NAME, rows[-1][0]))
        self.stats.published += published
        return len(rows)

    def _publish(self, rows: list[Raw]) -> int:
        """Send a page and wait until Kafka has acknowledged every record of it."""
        producer = self.producer
        stop = stop_at_first_failure(producer)
        futures = []
        for row in rows:
            position, stream, version, topic, state = row
            if type_of_topic(topic) in NOT_PUBLISHED:
                self.stats.skipped += 1
                continue
            try:
                fact = from_raw(topic, stream, version, state, self.app.mapper.decode_state)
                message = to_message(fact, position)
                topic = topic_for(fact.type, self.settings.prefix)
            except Exception as e:  # unreadable in the store itself: tell the DLQ, do not stop the city
                futures.append(self._dead(row, e).add_errback(stop))
                continue
            futures.append(producer.send(topic, key=message.key.encode(), value=message.value,
                                         headers=list(message.headers.items())).add_errback(stop))
        # Raises if any send failed or the brokers did not answer in time: nothing is recorded, all is re-sent.
        await_acknowledged(producer, futures, self.settings.delivery_timeout_ms / 1000)
        return len(futures)

    def _renew_producer(self) -> None:
        log.warning("relay: a page failed; starting a fresh producer and re-sending from the tracked position")
        if self._producer is not None:
            abandon(self._producer)
            self._producer = None

    def _dead(self, row: Raw, error: Exception):  # type: ignore[no-untyped-def]
        position, stream, _, topic, state = row
        self.stats.dead += 1
        log.error("relay: event at position %s cannot be read: %s", position, error)
        return self.producer.send(self.settings.dlq_topic, key=stream.encode(), value=bytes(state), headers=[
            ("dlq_reason", f"{type(error).__name__}: {error}".encode()[:1000]),
            ("dlq_source", b"relay"), ("dlq_position", str(position).encode()), ("dlq_topic", topic.encode())])

    def run(self, stop: threading.Event, idle: float = 0.05, report_every: float = 5.0) -> None:
        """Publish until `stop`. After a round that found nothing new, wait before asking again:
        FIRST_WAIT_S, twice that after each empty round more, up to `idle`."""
        last_report = time.monotonic()
        wait = FIRST_WAIT_S
        while not stop.is_set():
            try:
                if self.publish_once() == 0:
                    stop.wait(wait)
                    wait = min(wait * 2, idle)
                else:
                    wait = FIRST_WAIT_S
            except Exception:
                # The broker is away (restarting, partitioned): keep trying, never skip.
                log.exception("relay: publishing failed; retrying")
                stop.wait(1.0)
            if time.monotonic() - last_report >= report_every:
                last_report = time.monotonic()
                log.info("relay: position %s, lag %s, published %s", self.position(), self.lag(),
                         self.stats.published)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush()
            self._producer.close()
