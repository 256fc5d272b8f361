"""How far the Kafka-fed side is behind, for /readyz, /metrics and the consumers'
watchdog: for each read model, the brokers' end offsets minus the offsets stored
with it; for the relay, the events stored but not yet published."""

from __future__ import annotations

import threading
from typing import Collection

from kafka import KafkaConsumer, TopicPartition

from consumers.relay import TRACKING_NAME as RELAY_TRACKING
from consumers.settings import KafkaSettings
from consumers.topics import projection_topics, source_of
from projections.base import Projection
from projections.engine import tracking
from projections.stores import ReadStore


class KafkaLag:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._consumer: KafkaConsumer | None = None
        self._tracking = None  # the relay's tracking recorder, made on first use
        self._lock = threading.Lock()  # one kafka-python client is not for several threads at once

    def of(self, store: ReadStore, projection: Projection, sources: Collection[str] | None = None) -> int:
        """Records in the projection's topics (of `sources`, "topic/partition", when
        named) not yet in its read model; raises if the broker is unreachable."""
        with self._lock:
            ends = self._end_offsets(projection_topics(projection, self.settings.prefix))
        stored = tracking.positions(store, projection)
        return sum(max(end - stored.get(source, -1) - 1, 0) for source, end in ends.items()
                   if sources is None or source in sources)

    def relay_backlog(self, app) -> int:  # type: ignore[no-untyped-def]
        """Events in the store the relay has not yet had acknowledged by Kafka."""
        if self._tracking is None:
            self._tracking = app.factory.tracking_recorder()
        return max(app.head() - (self._tracking.max_tracking_id(RELAY_TRACKING) or 0), 0)

    def _end_offsets(self, topics: list[str]) -> dict[str, int]:
        if self._consumer is None:
            # Short waits: the consumers' watchdog asks this from its poll loop.
            self._consumer = KafkaConsumer(**self.settings.client("gridgov-lag", request_timeout_ms=5_000,
                                                                  bootstrap_timeout_ms=5_000,
                                                                  enable_auto_commit=False))
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(self._consumer.partitions_for_topic(topic) or ())]
        offsets = self._consumer.end_offsets(partitions) if partitions else {}
        return {source_of(tp.topic, tp.partition): offset for tp, offset in offsets.items()}

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
