"""Kafka's replication settings: min.insync.replicas can never ask for more copies
than a topic has (a producer with acks=all could then never write), and what the
engine asks of the brokers for each kind of topic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.settings import KafkaSettings
from consumers.topics import topic_configs
from gridgov.bootstrap import kafka_settings
from gridgov.settings import SettingsError, load_settings

BROKERS = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092"}


def test_the_single_node_default_asks_one_copy_in_sync() -> None:
    settings = kafka_settings(load_settings(BROKERS))
    assert (settings.replication, settings.min_insync_replicas) == (1, 1)


@given(replication=st.integers(1, 9), min_isr=st.integers(1, 9))
def test_min_insync_replicas_is_at_most_the_replication_or_one_line_refusing_it(replication: int,
                                                                                min_isr: int) -> None:
    env = {**BROKERS, "KAFKA_REPLICATION": str(replication), "KAFKA_MIN_INSYNC_REPLICAS": str(min_isr)}
    if min_isr > replication:
        with pytest.raises(SettingsError) as refused:
            load_settings(env)
        message = str(refused.value)
        assert message.startswith("KAFKA_MIN_INSYNC_REPLICAS=") and "\n" not in message
        assert "KAFKA_REPLICATION" in message
        return
    settings = kafka_settings(load_settings(env))
    assert (settings.replication, settings.min_insync_replicas) == (replication, min_isr)
    for topic in (*settings_topics(settings),):
        assert topic_configs(settings, topic)["min.insync.replicas"] == str(min_isr)


def settings_topics(settings: KafkaSettings) -> list[str]:
    return [f"{settings.prefix}.task.v1", settings.dlq_topic, settings.checkpoints_topic]


def test_event_and_checkpoint_topics_keep_everything_and_dead_letters_a_month() -> None:
    settings = KafkaSettings(bootstrap="127.0.0.1:19092", replication=3, min_insync_replicas=2)
    for topic in (f"{settings.prefix}.task.v1", settings.checkpoints_topic):
        configs = topic_configs(settings, topic)
        assert (configs["retention.ms"], configs["retention.bytes"]) == ("-1", "-1"), topic
        assert configs["cleanup.policy"] == "delete", "compaction would drop all but a key's last event"
    dlq = topic_configs(settings, settings.dlq_topic)
    assert dlq["retention.ms"] == str(30 * 24 * 3600 * 1000) and dlq["retention.bytes"] == "-1"
