"""A consumer runner: one projection, one consumer group, exactly-once effect.

For each batch it applies the events and records the partitions' offsets in the
same read-model transaction (projections/projector.py), so a redelivered message
changes nothing. On every partition assignment it seeks to the offsets stored
with the read model, never to a position remembered in memory (a stale in-memory
position after a rebalance is how Axon's Kafka extension once lost events,
extension-kafka#25). Kafka's own committed offsets are advisory only.

A message that cannot be read goes to the dead-letter topic with the reason and
where it came from; the runner goes on and counts it.

A client that stops delivering while its topics hold more is replaced by a
fresh one (watchdog.py); each replacement is logged and counted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from consumers import kafka_close  # noqa: F401  (closes on the IO thread: see the module)
from consumers.envelope import PoisonMessage, from_message
from consumers.lag import KafkaLag
from consumers.settings import KafkaSettings
from consumers.topics import ensure_topics, projection_topics, source_of
from consumers.watchdog import Watchdog, create_restarts, record_restart
from projections.base import Projection
from projections.engine import tracking
from projections.engine.projector import Delivery, Projector
from projections.stores import ReadStore

log = logging.getLogger(__name__)


@dataclass
class RunnerStats:
    applied: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0
    restarts: int = 0


class SeekToStoredPositions(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    def on_partitions_revoked(self, revoked):  # type: ignore[no-untyped-def]
        pass  # nothing to hand over: every applied offset is already in the read model

    def on_partitions_assigned(self, assigned):  # type: ignore[no-untyped-def]
        self.runner.seek_to_stored(assigned)


class ConsumerRunner:
    def __init__(self, projection: Projection, store: ReadStore, settings: KafkaSettings) -> None:
        self.projection = projection
        self.settings = settings
        self.projector = Projector(store, [projection])
        self.projector.create_tables()
        with store.transaction() as tx:
            store.lock_tables(tx)  # every consumer makes it at start; PostgreSQL's IF NOT EXISTS races
            create_restarts(tx)
        ensure_topics(settings)
        self.topics = projection_topics(projection, settings.prefix)
        self.group = f"{settings.prefix}.projection.{projection.name}"
        self.consumer = self._joined_client()
        self.dlq = KafkaProducer(**settings.client("gridgov-dlq", acks="all"))
        self.watchdog = Watchdog(settings.stall_after_s)
        self.client_lost = False  # the watchdog closed a client and could not make the next one yet
        self.lag = KafkaLag(settings)  # a client of its own: the group's may be the one that is stuck
        self.stats = RunnerStats()

    def _joined_client(self) -> KafkaConsumer:
        consumer = KafkaConsumer(**self.settings.client(
            f"gridgov-{self.projection.name}", group_id=self.group, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=2000, session_timeout_ms=10_000,
            heartbeat_interval_ms=2_000, max_poll_interval_ms=60_000, metadata_max_age_ms=30_000))
        self.consumer = consumer
        try:
            self.await_partitions()
            consumer.subscribe(self.topics, listener=SeekToStoredPositions(self))
        except Exception:
            consumer.close(autocommit=False, timeout_ms=1_000)
            raise
        return consumer

    def await_partitions(self, timeout_s: float = 30.0) -> None:
        """Wait until the broker's metadata lists every partition of our topics.
        A topic created a moment ago may not be there yet; a consumer joining the
        group then is assigned none of its partitions, and kafka-python only notices
        them at its next metadata refresh (seen in CI: a read model behind until then)."""
        deadline = time.monotonic() + timeout_s
        while missing := [t for t in self.topics if not self.consumer.partitions_for_topic(t)]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.group}: no partitions for {missing} after {timeout_s:.0f} s")
            time.sleep(0.2)

    def stored_offsets(self) -> dict[str, int]:
        with self.projector.store.transaction() as tx:
            return tracking.positions_in(tx, self.projection)

    def seek_to_stored(self, partitions) -> None:  # type: ignore[no-untyped-def]
        stored = self.stored_offsets()
        for tp in partitions:
            offset = stored.get(source_of(tp.topic, tp.partition))
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset + 1)
        log.info("%s: assigned %s, seeking to stored offsets", self.group, sorted(map(str, partitions)))

    def poll_once(self, timeout_ms: int = 200) -> int:
        batch = self.consumer.poll(timeout_ms=timeout_ms)
        records = [r for rs in batch.values() for r in rs]
        if not records:
            return 0
        deliveries, poison = [], []
        for r in records:
            try:
                deliveries.append(Delivery(from_message(r.headers, r.key, r.value), source_of(r.topic, r.partition),
                                           r.offset))
            except PoisonMessage as e:
                poison.append((r, str(e)))
        if poison:
            self._dead_letter(poison)
        result = self.projector.apply(deliveries, read_to=[(source_of(r.topic, r.partition), r.offset)
                                                           for r, _ in poison])
        self.stats.applied += result.applied
        self.stats.duplicates += result.duplicates
        self.stats.batches += 1
        try:
            # Advisory (the read model holds the truth), so not waited for: a synchronous commit was
            # 4–5 µs of a record's ~70 (docs/benchmarks.md). Tools that show a group's lag still see it.
            self.consumer.commit_async(callback=self._commit_done)
        except Exception as e:  # a rebalance in progress; the stored offsets decide anyway
            log.info("%s: offset commit skipped: %s", self.group, e)
        return len(records)

    def _commit_done(self, offsets, response) -> None:  # type: ignore[no-untyped-def]
        if isinstance(response, Exception):
            log.info("%s: offset commit skipped: %s", self.group, response)

    def _dead_letter(self, poison) -> None:  # type: ignore[no-untyped-def]
        futures = [self.dlq.send(self.settings.dlq_topic, key=r.key, value=r.value, headers=[
            *(r.headers or []), ("dlq_reason", reason.encode()[:1000]), ("dlq_consumer", self.group.encode()),
            ("dlq_topic", r.topic.encode()), ("dlq_partition", str(r.partition).encode()),
            ("dlq_offset", str(r.offset).encode())]) for r, reason in poison]
        self.dlq.flush(timeout=60)  # raises rather than hang with the broker away; the batch is read again
        for future in futures:
            future.get(timeout=30)  # the offset is recorded only once the DLQ has it
        self.stats.dead_letters += len(poison)
        for r, reason in poison:
            log.warning("%s: %s/%s@%s dead-lettered: %s", self.group, r.topic, r.partition, r.offset, reason)

    def run(self, stop: threading.Event, check_every_s: float = 1.0) -> None:
        next_check = time.monotonic() + check_every_s
        while not stop.is_set():
            if self.client_lost and not self._replace_client():
                stop.wait(1.0)
                continue
            try:
                self.poll_once()
            except Exception:
                log.exception("%s: batch failed; it will be read again", self.group)
                stop.wait(1.0)
                try:
                    self.seek_to_stored(self.consumer.assignment())
                except Exception:  # the client itself is broken: the watchdog replaces it once it counts
                    log.exception("%s: cannot seek to the stored offsets", self.group)
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + check_every_s
                try:
                    self.check_progress()
                except Exception:  # the watchdog must not be what stops the worker
                    log.exception("%s: watchdog check failed; trying again at the next look", self.group)

    def check_progress(self) -> None:
        """The watchdog's look at this instance's partitions (the group's, when it has
        none): lag with stored offsets standing still means a new client."""
        mine = {source_of(tp.topic, tp.partition) for tp in self.consumer.assignment()} or None
        stored = self.stored_offsets()
        watched = stored if mine is None else {source: stored.get(source, -1) for source in sorted(mine)}
        behind = self.watchdog.stalled(watched, lambda: self._lag_or_none(mine))
        if behind:
            # What the stuck client believed, for whoever reads the log to find the cause.
            assigned = len(mine or ())
            self.restart_client(f"{behind:,} records behind and no offset stored for "
                                f"{self.watchdog.stall_after_s:g} s ({assigned} partitions assigned)")

    def _lag_or_none(self, sources: set[str] | None) -> int | None:
        try:
            return self.lag.of(self.projector.store, self.projection, sources)
        except Exception as e:  # the broker is away: its outage, not our hang
            log.info("%s: lag unknown (%s); not a stall", self.group, e)
            return None

    def restart_client(self, reason: str) -> None:
        log.warning("%s: watchdog: %s; replacing the Kafka client, resuming from the stored offsets",
                    self.group, reason)
        self.stats.restarts += 1
        record_restart(self.projector.store, self.projection.name, reason)
        try:
            self.consumer.close(autocommit=False, timeout_ms=5_000)
        except Exception as e:  # a client in a bad way may not even close cleanly; it is dropped anyway
            log.info("%s: closing the old client: %s", self.group, e)
        self._replace_client()

    def _replace_client(self) -> bool:
        """A new client joined to the group; False (and tried again by `run`) while
        one cannot be made, e.g. with the broker away."""
        try:
            self._joined_client()
        except Exception as e:
            self.client_lost = True
            log.warning("%s: cannot make a new Kafka client yet (%s: %s); trying again", self.group,
                        type(e).__name__, e)
            return False
        self.client_lost = False
        return True

    def reset(self, to: str) -> None:
        """Point the read model's stored offsets at `earliest`, `latest` or an
        ISO-8601 time, for an operator replaying or skipping. Replaying is safe:
        events already applied are dropped by stream version."""
        partitions = [TopicPartition(t, p) for t in self.topics
                      for p in sorted(self.consumer.partitions_for_topic(t) or ())]
        if to == "earliest":
            offsets = {tp: o - 1 for tp, o in self.consumer.beginning_offsets(partitions).items()}
        elif to == "latest":
            offsets = {tp: o - 1 for tp, o in self.consumer.end_offsets(partitions).items()}
        else:
            millis = int(datetime.fromisoformat(to).timestamp() * 1000)
            found = self.consumer.offsets_for_times({tp: millis for tp in partitions})
            ends = self.consumer.end_offsets(partitions)
            offsets = {tp: (found[tp].offset if found.get(tp) else ends[tp]) - 1 for tp in partitions}
        with self.projector.store.transaction() as tx:
            self.projector.claim(tx)  # not under a batch another instance is applying
            tracking.replace_positions(tx, self.projection, {source_of(tp.topic, tp.partition): offset
                                                             for tp, offset in offsets.items()})

    def close(self) -> None:
        self.consumer.close(autocommit=False)  # leaves the group at once, no session-timeout wait
        self.dlq.close()
        self.lag.close()
