"""Read models: exactly-once effect under any delivery order Kafka allows (any
interleaving of streams, redeliveries), and the positions a partition's consumer keeps."""

from __future__ import annotations

from projections.registry import instances

import random
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.board import Board
from projections.engine.projector import Delivery, Projector
from projections.facts import from_event
from projections.stores import ReadStore
from tests.fixtures.histories import SEEDS, dump, history, reference
from tests.fixtures.stores import new_store


def kafka_like(events, rng: random.Random, partitions: int = 3) -> list[Delivery]:
    """Any interleaving of streams that keeps each stream's own order, with
    redeliveries of earlier events (a relay that re-publishes after a crash, a
    consumer that re-reads after a rebalance)."""
    streams: dict = defaultdict(list)
    for event in events:
        streams[event.originator_id].append(event)
    pending = {stream: list(evs) for stream, evs in streams.items()}
    sent: dict = defaultdict(list)
    offsets = [0] * partitions
    out: list[Delivery] = []
    while pending:
        stream = rng.choice(list(pending))
        partition = hash(stream) % partitions
        if sent[stream] and rng.random() < 0.15:
            event = rng.choice(sent[stream])  # a redelivery
        else:
            event = pending[stream].pop(0)
            sent[stream].append(event)
            if not pending[stream]:
                del pending[stream]
        offsets[partition] += 1
        out.append(Delivery(from_event(event), f"gridgov.events/{partition}", offsets[partition]))
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), order=st.integers(0, 2**32), batch=st.integers(1, 300))
def test_any_kafka_order_with_redeliveries_gives_the_same_read_models(seed: int, order: int, batch: int) -> None:
    _, events = history(seed)
    deliveries = kafka_like(events, random.Random(order))
    read_store, cleanup = new_store("sqlite")
    try:
        projector = Projector(read_store, instances())
        projector.create_tables()
        for i in range(0, len(deliveries), batch):
            result = projector.apply(deliveries[i:i + batch])
            assert not result.dead
        assert dump(read_store) == reference(seed)
    finally:
        cleanup()


def test_a_partition_read_to_offset_zero_is_tracked(store: ReadStore) -> None:
    # Kafka offsets start at 0: a partition whose only message was applied must say
    # so, or its consumer lag never comes down to 0 (found by the HTTP-over-Kafka test).
    app, events = history(SEEDS[0])
    projector = Projector(store, [Board()])
    projector.create_tables()
    first = next(e for e in events if type(e).__name__ == "TaskPublished")
    projector.apply([Delivery(from_event(first), "gridgov.tasks.v1/3", 0)])
    assert store.read("SELECT source, position FROM board_positions") == [("gridgov.tasks.v1/3", 0)]
