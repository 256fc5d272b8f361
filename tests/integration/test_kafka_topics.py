"""The topics the engine makes on the real broker keep what they should: every event
and checkpoint for ever, dead letters a month; a topic made before with the broker's
7-day default is altered to keep everything at the next start."""

from __future__ import annotations

from kafka.admin import KafkaAdminClient

from consumers.settings import KafkaSettings
from consumers.topics import described_configs, event_topics, ensure_topics, topic_configs
from tests.fixtures.kafka import require_kafka

WEEK_MS = str(7 * 24 * 3600 * 1000)


def configs_of(settings: KafkaSettings, topics: list[str]) -> dict[str, dict[str, str]]:
    admin = KafkaAdminClient(**settings.client("gridgov-tests", bootstrap_timeout_ms=10_000))
    try:
        described = described_configs(admin, topics)
    finally:
        admin.close()
    return {t: described[t] for t in topics}


def all_topics(settings: KafkaSettings) -> list[str]:
    return [*event_topics(settings), settings.dlq_topic, settings.checkpoints_topic]


def test_topics_are_made_keeping_every_event_and_checkpoint_and_dead_letters_a_month() -> None:
    settings = require_kafka()
    ensure_topics(settings)
    # Ready when ensure_topics returns: every partition has a leader, every config is there.
    admin = KafkaAdminClient(**settings.client("gridgov-tests", bootstrap_timeout_ms=10_000))
    try:
        described = admin.describe_topics(all_topics(settings))
    finally:
        admin.close()
    assert sorted(t["name"] for t in described) == sorted(all_topics(settings))
    assert all(p["leader_id"] >= 0 for t in described for p in t["partitions"]), described
    for topic, have in configs_of(settings, all_topics(settings)).items():
        for name, wanted in topic_configs(settings, topic).items():
            assert have.get(name) == wanted, (topic, name, have)
    assert configs_of(settings, [settings.dlq_topic])[settings.dlq_topic]["retention.ms"] == str(2_592_000_000)


def test_topics_made_before_with_a_week_of_retention_are_altered_to_keep_everything() -> None:
    settings = require_kafka()
    admin = KafkaAdminClient(**settings.client("gridgov-tests", bootstrap_timeout_ms=10_000))
    try:  # as the engine made them before: the broker's default, a week
        admin.create_topics({t: {"num_partitions": 1, "replication_factor": 1,
                                 "configs": {"retention.ms": WEEK_MS, "cleanup.policy": "delete"}}
                             for t in all_topics(settings)}, wait_for_metadata=True)
    finally:
        admin.close()
    assert {c["retention.ms"] for c in configs_of(settings, all_topics(settings)).values()} == {WEEK_MS}
    ensure_topics(settings)
    for topic, have in configs_of(settings, all_topics(settings)).items():
        assert {name: have[name] for name in topic_configs(settings, topic)} == topic_configs(settings, topic), topic
    assert configs_of(settings, event_topics(settings))[event_topics(settings)[0]]["retention.ms"] == "-1"
