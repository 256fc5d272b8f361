"""The topics the relay writes, created up front with the partitions, copies and
retention asked for.

Retention by kind of topic (docs/kafka.md, docs/subscribers.md):
- event topics keep every event (retention.ms and retention.bytes -1): Kafka is a
  place a subscriber that arrives years later reads the whole history from, offset 0;
- the checkpoints topic keeps every checkpoint too: an auditor checks any old
  checkpoint against the log (consistency proofs need the old tree heads);
- the dead-letter topic keeps 30 days: a dead letter is a page for an operator, who
  replays it or fixes its cause within days, and its payload (a stored event as it
  was, personal data sealed or not) should not outlive that work in a second place.

A topic made before these rules (the broker's 7-day default) is altered to them at
the next start: a retention shortened by hand would silently drop a late subscriber's
history.
"""

from __future__ import annotations

import time

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaTimeoutError, TopicAlreadyExistsError

from consumers import kafka_close  # noqa: F401  (closes on the IO thread: see the module)
from consumers.envelope import aggregate_of, topic_for
from consumers.settings import KafkaSettings
from domain.events import EVENT_TYPES
from projections.base import Projection

# Internal to the engine: an idempotency key's record is not news for anyone.
NOT_PUBLISHED = {"CommandRecorded"}
KEEP_FOREVER = "-1"
DLQ_RETENTION_MS = str(30 * 24 * 3600 * 1000)
# Generous: a loaded machine's single broker elects leaders for dozens of partitions.
TOPICS_READY_MS = 60_000


def event_topics(settings: KafkaSettings) -> list[str]:
    return sorted({f"{settings.prefix}.{aggregate_of(name)}.v1" for name in EVENT_TYPES if name not in NOT_PUBLISHED})


def source_of(topic: str, partition: int) -> str:
    """A partition's name as a read model's positions table keeps it."""
    return f"{topic}/{partition}"


def projection_topics(projection: Projection, prefix: str) -> list[str]:
    """The topics that carry the events a read model handles."""
    return sorted({topic_for(cls.__name__, prefix) for cls in projection.handles})


def topic_configs(settings: KafkaSettings, topic: str) -> dict[str, str]:
    """What the engine asks of the brokers for `topic` (see the module's docstring)."""
    retention = DLQ_RETENTION_MS if topic == settings.dlq_topic else KEEP_FOREVER
    return {"min.insync.replicas": str(settings.min_insync_replicas), "cleanup.policy": "delete",
            "retention.ms": retention, "retention.bytes": KEEP_FOREVER}


def ensure_topics(settings: KafkaSettings) -> None:
    """Every topic of the prefix made with its partitions, copies and configs; one made
    before with other configs altered to them (the copies of an existing topic are not
    changed: that is a reassignment, an operator's decision, docs/operations.md). Returns
    once the brokers have every partition's leader and show the configs it set."""
    admin = KafkaAdminClient(**settings.client("gridgov-admin", bootstrap_timeout_ms=10_000))
    try:
        existing = set(admin.list_topics())
        wanted = [*event_topics(settings), settings.dlq_topic, settings.checkpoints_topic]
        missing = {t: {"num_partitions": settings.partitions, "replication_factor": settings.replication,
                       "configs": topic_configs(settings, t)} for t in wanted if t not in existing}
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process made them meanwhile
            # The controller's answer comes before the brokers' metadata has the topics
            # (KRaft): a describe or a produce at once found none (CI, stop 41).
            admin.wait_for_topics(list(missing), timeout_ms=TOPICS_READY_MS)
        _align_configs(admin, settings, [t for t in wanted if t in existing])
    finally:
        admin.close()


def _align_configs(admin: KafkaAdminClient, settings: KafkaSettings, topics: list[str]) -> None:
    """Alter what differs (incrementally: the topic's other configs stay as they are)."""
    if not topics:
        return
    described = described_configs(admin, topics)
    changes: dict[str, dict[str, str]] = {}
    for topic in topics:
        have = described.get(topic)
        if not have:
            continue  # made a moment ago by another of our processes, with these configs
        differ = {k: v for k, v in topic_configs(settings, topic).items() if have.get(k) != v}
        if differ:
            changes[topic] = differ
    if changes:
        failed = {t: r for t, r in admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t, c) for t, c in changes.items()],
            incremental=True).get("topic", {}).items() if r != "OK"}
        if failed:
            raise RuntimeError(f"could not set the topics' configs: {failed}")
        _wait_for_configs(admin, changes)


def _wait_for_configs(admin: KafkaAdminClient, wanted: dict[str, dict[str, str]]) -> None:
    """Until the brokers describe what was altered: the controller accepts an alteration
    before the brokers apply it (KRaft; CI once read a week's retention just after)."""
    deadline = time.monotonic() + TOPICS_READY_MS / 1000
    while True:
        described = described_configs(admin, list(wanted))
        pending = sorted(t for t, configs in wanted.items()
                         if any(described.get(t, {}).get(k) != v for k, v in configs.items()))
        if not pending:
            return
        if time.monotonic() > deadline:
            raise KafkaTimeoutError(f"the brokers did not show the new configs of {', '.join(pending)} "
                                    f"within {TOPICS_READY_MS // 1000} s")
        time.sleep(0.1)


def described_configs(admin: KafkaAdminClient, topics: list[str]) -> dict[str, dict[str, str]]:
    """Each topic's configs as the brokers describe them, name to value (a topic they do not know left out)."""
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics],
                                       config_filter="all").get("topic", {})
    return {topic: {name: config["value"] for name, config in configs.items()} for topic, configs in described.items()}


def delete_topics(settings: KafkaSettings) -> list[str]:
    """Every topic of this prefix, deleted: a test's or a simulated day's, once it is over.
    A broker starts by loading every partition it holds; the thousands one test run left
    behind made a restart outlast scripts/kafka.sh's wait on a loaded machine."""
    admin = KafkaAdminClient(**settings.client("gridgov-admin", bootstrap_timeout_ms=10_000))
    try:
        mine = sorted(t for t in admin.list_topics() if t.startswith(f"{settings.prefix}."))
        if mine:
            admin.delete_topics(mine)
        return mine
    finally:
        admin.close()
