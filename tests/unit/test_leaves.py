"""The leaf of a stored row has one definition (transparency.leaves.leaf_data, as
docs/audit.md writes it); the batch hashing the sequencer and verify use must give
the same hash for any row, damaged ones too."""

from __future__ import annotations

import orjson
from hypothesis import given, strategies as st

from transparency.leaves import hash_rows, leaf_data
from transparency.merkle import leaf_hash

payloads = st.one_of(
    st.binary(max_size=60),
    st.dictionaries(st.sampled_from(["timestamp", "a", "b"]),
                    st.one_of(st.text(max_size=12), st.integers(-2**63, 2**63 - 1), st.none()), max_size=3).map(orjson.dumps),
    st.lists(st.integers(0, 9), max_size=3).map(orjson.dumps))
rows = st.tuples(st.integers(1, 10**12), st.text(min_size=1, max_size=40), st.integers(1, 10**6),
                 st.sampled_from(["gridgov.ClueReported", "domain.tasks:TaskPublished", "x"]), payloads)


@given(st.lists(rows, max_size=20))
def test_batch_hashing_is_the_leaf_definition(page) -> None:  # type: ignore[no-untyped-def]
    assert hash_rows(page) == [leaf_hash(leaf_data(row)) for row in page]
