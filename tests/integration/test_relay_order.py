"""A page the relay gives up on leaves no later event of a stream in Kafka without the earlier ones.

Found by the three-node test beside two busy loops: five tasks missing from the board, their
streams' versions all applied. The producer had expired the batch holding the tasks' first
events (the brokers were away past the delivery timeout), started a new producer id and sent
the batches after it under that id once the brokers were back: the partition got the tasks'
later events without their first. The relay sent the page again, in order, and the consumers
dropped the first events as repeats (a version below the stream's). Now the producer never
expires a batch itself; the relay gives the page up at its own deadline and stops the producer
at once (consumers/relay.py), so what one producer got into a partition is a prefix of what it
was given.

Here on a broker of the test's own, which clients reach through a gate the test can shut (a
TCP proxy: shut, it drops its connections and refuses new ones, so nothing sent meanwhile
reaches the broker): two records sent with the gate shut are still the producer's past the
delivery timeout (before, it gave them up itself and could go on with later ones under a new
producer id); the relay's wait ends, it stops the producer, the gate opens, and what reached
the partition is a prefix of the two, in order (here: none).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaTimeoutError

from consumers.relay import abandon, await_acknowledged, producer_for, stop_at_first_failure
from consumers.settings import KafkaSettings
from tests.fixtures.kafka import own_broker

BROKER_PORT, GATE_PORT = 9492, 9494  # the broker's controller takes 9493
GIVE_UP_MS = 3000  # the relay's wait for a page (KAFKA_DELIVERY_TIMEOUT_MS), short for the test
DEADLINE_S = 120  # for what must come: the broker's answers, on a loaded machine


class Gate:
    """A TCP proxy to the broker that can be shut."""

    def __init__(self, port: int, target: int) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", port))
        self.is_open = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def shut(self) -> None:
        with self.lock:
            self.is_open = False
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for side in pair:
                side.close()

    def open(self) -> None:
        self.is_open = True

    def close(self) -> None:
        self.shut()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.is_open:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.is_open:
                    break  # shut: what was sent meanwhile never reaches the other side
                sink.sendall(data)
        except OSError:
            pass
        for side in (source, sink):
            side.close()


@pytest.fixture
def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KafkaSettings, Gate]]:
    """A broker of the test's own that tells clients to come through the gate."""
    monkeypatch.setenv("KAFKA_ADVERTISED_PORT", str(GATE_PORT))
    gate = Gate(GATE_PORT, BROKER_PORT)
    try:
        with own_broker(BROKER_PORT, tmp_path / "broker") as settings:
            yield dataclasses.replace(settings, bootstrap=f"127.0.0.1:{GATE_PORT}", delivery_timeout_ms=GIVE_UP_MS), gate
    finally:
        gate.close()


def test_the_producer_keeps_a_record_until_the_relay_gives_it_up_then_sends_nothing_more(
        gated: tuple[KafkaSettings, Gate]) -> None:
    settings, gate = gated
    topic = f"{settings.prefix}.order.v1"
    admin = KafkaAdminClient(**settings.client("gridgov-tests", bootstrap_timeout_ms=10_000))
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    admin.wait_for_topics([topic], timeout_ms=DEADLINE_S * 1000)
    admin.close()
    producer = producer_for(settings)
    producer.send(topic, key=b"task", value=b"before").get(timeout=DEADLINE_S)  # connected, its producer id made
    gate.shut()
    stop = stop_at_first_failure(producer)
    first = producer.send(topic, key=b"task", value=b"v1").add_errback(stop)
    time.sleep(GIVE_UP_MS / 1000 * 0.8)  # the scenario, not a wait: the second event comes later
    second = producer.send(topic, key=b"task", value=b"v2").add_errback(stop)
    time.sleep(GIVE_UP_MS / 1000 * 1.2)  # past the delivery timeout for the first record: nothing may happen
    assert not first.is_done and not second.is_done, "the producer gave a record up by itself"
    with pytest.raises(KafkaTimeoutError):  # the relay's wait ends without Kafka's acknowledgement
        await_acknowledged(producer, [first, second], settings.delivery_timeout_ms / 1000)
    abandon(producer)  # as the relay does with a page that failed
    until(lambda: first.is_done and second.is_done, "the stopped producer fails what it held")
    assert first.failed() and second.failed()
    gate.open()
    # Whatever the given-up producer still had going is in the log before this marker.
    marker = KafkaProducer(**settings.client("gridgov-tests", acks="all"))
    marker.send(topic, key=b"task", value=b"marker").get(timeout=DEADLINE_S)
    marker.close()
    landed = read_until_marker(settings.bootstrap, topic)
    assert landed == [b"v1", b"v2"][:len(landed)], f"a later event without the earlier: {landed}"


def until(done, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        assert time.monotonic() < deadline, f"not within {DEADLINE_S} s: {what}"
        time.sleep(0.01)


def read_until_marker(bootstrap: str, topic: str) -> list[bytes]:
    """What the partition holds after the record sent before the gate shut, up to the marker."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="gridgov-tests", enable_auto_commit=False)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    values: list[bytes] = []
    deadline = time.monotonic() + DEADLINE_S
    try:
        while b"marker" not in values:
            assert time.monotonic() < deadline, f"the marker did not come: {values}"
            for records in consumer.poll(timeout_ms=500).values():
                values += [record.value for record in records]
    finally:
        consumer.close()
    assert values[0] == b"before", values
    return values[1:values.index(b"marker")]
