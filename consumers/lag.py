"""How far the Kafka-fed side is behind, for /readyz, /metrics and the consumers'
watchdog: for each read model, the brokers' end offsets minus the offsets stored
with it; for the relay, the events stored but not yet published.

The watchdog asks the broker (`of`). The API must never wait on it: a broker that
is away holds each request for the client's timeout, and a load balancer's probes
then fill the thread pool every query needs. So the API's KafkaLag is `watch`ed: a
thread of its own fetches the end offsets every REFRESH_S, and the API reads the
latest figures (`latest`, `of_latest`) with their age."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Collection

from kafka import KafkaConsumer, TopicPartition

from consumers import kafka_close  # noqa: F401  (closes on the IO thread: see the module)
from consumers.relay import TRACKING_NAME as RELAY_TRACKING
from consumers.settings import KafkaSettings
from consumers.topics import projection_topics, source_of
from projections.base import Projection
from projections.engine import tracking
from projections.registry import instances
from projections.stores import ReadStore

log = logging.getLogger(__name__)

REFRESH_S = 1.0  # how often the watching thread asks the broker for end offsets
STALE_S = 10.0  # end offsets older than this do not say the read models are caught up


class LagUnknown(Exception):
    """The broker's end offsets are missing or too old to judge by."""


@dataclass(frozen=True)
class EndOffsets:
    """The end offset of every read model's topic partitions ("topic/partition"),
    as the watching thread last had them from the broker."""

    ends: dict[str, int] | None = None  # None: never had from the broker
    at: float | None = None  # time.monotonic() when had
    error: str = ""  # why the last try failed, if it did
    tried: int = 0  # tries so far

    def age(self) -> float | None:
        return None if self.at is None else max(time.monotonic() - self.at, 0.0)


@dataclass
class _Watch:
    thread: threading.Thread
    stop: threading.Event = field(default_factory=threading.Event)


class KafkaLag:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._consumer: KafkaConsumer | None = None
        self._tracking = None  # the relay's tracking recorder, made on first use
        self._lock = threading.Lock()  # one kafka-python client is not for several threads at once
        self._latest = EndOffsets()
        self._watch: _Watch | None = None

    def of(self, store: ReadStore, projection: Projection, sources: Collection[str] | None = None) -> int:
        """Records in the projection's topics (of `sources`, "topic/partition", when
        named) not yet in its read model; raises if the broker is unreachable."""
        with self._lock:
            ends = self._end_offsets(projection_topics(projection, self.settings.prefix))
        stored = tracking.positions(store, projection)
        return sum(max(end - stored.get(source, -1) - 1, 0) for source, end in ends.items()
                   if sources is None or source in sources)

    def watch(self, every: float = REFRESH_S) -> KafkaLag:
        """Keep the end offsets of every read model's topics fresh in a background
        thread (with a Kafka client of its own), for `latest`; idempotent."""
        if self._watch is None:
            thread = threading.Thread(target=self._watching, args=(every,), name="kafka-lag-watch", daemon=True)
            self._watch = _Watch(thread)
            thread.start()
        return self

    def latest(self) -> EndOffsets:
        """The end offsets the watching thread last had: never waits on the broker."""
        return self._latest

    def check_fresh(self, stale_s: float = STALE_S) -> EndOffsets:
        """The watched end offsets; LagUnknown if they are missing or older than `stale_s`."""
        latest = self._latest
        age = latest.age()
        if latest.ends is None or age is None or age > stale_s:
            had = "never answered" if age is None else f"last answered {age:.1f} s ago"
            raise LagUnknown(f"Kafka at {self.settings.bootstrap} {had}" +
                             (f" ({latest.error})" if latest.error else ""))
        return latest

    def of_latest(self, store: ReadStore, projection: Projection, stale_s: float = STALE_S) -> int:
        """`of` from the watched end offsets (`check_fresh`)."""
        latest = self.check_fresh(stale_s)
        assert latest.ends is not None
        stored = tracking.positions(store, projection)
        topics = set(projection_topics(projection, self.settings.prefix))
        return sum(max(end - stored.get(source, -1) - 1, 0) for source, end in latest.ends.items()
                   if source.rsplit("/", 1)[0] in topics)

    def _watching(self, every: float) -> None:
        assert self._watch is not None
        stop = self._watch.stop
        topics = sorted({t for model in instances() for t in projection_topics(model, self.settings.prefix)})
        client: KafkaConsumer | None = None
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    if client is None:
                        client = self._client()
                    ends = self._ends_of(client, topics)
                    self._latest = EndOffsets(ends, time.monotonic(), "", self._latest.tried + 1)
                except Exception as e:  # the broker is away: say so in the figures, try again
                    log.debug("end offsets from %s: %s", self.settings.bootstrap, e)
                    self._latest = EndOffsets(self._latest.ends, self._latest.at, f"{type(e).__name__}: {e}",
                                              self._latest.tried + 1)
                stop.wait(max(every - (time.monotonic() - started), 0.0))
        finally:
            if client is not None:
                client.close()

    def relay_backlog(self, app) -> int:  # type: ignore[no-untyped-def]
        """Events in the store the relay has not yet had acknowledged by Kafka."""
        if self._tracking is None:
            self._tracking = app.factory.tracking_recorder()
        return max(app.head() - (self._tracking.max_tracking_id(RELAY_TRACKING) or 0), 0)

    def _end_offsets(self, topics: list[str]) -> dict[str, int]:
        if self._consumer is None:
            self._consumer = self._client()
        return self._ends_of(self._consumer, topics)

    def _client(self) -> KafkaConsumer:
        # Short waits: the consumers' watchdog asks this from its poll loop.
        return KafkaConsumer(**self.settings.client("gridgov-lag", request_timeout_ms=5_000,
                                                    bootstrap_timeout_ms=5_000, enable_auto_commit=False))

    @staticmethod
    def _ends_of(client: KafkaConsumer, topics: list[str]) -> dict[str, int]:
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(client.partitions_for_topic(topic) or ())]
        offsets = client.end_offsets(partitions) if partitions else {}
        return {source_of(tp.topic, tp.partition): offset for tp, offset in offsets.items()}

    def close(self) -> None:
        if self._watch is not None:
            # The watching thread closes its own client on its way out; it may be inside
            # a broker timeout, and a stop must not wait that out.
            self._watch.stop.set()
            self._watch.thread.join(timeout=1)
        if self._consumer is not None:
            self._consumer.close()
