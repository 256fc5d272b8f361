"""The sequencer, under any interleaving of writes, batch sizes, restarts and a
second sequencer racing it: the stored tree is always RFC 9162's tree of the log's
leaves in log order, each event once, and every proof from it verifies.

The log here is a plain list (positions with gaps, as PostgreSQL leaves them); the
tree store is the in-memory one (the SQL ones keep the same contract:
tests/contracts/test_tree_store.py)."""

from __future__ import annotations

import uuid
from typing import Sequence

from hypothesis import given, settings, strategies as st

from eventlog import EventLog, Raw
from eventlog.popo import MemoryKeyStore
from transparency.leaves import leaf_data
from transparency.merkle import Tree, leaf_hash, verify_consistency, verify_inclusion
from transparency.proofs import StoredTree
from transparency.sequencer import Sequencer
from transparency.store import MemoryTreeStore


class ListLog(EventLog):
    def __init__(self) -> None:
        self.rows: list[Raw] = []

    def write(self, count: int, gap: int) -> None:
        position = (self.rows[-1][0] if self.rows else 0) + gap
        for _ in range(count):
            position += 1
            state = b'{"timestamp":"2026-06-26T04:00:00+00:00","n":%d}' % position
            self.rows.append((position, str(uuid.uuid4()), 1, "gridgov.ClueReported", state))

    def head(self) -> int:
        return self.rows[-1][0] if self.rows else 0

    def page(self, after: int, limit: int, topics: Sequence[str] = (), stop: int | None = None,
             share: object = None) -> list[Raw]:
        return [r for r in self.rows if r[0] > after and (stop is None or r[0] <= stop)][:limit]

    def position_of(self, stream: uuid.UUID, version: int) -> int | None:
        return None

    def make_key_store(self, kind: str) -> MemoryKeyStore:
        return MemoryKeyStore()


steps = st.lists(st.one_of(
    st.tuples(st.just("write"), st.integers(1, 40), st.integers(0, 3)),  # events, and a gap before them
    st.tuples(st.just("step"), st.integers(0, 1), st.just(0)),  # which sequencer takes a batch
    st.tuples(st.just("restart"), st.integers(0, 1), st.just(0)),  # a sequencer killed and started again
), max_size=30)


@settings(max_examples=150, deadline=None)
@given(steps=steps, batch=st.integers(1, 17), probe=st.randoms(use_true_random=False))
def test_the_stored_tree_is_the_logs_tree_whatever_happens(steps, batch, probe) -> None:  # type: ignore[no-untyped-def]
    log, store = ListLog(), MemoryTreeStore()
    sequencers = [Sequencer(log, store, batch=batch), Sequencer(log, store, batch=batch)]
    for op, n, gap in steps:
        if op == "write":
            log.write(n, gap)
        elif op == "step":
            sequencers[n].step()
        else:
            sequencers[n] = Sequencer(log, store, batch=batch)
        check(log, store, probe)
    sequencers[0].catch_up()
    sequencers[1].catch_up()
    assert store.tip()[0] == len(log.rows)
    check(log, store, probe)


def check(log: ListLog, store: MemoryTreeStore, probe) -> None:  # type: ignore[no-untyped-def]
    size, last = store.tip()
    rows = log.rows[:size]
    assert [leaf.position for leaf in store.leaves(0, size)] == [r[0] for r in rows]  # in order, each once
    assert last == (rows[-1][0] if rows else 0)
    expected = Tree([leaf_hash(leaf_data(r)) for r in rows])
    stored = StoredTree(store, size)
    assert stored.root() == expected.root()
    if size:
        index, at = probe.randrange(size), probe.randint(1, size)
        old = probe.randint(1, at)
        if index < at:
            proof = StoredTree(store, at).inclusion_proof(index)
            assert verify_inclusion(index, at, expected.levels[0][index], proof, expected.root(at))
        proof = StoredTree(store, at).consistency_proof(old)
        assert verify_consistency(old, at, expected.root(old), expected.root(at), proof)
