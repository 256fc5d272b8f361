"""The Kafka pipeline against the real broker: relay, CloudEvents on the wire,
per-stream order, consumer runners with exactly-once effect, dead letters."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.envelope import aggregate_of
from consumers.relay import Relay
from consumers.runner import ConsumerRunner, source_of
from consumers.settings import KafkaSettings
from consumers.topics import NOT_PUBLISHED, event_topics
from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from domain.events import EVENT_TYPES, type_of_topic
from application.service import GridGovernance
from projections.registry import PROJECTIONS, named
from projections.engine.rebuild import verify
from projections.stores.sqlite import SQLiteStore
from tests.fixtures.kafka import require_kafka
from tests.fixtures.world import START, World, tour_of_every_event_type


@pytest.fixture
def settings() -> KafkaSettings:
    return require_kafka()


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock(START)
    application = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                       "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}), clock=clock)
    world = World(application, clock)
    tour_of_every_event_type(world)
    grid, rider = world.scene()
    for _ in range(30):
        world.piece(grid, rider)
    yield application
    application.close()


def relay_all(app: GridGovernance, settings: KafkaSettings) -> Relay:
    relay = Relay(app, settings)
    while relay.publish_once():
        pass
    assert relay.lag() == 0
    return relay


def all_records(settings: KafkaSettings, topics: list[str]) -> list:  # type: ignore[type-arg]
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=3000)
    partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records = list(consumer)
    consumer.close()
    return records


def published_events(app: GridGovernance) -> list:  # type: ignore[type-arg]
    notifications = app.recorder.select_notifications(start=1, limit=10**6)
    return [n for n in notifications if type_of_topic(n.topic) not in NOT_PUBLISHED]


def test_an_outside_client_reads_cloudevents(app: GridGovernance, settings: KafkaSettings) -> None:
    """kcat, a second and independent Kafka client, reads what the relay wrote."""
    if shutil.which("kcat") is None:
        pytest.fail("kcat is needed for this test (apt-get install kcat; .ci/run installs it)")
    relay_all(app, settings)
    expected = published_events(app)
    seen = []
    for topic in event_topics(settings):
        out = subprocess.run(["kcat", "-b", settings.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                              "-J"], capture_output=True, text=True, timeout=60, check=True).stdout
        seen += [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(seen) == len(expected)
    by_id = {n: n for n in expected}
    assert by_id
    types = set()
    for message in seen:
        headers = dict(zip(message["headers"][::2], message["headers"][1::2]))
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_source"] == "/gridgov"
        assert headers["content-type"] == "application/json"
        assert headers["ce_id"] == f"{headers['ce_subject']}:{headers['ce_streamversion']}"
        assert message["key"] == headers["ce_subject"]
        event_type = headers["ce_type"].removeprefix("gridgov.")
        assert message["topic"] == f"{settings.prefix}.{aggregate_of(event_type)}.v1"
        payload = json.loads(message["payload"])
        assert payload["meta"]["actor"]["role"] and payload["timestamp"]
        types.add(event_type)
    retired = {name for name, cls in EVENT_TYPES.items() if cls.retired}  # no longer written
    assert types == set(EVENT_TYPES) - NOT_PUBLISHED - retired, "every published event type went over the wire"


def test_every_stream_arrives_in_version_order(app: GridGovernance, settings: KafkaSettings) -> None:
    relay_all(app, settings)
    versions: dict[bytes, list[int]] = defaultdict(list)
    for record in all_records(settings, event_topics(settings)):
        versions[record.key].append(int(dict(record.headers)["ce_streamversion"]))
    assert versions
    for key, seen in versions.items():
        assert seen == sorted(seen), f"stream {key!r} out of order: {seen}"


def drain(runner: ConsumerRunner, deadline_s: float = 60) -> None:
    """Poll until the read model's stored offsets reach the end of every partition."""
    partitions = [TopicPartition(t, p) for t in runner.topics
                  for p in sorted(runner.consumer.partitions_for_topic(t) or ())]
    ends = runner.consumer.end_offsets(partitions)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        runner.poll_once(timeout_ms=200)
        stored = runner.stored_offsets()
        if all(stored.get(source_of(tp.topic, tp.partition), -1) >= end - 1 for tp, end in ends.items()):
            return
    raise AssertionError(f"{runner.group} did not catch up: {runner.stored_offsets()} vs {ends}")


