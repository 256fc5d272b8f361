"""The topics the relay writes, created up front with the partitions asked for."""

from __future__ import annotations

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from consumers.envelope import aggregate_of, topic_for
from consumers.settings import KafkaSettings
from domain.events import EVENT_TYPES
from projections.base import Projection

# Internal to the engine: an idempotency key's record is not news for anyone.
NOT_PUBLISHED = {"CommandRecorded"}


def event_topics(settings: KafkaSettings) -> list[str]:
    return sorted({f"{settings.prefix}.{aggregate_of(name)}.v1" for name in EVENT_TYPES if name not in NOT_PUBLISHED})


def source_of(topic: str, partition: int) -> str:
    """A partition's name as a read model's positions table keeps it."""
    return f"{topic}/{partition}"


def projection_topics(projection: Projection, prefix: str) -> list[str]:
    """The topics that carry the events a read model handles."""
    return sorted({topic_for(cls.__name__, prefix) for cls in projection.handles})


def ensure_topics(settings: KafkaSettings) -> None:
    admin = KafkaAdminClient(**settings.client("gridgov-admin", bootstrap_timeout_ms=10_000))
    try:
        existing = set(admin.list_topics())
        wanted = [*event_topics(settings), settings.dlq_topic, settings.checkpoints_topic]
        missing = [NewTopic(name=t, num_partitions=settings.partitions, replication_factor=settings.replication)
                   for t in wanted if t not in existing]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process made them meanwhile
    finally:
        admin.close()


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
