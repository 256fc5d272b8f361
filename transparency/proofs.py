"""Roots and proofs from the stored tree: RFC 9162's algorithms (merkle.Tree)
over the complete subtrees the store keeps, fetched in one query per answer.

The algorithms ask for nodes one at a time, and which ones depends only on the
sizes and the index, never on a hash: so each answer is worked out twice, first
to learn which nodes it needs (answering zeros), then with them fetched at once.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from transparency.merkle import Tree
from transparency.store import Node, TreeStore

T = TypeVar("T")
_ZERO = bytes(32)


class MissingNode(Exception):
    """The store lacks a node the tree's size says it has: it was changed by hand."""


class StoredTree(Tree):
    """The tree of the first `size` leaves of a store (the store may hold more)."""

    def __init__(self, store: TreeStore, size: int) -> None:
        self.store = store
        self._size = size
        self._known: dict[Node, bytes] = {}
        self._wanted: set[Node] | None = None

    @property
    def size(self) -> int:
        return self._size

    def node(self, level: int, index: int) -> bytes:
        if (level, index) in self._known:
            return self._known[(level, index)]
        if self._wanted is not None:
            self._wanted.add((level, index))
            return _ZERO
        raise MissingNode(f"the stored tree has no node at level {level}, index {index}")

    def root(self, size: int | None = None) -> bytes:
        return self._fetched(lambda: Tree.root(self, size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return self._fetched(lambda: Tree.inclusion_proof(self, index, size))

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return self._fetched(lambda: Tree.consistency_proof(self, old, new))

    def _fetched(self, answer: Callable[[], T]) -> T:
        self._wanted = set()
        try:
            answer()
            wanted = self._wanted - self._known.keys()
        finally:
            self._wanted = None
        if wanted:
            self._known.update(self.store.nodes(wanted))
        return answer()