def test_read_models_fed_from_kafka_equal_a_fold_of_the_store(app: GridGovernance, settings: KafkaSettings,
                                                             tmp_path: Path) -> None:
    relay_all(app, settings)
    store = SQLiteStore(str(tmp_path / "readmodels.sqlite"))
    runners = [ConsumerRunner(cls(), store, settings) for cls in PROJECTIONS.values()]
    try:
        for runner in runners:
            drain(runner)
        assert verify(app, store, named("all")) == []
        # The whole log published a second time (a relay that lost its position) changes nothing.
        relay = Relay(app, settings, page=10**6)
        relay.publish_after(0, record=False)
        for runner in runners:
            before = runner.stats.duplicates
            drain(runner)
            assert runner.stats.duplicates > before
        assert verify(app, store, named("all")) == []
    finally:
        for runner in runners:
            runner.close()


def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_consumer_goes_on(
        app: GridGovernance, settings: KafkaSettings, tmp_path: Path) -> None:
    relay = Relay(app, settings)
    relay.publish_once()
    topic = f"{settings.prefix}.tasks.v1"
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    producer.send(topic, key=b"not-a-stream", value=b"{not json", headers=[("ce_type", b"gridgov.TaskClaimed")],
                  partition=0).get(timeout=10)
    producer.close()
    while relay.publish_once():
        pass
    store = SQLiteStore(str(tmp_path / "readmodels.sqlite"))
    runner = ConsumerRunner(PROJECTIONS["board"](), store, settings)
    try:
        drain(runner)
        assert runner.stats.dead_letters == 1
        assert verify(app, store, named("board")) == []
    finally:
        runner.close()
    [dead] = all_records(settings, [settings.dlq_topic])
    headers = dict(dead.headers)
    assert dead.value == b"{not json"
    assert headers["dlq_topic"] == topic.encode() and headers["dlq_partition"] == b"0"
    assert headers["dlq_consumer"] == f"{settings.prefix}.projection.board".encode()
    assert b"not a CloudEvent" in headers["dlq_reason"] or b"data is not" in headers["dlq_reason"]


def test_an_operator_can_replay_from_the_start_or_skip_to_the_end(app: GridGovernance, settings: KafkaSettings,
                                                                 tmp_path: Path) -> None:
    relay_all(app, settings)
    store = SQLiteStore(str(tmp_path / "readmodels.sqlite"))
    runner = ConsumerRunner(PROJECTIONS["balances"](), store, settings)
    try:
        drain(runner)
        applied = runner.stats.applied
        assert applied > 0
        runner.reset("earliest")
        assert set(runner.stored_offsets().values()) == {-1}
        runner.seek_to_stored(runner.consumer.assignment())
        drain(runner)
        assert runner.stats.applied == applied, "a replay applies nothing twice"
        assert runner.stats.duplicates >= applied
        runner.reset("latest")
        partitions = [TopicPartition(t, p) for t in runner.topics
                      for p in sorted(runner.consumer.partitions_for_topic(t))]
        ends = runner.consumer.end_offsets(partitions)
        assert runner.stored_offsets() == {source_of(tp.topic, tp.partition): end - 1 for tp, end in ends.items()}
        assert verify(app, store, named("balances")) == []
    finally:
        runner.close()


def test_a_consumer_on_topics_made_a_moment_ago_is_assigned_every_partition(settings: KafkaSettings,
                                                                            tmp_path: Path) -> None:
    # Joining before the broker's metadata lists a new topic got a consumer no
    # partition of it, until kafka-python's next metadata refresh minutes later.
    store = SQLiteStore(str(tmp_path / "readmodels.sqlite"))
    runners = [ConsumerRunner(cls(), store, settings) for cls in PROJECTIONS.values()]  # each makes the topics
    try:
        for runner in runners:
            wanted = {TopicPartition(t, p) for t in runner.topics for p in range(settings.partitions)}
            deadline = time.monotonic() + 30
            while runner.consumer.assignment() != wanted and time.monotonic() < deadline:
                runner.poll_once(timeout_ms=100)
            assert runner.consumer.assignment() == wanted, runner.projection.name
    finally:
        for runner in runners:
            runner.close()
        store.close()
