"""The Merkle tree of RFC 9162 §2.1: the tree's roots equal the RFC's recursive
definition, every inclusion and consistency proof it gives verifies by the RFC's
own check, and a changed leaf, root or proof does not."""

from __future__ import annotations

import hashlib

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from transparency.merkle import (EMPTY_ROOT, Tree, edge_root, extend, leaf_hash, node_hash, right_edge, split,
                                 verify_consistency,
                                 verify_inclusion)

logs = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, as written: the reference the tree is checked against."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def test_the_rfc_example_hashes() -> None:
    # The empty tree and a one-leaf tree, as RFC 6962 / 9162 define them.
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert Tree([leaf_hash(b"")]).root().hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


@given(logs)
def test_every_prefix_root_is_the_rfc_root(data: list[bytes]) -> None:
    tree = Tree([leaf_hash(d) for d in data])
    for size in range(len(data) + 1):
        assert tree.root(size) == mth(data[:size])


@given(logs, st.data())
def test_an_inclusion_proof_verifies_and_a_change_fails_it(data: list[bytes], draw: st.DataObject) -> None:
    tree = Tree([leaf_hash(d) for d in data])
    size = draw.draw(st.integers(1, len(data)))
    index = draw.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    root = tree.root(size)
    leaf = leaf_hash(data[index])
    assert verify_inclusion(index, size, leaf, proof, root)
    assert not verify_inclusion(index, size, leaf_hash(data[index] + b"x"), proof, root)
    assert not verify_inclusion(index, size, leaf, proof, node_hash(root, root))
    if proof:
        at = draw.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[at] = hashlib.sha256(bad[at]).digest()
        assert not verify_inclusion(index, size, leaf, bad, root)
        assert not verify_inclusion(index, size, leaf, proof[:-1], root)
    assume(size > 1)
    other = draw.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    assert not verify_inclusion(other, size, leaf, proof, root) or leaf_hash(data[other]) == leaf


@given(logs, st.data())
def test_a_consistency_proof_verifies_and_a_rewritten_history_fails_it(data: list[bytes],
                                                                       draw: st.DataObject) -> None:
    tree = Tree([leaf_hash(d) for d in data])
    new = draw.draw(st.integers(0, len(data)))
    old = draw.draw(st.integers(0, new))
    proof = tree.consistency_proof(old, new)
    assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)
    assume(0 < old < new)
    # A history rewritten before `old`, its tree recomputed to match: the old root no longer fits.
    at = draw.draw(st.integers(0, old - 1))
    rewritten = Tree([leaf_hash(d + b"x" if i == at else d) for i, d in enumerate(data)])
    assert not verify_consistency(old, new, tree.root(old), rewritten.root(new),
                                  rewritten.consistency_proof(old, new))
    assert not verify_consistency(old, new, tree.root(old), tree.root(new), proof[:-1])
    bad = list(proof)
    bad[0] = hashlib.sha256(bad[0]).digest()
    assert not verify_consistency(old, new, tree.root(old), tree.root(new), bad)


def test_sizes_out_of_range_are_refused() -> None:
    tree = Tree([leaf_hash(b"a"), leaf_hash(b"b")])
    for call in (lambda: tree.root(3), lambda: tree.inclusion_proof(2, 2), lambda: tree.consistency_proof(3, 2)):
        try:
            call()
        except ValueError:
            continue
        raise AssertionError("an impossible size was answered")
    assert not verify_inclusion(2, 2, leaf_hash(b"a"), [], tree.root())
    assert not verify_consistency(2, 1, tree.root(2), tree.root(1), [])


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(0, 300), min_size=1, max_size=6), marks=st.sets(st.integers(1, 1800), max_size=8),
       lowest=st.integers(0, 9))
def test_growing_by_the_edge_makes_the_trees_own_nodes_and_roots(sizes, marks, lowest) -> None:  # type: ignore[no-untyped-def]
    """merkle.extend, however the leaves come (batches of any size, blocks or one by
    one, roots wanted mid-block), gives RFC 9162's nodes and roots."""
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(sum(sizes))]
    tree = Tree(leaves)
    edge, size, roots, made = [], 0, {}, {}
    for count in sizes:
        edge, size, nodes, got = extend(edge, size, leaves[size:size + count], frozenset(marks), lowest)
        roots.update(got)
        made.update(nodes)
    assert size == len(leaves) and edge_root(edge) == tree.root()
    assert roots == {mark: tree.root(mark) for mark in marks if mark <= size}
    assert made == {(h, i): node for h, level in enumerate(tree.levels) if h >= lowest for i, node in enumerate(level)}
    assert [n for n, _ in edge] == [h for h, _ in right_edge(size)]
