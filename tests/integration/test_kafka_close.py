"""kafka-python's consumer and admin clients close their connections on their own
IO thread (consumers/kafka_close.py): closed from the caller's thread, a read the
IO thread resumed in between waited on a socket already closed, and a clean stop
logged a traceback (seen in CI)."""

from __future__ import annotations

import threading

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient
from kafka.net.manager import KafkaConnectionManager

from consumers.topics import ensure_topics, projection_topics
from projections.registry import instances
from tests.fixtures.kafka import require_kafka


@pytest.fixture
def closing_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread each connection manager closed on."""
    threads: list[str] = []
    library_close = KafkaConnectionManager.close

    def recording(manager, node_id=None, timeout_ms=None):  # type: ignore[no-untyped-def]
        if not manager.closed:
            threads.append(threading.current_thread().name)
        return library_close(manager, node_id, timeout_ms)

    monkeypatch.setattr(KafkaConnectionManager, "close", recording)
    return threads


def test_a_consumer_reading_closes_its_connections_on_its_io_thread(closing_threads: list[str]) -> None:
    settings = require_kafka()
    ensure_topics(settings)
    topics = projection_topics(instances("riders")[0], settings.prefix)
    consumer = KafkaConsumer(*topics, **settings.client("gridgov-tests", group_id=f"{settings.prefix}.close",
                                                        enable_auto_commit=False))
    consumer.poll(timeout_ms=500)  # joined, fetching: reads in flight on the IO thread
    consumer.close(autocommit=False)
    assert closing_threads[-1] == "kafka-io-gridgov-tests"
    assert all(name.startswith("kafka-io-") for name in closing_threads), closing_threads  # ensure_topics' too


def test_an_admin_client_closes_its_connections_on_its_io_thread(closing_threads: list[str]) -> None:
    settings = require_kafka()
    admin = KafkaAdminClient(**settings.client("gridgov-tests-admin", bootstrap_timeout_ms=10_000))
    admin.list_topics()
    admin.close()
    assert closing_threads == ["kafka-io-gridgov-tests-admin"]


def test_a_client_closed_twice_closes_once(closing_threads: list[str]) -> None:
    settings = require_kafka()
    admin = KafkaAdminClient(**settings.client("gridgov-tests-admin", bootstrap_timeout_ms=10_000))
    admin.close()
    admin.close()
    assert len(closing_threads) == 1
