"""What the relay and the consumers need of the settings; built from
gridgov.settings by gridgov.bootstrap.kafka_settings, and handed by bootstrap's
`relay`, `consumer_runner` and `checkpoint_publisher` to what they build."""

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
    min_insync_replicas: int = 1  # KAFKA_MIN_INSYNC_REPLICAS: copies a write needs before it is acknowledged
    delivery_timeout_ms: int = 60_000
    stall_after_s: float = 15.0  # KAFKA_STALL_S: how long the runner's watchdog waits (watchdog.py)

    def client(self, client_id: str, **config: object) -> dict[str, object]:
        """What every client we make is given. kafka-python backs off reconnecting up
        to 30 s by default: after a broker restart the consumers sat idle through that
        backoff with the broker long back. One second keeps the catch-up to seconds."""
        return {"bootstrap_servers": self.bootstrap, "client_id": client_id, "reconnect_backoff_max_ms": 1000,
                **config}

    @property
    def dlq_topic(self) -> str:
        return f"{self.prefix}.dlq.v1"

    @property
    def checkpoints_topic(self) -> str:
        """Where `gridgov audit sequence` publishes the transparency log's signed checkpoints."""
        return f"{self.prefix}.checkpoints.v1"
