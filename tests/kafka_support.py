"""The real broker of scripts/kafka.sh, with topics of a test's own."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from consumers.settings import KafkaSettings

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def require_kafka() -> KafkaSettings:
    host, port = BOOTSTRAP.split(",")[0].rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as e:
        if os.environ.get("CI"):
            pytest.fail(f"Kafka is required in CI and is not reachable at {BOOTSTRAP}: {e}")
        pytest.skip(f"Kafka not reachable at {BOOTSTRAP} (start it with scripts/kafka.sh start): {e}")
    # Each test gets topics of its own: no test reads another's events.
    return KafkaSettings(bootstrap=BOOTSTRAP, prefix=f"t{uuid.uuid4().hex[:10]}")
