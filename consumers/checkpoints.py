"""Publishing the transparency log's signed checkpoints on Kafka, for services
that watch the log (a witness, a committee's archive): one record per checkpoint,
the signed note as its value, the log's origin as its key (so they stay in order)."""

from __future__ import annotations

from consumers.relay import producer_for
from consumers.settings import KafkaSettings
from consumers.topics import ensure_topics


class CheckpointPublisher:
    def __init__(self, settings: KafkaSettings, origin: str) -> None:
        ensure_topics(settings)
        self.topic = settings.checkpoints_topic
        self.origin = origin
        # A checkpoint Kafka cannot take in time is given up (the next one says more): the
        # sequencer must not wait on the brokers, as the relay does.
        self.producer = producer_for(settings, client_id="gridgov-sequencer", linger_ms=0,
                                     delivery_timeout_ms=settings.delivery_timeout_ms)

    def __call__(self, note: str) -> None:
        self.producer.send(self.topic, key=self.origin.encode(), value=note.encode(),
                           headers=[("content-type", b"text/plain; charset=utf-8")])
        self.producer.flush()

    def close(self) -> None:
        self.producer.close(timeout=5)
