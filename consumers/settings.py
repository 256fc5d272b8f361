"""What the relay and the consumers need of the settings; built from
gridgov.settings by gridgov.bootstrap.kafka_settings."""

from __future__ import annotations

from dataclasses import dataclass


class KafkaNotConfigured(RuntimeError):
    pass


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str
    prefix: str = "gridgov"
    partitions: int = 3
    replication: int = 1
    delivery_timeout_ms: int = 60_000

    @property
    def dlq_topic(self) -> str:
        return f"{self.prefix}.dlq.v1"

    @property
    def checkpoints_topic(self) -> str:
        """Where `gridgov audit sequence` publishes the transparency log's signed checkpoints."""
        return f"{self.prefix}.checkpoints.v1"
