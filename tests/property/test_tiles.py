"""C2SP tlog-tiles: paths spelled exactly as the spec spells them (one name per tile), the
tiles of a tree of any size, bundles that read back, and tiles whose hashes make the
tree's root."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transparency.merkle import Tree, leaf_hash
from transparency.store import MemoryTreeStore
from transparency.tiles import (ENTRIES, WIDTH, NotATile, Tile, TileSource, bundle, parse_path, tile_hash,
                                tiles_of, unbundle)

levels = st.one_of(st.integers(0, 63), st.just(ENTRIES))
tiles = st.builds(Tile, levels, st.integers(0, 10**12), st.integers(1, WIDTH))


def test_paths_as_the_spec_spells_them() -> None:
    assert Tile(0, 1234067).path() == "tile/0/x001/x234/067"
    assert Tile(2, 5, 17).path() == "tile/2/005.p/17"
    assert Tile(ENTRIES, 1000, 3).path() == "tile/entries/x001/000.p/3"
    assert parse_path("tile/entries/x001/x234/067.p/255") == Tile(ENTRIES, 1234067, 255)


@given(tiles)
def test_a_tile_is_read_back_from_its_path(tile: Tile) -> None:
    assert parse_path(tile.path()) == tile


@pytest.mark.parametrize("path", ["tile/0/1", "tile/0/01", "tile/0/x000/001", "tile/00/001", "tile/64/001",
                                  "tile/0/001.p/0", "tile/0/001.p/256", "tile/0/001.p/05", "tile/0/001.p/",
                                  "tile/0/x001", "tile/0/001/002", "tile/data/001", "tile/-1/001", "tile/0/00a",
                                  "tile/entries/x1/001", "tile/0/001.p", "tile//001", "tile/0/"])
def test_a_path_not_spelled_as_the_spec_spells_it_names_no_tile(path: str) -> None:
    with pytest.raises(NotATile):
        parse_path(path)


def test_the_spec_s_example_of_a_tree_of_70000() -> None:
    made = tiles_of(70000)
    assert len([t for t in made if t.level == 0 and not t.partial]) == 273
    assert [t for t in made if t.partial] == [Tile(0, 273, 112), Tile(1, 1, 17), Tile(2, 0, 1)]
    assert [t for t in made if t.level == 1 and not t.partial] == [Tile(1, 0)]
    assert tiles_of(256) == [Tile(0, 0), Tile(1, 0, 1)]


@given(st.lists(st.binary(max_size=300), max_size=40))
def test_a_bundle_reads_back(entries: list[bytes]) -> None:
    assert unbundle(bundle(entries)) == entries


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3 * WIDTH * WIDTH // 64))
def test_the_tiles_of_a_stored_tree_hold_its_hashes(size: int) -> None:
    """Each level-L hash is the tree hash of a full tile of level L − 1: the root made from
    level 0 is the tree's, and level 1 is made from level 0 (as the spec defines them)."""
    leaves = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(size)]
    tree = Tree(leaves)
    store = MemoryTreeStore()
    nodes = [((level, i), h) for level, row in enumerate(tree.levels) if level for i, h in enumerate(row)]
    store.append(0, [(i + 1, h) for i, h in enumerate(leaves)], nodes)
    source = TileSource(store, None)  # type: ignore[arg-type]  # hashes only
    read = {t: source.read(t) for t in tiles_of(size)}
    assert all(read.values())
    level0 = b"".join(read[t] for t in tiles_of(size) if t.level == 0)
    assert Tree([level0[i:i + 32] for i in range(0, len(level0), 32)]).root() == tree.root()
    for t, data in read.items():
        if t.level == 1:
            below = [read[Tile(0, t.index * WIDTH + i)] for i in range(t.width)]
            assert data == b"".join(tile_hash(b) for b in below)


@given(st.text(alphabet="tile/entrsx0123456789.p٣２", max_size=40))
def test_any_path_names_a_tile_or_none_and_never_fails_otherwise(path: str) -> None:
    try:
        tile = parse_path(path)
    except NotATile:
        return
    assert tile.path() == path and path.isascii()
