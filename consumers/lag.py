"""How far each Kafka-fed read model is behind its topics, for /readyz and
/metrics: the brokers' end offsets minus the offsets stored with the read model."""

from __future__ import annotations

import threading

from kafka import KafkaConsumer, TopicPartition

from consumers.runner import source_of
from consumers.settings import KafkaSettings
from consumers.topics import projection_topics
from projections.base import Projection
from projections.engine import tracking
from projections.stores import ReadStore


class KafkaLag:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._consumer: KafkaConsumer | None = None
        self._lock = threading.Lock()  # one kafka-python client is not for several threads at once

    def of(self, store: ReadStore, projection: Projection) -> int:
        """Records in the projection's topics not yet in its read model; raises if the broker is unreachable."""
        with self._lock:
            ends = self._end_offsets(projection_topics(projection, self.settings.prefix))
        stored = tracking.positions(store, projection)
        return sum(max(end - stored.get(source, -1) - 1, 0) for source, end in ends.items())

    def _end_offsets(self, topics: list[str]) -> dict[str, int]:
        if self._consumer is None:
            self._consumer = KafkaConsumer(bootstrap_servers=self.settings.bootstrap, client_id="gridgov-lag",
                                           request_timeout_ms=5_000,
                                           enable_auto_commit=False)
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(self._consumer.partitions_for_topic(topic) or ())]
        offsets = self._consumer.end_offsets(partitions) if partitions else {}
        return {source_of(tp.topic, tp.partition): offset for tp, offset in offsets.items()}

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
