"""The Merkle tree of RFC 9162 §2.1 (Certificate Transparency v2; the same as
RFC 6962's): leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right),
a tree of n leaves split at the largest power of two below n.

`Tree` keeps every complete subtree it has seen (`levels[k][i]` is the hash of
leaves i·2^k … (i+1)·2^k − 1), so appending is amortised O(1) and the root, an
inclusion proof or a consistency proof of any earlier size is O(log n) hashes.
The checks (`verify_inclusion`, `verify_consistency`) are RFC 9162's own
algorithms (§2.1.3.2, §2.1.4.2), written from the text and independent of the
tree: an outside verifier (transparency/verifier, Go) must agree with them.
"""

from __future__ import annotations

import bisect
import hashlib
from typing import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash; every subtree it completes is hashed now, once."""
        self.levels[0].append(leaf)
        level = 0
        while len(self.levels[level]) % 2 == 0:
            below = self.levels[level]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(below[-2], below[-1]))
            level += 1

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all)."""
        size = self.size if size is None else size
        self._check(size)
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]): the hashes that lead from leaf `index` to the root of size `size`."""
        size = self.size if size is None else size
        self._check(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """PROOF(old, D[0:new]): the hashes that show the tree of size `new` extends that of `old`."""
        new = self.size if new is None else new
        self._check(new)
        if not 0 <= old <= new:
            raise ValueError(f"a tree of {old} cannot be a prefix of one of {new}")
        if old in (0, new):
            return []
        return self._subproof(old, 0, new, True)

    # --- RFC 9162 §2.1.1–2.1.4, over leaves start … end − 1 ---------------------------------

    def node(self, level: int, index: int) -> bytes:
        """The hash of complete subtree `index` of height `level` (leaves index·2^level onwards)."""
        return self.levels[level][index]

    def _hash(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:  # a complete subtree, kept
            return self.node(n.bit_length() - 1, start // n)
        k = split(n)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split(n)
        if index < start + k:
            return self._path(index, start, start + k) + [self._hash(start + k, end)]
        return self._path(index, start + k, end) + [self._hash(start, start + k)]

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._hash(start, end)]
        k = split(n)
        if m <= k:
            return self._subproof(m, start, start + k, whole) + [self._hash(start + k, end)]
        return self._subproof(m - k, start + k, end, False) + [self._hash(start, start + k)]

    def _check(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether `proof` leads from `leaf` at `index` to `root` of a tree of `size`."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows the tree of `new` leaves (`new_root`)
    extends the tree of `old` leaves (`old_root`)."""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the proof's first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


# --- a growing tree's right edge ----------------------------------------------------------
# A tree of n leaves ends with one complete subtree per set bit of n, largest first:
# its "right edge" (a compact range). The sequencer and `audit verify` grow a tree by
# its edge alone, in constant memory, and learn each subtree the moment it completes.

Edge = list[tuple[int, bytes]]  # (height, hash) of each complete subtree, left to right


def extend(edge: Edge, size: int, leaves: Sequence[bytes], roots_at: frozenset[int] = frozenset(),
           lowest: int = 0) -> tuple[Edge, int, list[tuple[tuple[int, int], bytes]], dict[int, bytes]]:
    """Append leaf hashes to a tree of `size` leaves known by its edge. Returns the new
    edge and size, every subtree of height `lowest` or more completed on the way as
    ((height, index), hash) (height 0: the leaves themselves), and the root at each size
    of `roots_at` passed on the way.

    Leaves that fill an aligned block of up to BLOCK are hashed a level at a time (a
    list per level, not a stack per leaf): the same nodes, three times as fast."""
    edge = list(edge)
    made: list[tuple[tuple[int, int], bytes]] = []
    roots: dict[int, bytes] = {}
    done, total = 0, len(leaves)
    marks = sorted(mark for mark in roots_at if size < mark <= size + total)
    while done < total:
        height = _block_height(size, total - done, marks)
        block = list(leaves[done:done + (1 << height)])
        for h in range(height + 1):
            if h:
                block = [_node(b"\x01" + left + right).digest() for left, right in zip(block[0::2], block[1::2])]
            if h >= lowest:
                first = size >> h
                made.extend(((h, first + i), hash_) for i, hash_ in enumerate(block))
        edge.append((height, block[0]))
        done += 1 << height
        size += 1 << height
        while len(edge) > 1 and edge[-1][0] == edge[-2][0]:
            (h, right), (_, left) = edge.pop(), edge.pop()
            parent = node_hash(left, right)
            edge.append((h + 1, parent))
            if h + 1 >= lowest:
                made.append(((h + 1, (size >> (h + 1)) - 1), parent))
        if size in roots_at:
            roots[size] = edge_root(edge)
    return edge, size, made, roots


BLOCK_HEIGHT = 8  # blocks of 256 leaves
_node = hashlib.sha256


def _block_height(size: int, left: int, marks: list[int]) -> int:
    """The largest aligned block of leaves to hash at once from `size`: no larger
    than what is left, and not past a size whose root is wanted (`marks`, sorted)."""
    after = bisect.bisect_right(marks, size)
    next_mark = marks[after] if after < len(marks) else None
    height = 0
    while (height < BLOCK_HEIGHT and size % (2 << height) == 0 and (2 << height) <= left
           and (next_mark is None or next_mark >= size + (2 << height))):
        height += 1
    return height


def edge_root(edge: Edge) -> bytes:
    """The root of the tree whose right edge this is (RFC 9162's MTH)."""
    if not edge:
        return EMPTY_ROOT
    root = edge[-1][1]
    for _, left in reversed(edge[:-1]):
        root = node_hash(left, root)
    return root


def right_edge(size: int) -> list[tuple[int, int]]:
    """Which complete subtrees (height, index) a tree of `size` leaves ends with, left to right."""
    edge, start = [], 0
    for height in reversed(range(size.bit_length())):
        if size >> height & 1:
            edge.append((height, start >> height))
            start += 1 << height
    return edge
