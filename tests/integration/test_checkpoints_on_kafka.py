"""Checkpoints published on Kafka, against the real broker: a service that watches
the log (a witness, a committee's archive) reads every signed checkpoint from
<prefix>.checkpoints.v1, in order, and checks each with the verifier key alone."""

from __future__ import annotations

import time
from pathlib import Path

from kafka import KafkaConsumer

from consumers.checkpoints import CheckpointPublisher
from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.kafka import require_kafka
from tests.fixtures.world import START, World
from transparency.checkpoints import Signer, Verifier

ORIGIN = "gridgov.test/kafka"


def test_every_checkpoint_reaches_the_topic_signed_and_in_order(tmp_path: Path) -> None:
    kafka = require_kafka()
    key = Signer.generate(ORIGIN)
    (tmp_path / "audit.key").write_text(key.text())
    clock = ManualClock(START)
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"), "AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "AUDIT_ORIGIN": ORIGIN, "AUDIT_CHECKPOINT_INTERVAL_S": "1"}), clock=clock)
    publisher = CheckpointPublisher(kafka, ORIGIN)
    world = World(engine.app, clock)
    grid, rider = world.scene()
    engine.sequencing = engine.sequence(publisher)
    try:
        for _ in range(3):  # three growths, each waited on until a checkpoint covers it
            world.piece(grid, rider)
            head = engine.app.head()
            deadline = time.monotonic() + 60
            while covered(engine) < head:
                assert time.monotonic() < deadline, "no checkpoint covered the new events within 60 s"
                time.sleep(0.05)
        kept = [c.note for c in engine.tlog.tree.checkpoints()]
        consumer = KafkaConsumer(kafka.checkpoints_topic, bootstrap_servers=kafka.bootstrap,
                                 auto_offset_reset="earliest", consumer_timeout_ms=1000)
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while len(seen) < len(kept) and time.monotonic() < deadline:
            seen += [record.value.decode() for record in consumer]
        consumer.close()
    finally:
        engine.close()
        publisher.close()
    assert seen == kept and len(kept) >= 3
    verifier = Verifier.parse(key.verifier().text())
    sizes = [verifier.open(note, ORIGIN).size for note in seen]
    assert sizes == sorted(sizes) and sizes[-1] == head


def covered(engine: bootstrap.Engine) -> int:
    """The size of the latest checkpoint, -1 before the first."""
    latest = engine.tlog.tree.checkpoint() if engine.tlog else None
    return -1 if latest is None else latest.size
