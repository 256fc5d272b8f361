"""The tree store's contract (transparency.store.TreeStore), one suite run on every
backend: in memory, beside a SQLite event store, in a fresh PostgreSQL schema.
What the sequencer and the proofs rely on: an append is all or nothing and
refuses a writer that is not at the tree's end; nodes come back by key."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from typing import Iterator

import pytest

from application.service import GridGovernance
from gridgov import bootstrap
from gridgov.settings import load_settings
from transparency.store import (POSTGRES, SQLITE, Cosignature, Leaf, MemoryTreeStore, Moved, SQLTreeStore,
                                StoredCheckpoint, TreeStore, open_tree_store)


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


class TreeStoreContract(ABC):
    store_class: type[TreeStore]

    @abstractmethod
    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        """The library's settings for a fresh, empty event store of this backend."""

    @pytest.fixture
    def app(self, request: pytest.FixtureRequest) -> Iterator[GridGovernance]:
        application = bootstrap.application(load_settings(self.construct_env(request)))
        yield application
        application.close()

    @pytest.fixture
    def store(self, app: GridGovernance) -> TreeStore:
        store = open_tree_store(app.eventlog)
        assert isinstance(store, self.store_class)
        return store

    def test_an_empty_tree(self, store: TreeStore) -> None:
        assert store.tip() == (0, 0)
        assert store.nodes([(0, 0), (3, 1)]) == {}
        assert store.leaves(0, 10) == []
        assert store.index_of(1) is None
        assert store.checkpoint() is None and store.checkpoints() == []

    def test_leaves_and_nodes_come_back_as_written(self, store: TreeStore) -> None:
        store.append(0, [(1, h(1)), (2, h(2)), (5, h(5))], [((1, 0), h(100))])
        assert store.tip() == (3, 5)  # a gap in positions is no gap in the tree
        assert store.leaves(0, 3) == [Leaf(0, 1, h(1)), Leaf(1, 2, h(2)), Leaf(2, 5, h(5))]
        assert store.leaves(1, 2) == [Leaf(1, 2, h(2))]
        assert store.nodes([(0, 2), (1, 0), (1, 1)]) == {(0, 2): h(5), (1, 0): h(100)}
        assert store.level(0, 1, 3) == {1: h(2), 2: h(5)}
        assert store.level(1, 0, 5) == {0: h(100)}
        assert [store.index_of(p) for p in (1, 2, 3, 5)] == [0, 1, None, 2]
        assert store.indexes_of([5, 1, 3, 2, 5]) == {1: 0, 2: 1, 5: 2}

    def test_an_append_from_the_wrong_size_writes_nothing(self, store: TreeStore) -> None:
        store.append(0, [(1, h(1)), (2, h(2))], [((1, 0), h(100))])
        with pytest.raises(Moved):
            store.append(1, [(3, h(3))], [])  # behind: leaf 1 exists
        with pytest.raises(Moved):
            store.append(5, [(3, h(3))], [])  # ahead: a gap of leaves
        assert store.tip() == (2, 2)
        assert store.nodes([(0, 2), (0, 5)]) == {}
        store.append(2, [(3, h(3))], [])
        assert store.tip() == (3, 3)

    def test_many_nodes_in_one_ask(self, store: TreeStore) -> None:
        store.append(0, [(i + 1, h(i)) for i in range(1200)], [((1, i), h(10_000 + i)) for i in range(600)])
        wanted = [(0, i) for i in range(0, 1200, 2)] + [(1, i) for i in range(600)] + [(2, 0)]
        got = store.nodes(wanted)
        assert len(got) == 1200 and got[(1, 599)] == h(10_599) and got[(0, 1198)] == h(1198)

    def test_checkpoints_are_kept_one_per_size(self, store: TreeStore) -> None:
        first = StoredCheckpoint(3, h(7), "note three\n", "2026-12-01T00:00:00+00:00")
        store.save_checkpoint(first)
        store.save_checkpoint(StoredCheckpoint(3, h(8), "another\n", "2026-12-01T00:00:01+00:00"))
        later = StoredCheckpoint(10, h(9), "note ten\n", "2026-12-01T00:01:00+00:00")
        store.save_checkpoint(later)
        assert store.checkpoint(3) == first  # the first of a size stays
        assert store.checkpoint() == later
        assert store.checkpoint(4) is None
        assert store.checkpoints() == [first, later]

    def test_checkpoints_are_listed_largest_first_a_page_at_a_time(self, store: TreeStore) -> None:
        kept = [StoredCheckpoint(n, h(n), f"note {n}\n", "2026-12-01T00:00:00+00:00") for n in (2, 5, 9, 12)]
        for checkpoint in kept:
            store.save_checkpoint(checkpoint)
        assert store.recent(3) == kept[::-1][:3]
        assert store.recent(3, below=9) == [kept[1], kept[0]]
        assert store.recent(10, below=2) == []
        assert store.checkpoints(after=5) == kept[2:]

    def test_each_witness_cosigns_a_checkpoint_once_and_the_note_is_served_with_all(self, store: TreeStore) -> None:
        store.save_checkpoint(StoredCheckpoint(3, h(7), "o\n3\nroot\n\n\u2014 o sig\n", "2026-12-01T00:00:00+00:00"))
        store.save_checkpoint(StoredCheckpoint(4, h(8), "o\n4\nroot\n\n\u2014 o sig4\n", "2026-12-01T00:00:00+00:00"))
        b = Cosignature("witness-b", "\u2014 witness-b AAAA", "2026-12-01T00:00:02+00:00")
        a = Cosignature("witness-a", "\u2014 witness-a BBBB", "2026-12-01T00:00:03+00:00")
        store.add_cosignature(3, b)
        store.add_cosignature(3, a)
        store.add_cosignature(3, Cosignature("witness-a", "\u2014 witness-a CCCC", "2026-12-01T00:00:04+00:00"))
        got = store.checkpoint(3)
        assert got is not None and got.cosignatures == (a, b) and got.cosigners == ["witness-a", "witness-b"]
        assert got.served == "o\n3\nroot\n\n\u2014 o sig\n\u2014 witness-a BBBB\n\u2014 witness-b AAAA\n"
        assert store.checkpoint().cosignatures == ()  # the latest, 4, has none yet
        assert [c.cosigners for c in store.recent(5)] == [[], ["witness-a", "witness-b"]]
        assert [c.cosigners for c in store.checkpoints()] == [["witness-a", "witness-b"], []]

    def test_a_second_store_on_the_same_database_sees_the_tree(self, app: GridGovernance, store: TreeStore) -> None:
        if isinstance(store, MemoryTreeStore):
            pytest.skip("an in-memory tree lives in its object")
        store.append(0, [(1, h(1))], [])
        again = open_tree_store(app.eventlog)
        assert again.tip() == (1, 1)
        with pytest.raises(Moved):
            again.append(0, [(1, h(1))], [])


class TestMemoryTreeStore(TreeStoreContract):
    store_class = MemoryTreeStore

    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class TestSQLiteTreeStore(TreeStoreContract):
    store_class = SQLTreeStore

    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(request.getfixturevalue("tmp_path") / f"{uuid.uuid4().hex}.sqlite")}


@pytest.mark.postgres
class TestPostgresTreeStore(TreeStoreContract):
    store_class = SQLTreeStore

    def construct_env(self, request: pytest.FixtureRequest) -> dict[str, str]:
        return request.getfixturevalue("postgres_schema")


def test_the_dialects_differ_only_where_the_databases_do() -> None:
    assert (SQLITE.param, POSTGRES.param) == ("?", "%s")
    assert (SQLITE.blob, POSTGRES.blob) == ("blob", "bytea")
