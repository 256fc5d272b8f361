"""Cosigned checkpoints on Kafka, against the real broker and two `gridgov witness serve`
processes: the checkpoint topic carries each checkpoint's note with its witnesses'
cosignatures, every line verifying under its witness's key. A witness down when a
checkpoint goes out cosigns it once up: the note is published again, same size, more
lines (idempotent for a consumer that keeps the note with the most lines per size)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from kafka import KafkaConsumer

from consumers.checkpoints import CheckpointPublisher
from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.kafka import require_kafka
from tests.fixtures.witnesses import ORIGIN, Log, WitnessProcess
from tests.fixtures.world import START, World
from transparency.checkpoints import Signer, Verifier
from transparency.cosignature import CosignatureVerifier
from transparency.witness.protocol import split_note

DEADLINE_S = 60


def test_the_topic_carries_every_cosignature_even_one_got_after_publishing(tmp_path: Path) -> None:
    kafka = require_kafka()
    key = Signer.generate(ORIGIN)
    (tmp_path / "audit.key").write_text(key.text())
    a = WitnessProcess(tmp_path / "a", "witness-a", [Log(signer=key)]).start()
    b = WitnessProcess(tmp_path / "b", "witness-b", [Log(signer=key)])  # down until the first note is out
    b_port = free_port()
    witnesses = {"witness-a": CosignatureVerifier(a.vkey), "witness-b": CosignatureVerifier(b.vkey)}
    clock = ManualClock(START)
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"), "AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "AUDIT_ORIGIN": ORIGIN, "AUDIT_CHECKPOINT_INTERVAL_S": "1", "AUDIT_WITNESS_POLICY": "1",
        "AUDIT_WITNESS_TIMEOUT_S": "2",
        "AUDIT_WITNESSES": f"{a.url}={a.vkey},http://127.0.0.1:{b_port}={b.vkey}"}), clock=clock)
    publisher = CheckpointPublisher(kafka, ORIGIN)
    topic = Topic(kafka)
    try:
        world = World(engine.app, clock)
        grid, rider = world.scene()
        engine.sequencing = engine.sequence(publisher)
        first = engine.app.head()
        assert topic.until(lambda notes: cosigners(notes, first) == {"witness-a"}), topic.notes
        b.start(b_port)  # its cosignature of `first` now comes after that note went out
        assert topic.until(lambda notes: cosigners(notes, first) == {"witness-a", "witness-b"}), topic.notes
        world.piece(grid, rider)
        second = engine.app.head()
        assert topic.until(lambda notes: cosigners(notes, second) == {"witness-a", "witness-b"}), topic.notes
    finally:
        engine.close()
        publisher.close()
        topic.close()
        a.stop()
        if b.process is not None:
            b.stop()
    log_key = Verifier.parse(key.verifier().text())
    for note in topic.notes:
        assert first <= log_key.open(note, ORIGIN).size <= second  # the log's own signature verifies
        text, lines = split_note(note)
        for line in lines[1:]:  # after the log's signature, each witness's
            witnesses[line.split(" ")[1]].verify(text, line)  # raises BadNote unless it verifies
    sizes = [log_key.open(note, ORIGIN).size for note in topic.notes]
    assert sizes.count(first) == 2, sizes  # once with witness-a, again once witness-b cosigned it


class Topic:
    """Every note on the checkpoint topic so far, read on demand."""

    def __init__(self, kafka: object) -> None:
        self.consumer = KafkaConsumer(kafka.checkpoints_topic, bootstrap_servers=kafka.bootstrap,  # type: ignore[attr-defined]
                                      auto_offset_reset="earliest", consumer_timeout_ms=200)
        self.notes: list[str] = []

    def until(self, condition: object) -> bool:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            self.notes += [record.value.decode() for record in self.consumer]
            if condition(self.notes):  # type: ignore[operator]
                return True
        return False

    def close(self) -> None:
        self.consumer.close()


def cosigners(notes: list[str], size: int) -> set[str]:
    """The witnesses on the note of `size` with the most lines, as published."""
    best: set[str] = set()
    for note in notes:
        text, lines = split_note(note)
        if text.split("\n")[1] == str(size) and len(lines) - 1 > len(best):
            best = {line.split(" ")[1] for line in lines[1:]}
    return best


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
