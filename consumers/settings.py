"""Kafka settings: one name, one default, read here only."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


class KafkaNotConfigured(RuntimeError):
    pass


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str
    prefix: str = "gridgov"
    partitions: int = 3
    replication: int = 1
    delivery_timeout_ms: int = 60_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSettings:
        env = os.environ if env is None else env
        bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
        if not bootstrap:
            raise KafkaNotConfigured("KAFKA_BOOTSTRAP_SERVERS is not set. Without Kafka the projections are fed "
                                     "in-process from the event store (gridgov demo, gridgov serve).")
        return cls(bootstrap=bootstrap, prefix=env.get("KAFKA_TOPIC_PREFIX", "gridgov"),
                   partitions=int(env.get("KAFKA_PARTITIONS", "3")),
                   replication=int(env.get("KAFKA_REPLICATION", "1")),
                   delivery_timeout_ms=int(env.get("KAFKA_DELIVERY_TIMEOUT_MS", "60000")))

    @property
    def dlq_topic(self) -> str:
        return f"{self.prefix}.dlq.v1"
