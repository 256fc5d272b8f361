"""The tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): static resources any
party can mirror with plain GETs, and golang.org/x/mod/sumdb/tlog reads.

    tile/<L>/<N>[.p/<W>]         hashes at height 8·L: the n-th run of 256 (or W, partial)
    tile/entries/<N>[.p/<W>]     the leaf data (docs/audit.md) of leaves 256·N …, each
                                 as a big-endian uint16 length then the bytes

Hash i of tile (L, N) is the Merkle tree hash of leaves (256·N + i)·256^L … + 256^L,
which is the complete subtree the store keeps at height 8·L, index 256·N + i: a tile is
one range query (`TreeStore.level`). N is written in zero-padded 3-digit elements, all
but the last prefixed `x` (1234067 is `x001/x234/067`); only the canonical spelling of
a path names a tile, so a cache never holds one tile under two names.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any, Callable

import orjson

from eventlog import EventLog
from transparency.leaves import leaf_data
from transparency.merkle import Tree, leaf_hash
from transparency.store import TreeStore

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes in a full tile
HASH = 32
ENTRIES = "entries"
MAX_ENTRY = 0xFFFF  # a bundle's length prefix is a uint16

_ELEMENT = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,2}")


class NotATile(ValueError):
    """A path that names no tile (malformed, or not the canonical spelling of one)."""


class EntryTooLarge(ValueError):
    """A leaf's data is longer than a bundle's uint16 length prefix can say."""


@dataclass(frozen=True)
class Tile:
    level: int | str  # 0 … 63, or "entries"
    index: int
    width: int = WIDTH  # < WIDTH: a partial tile

    @property
    def partial(self) -> bool:
        return self.width < WIDTH

    @property
    def height(self) -> int:
        """The tree height of its hashes (entries: the leaves')."""
        return 0 if self.level == ENTRIES else HEIGHT * int(self.level)

    def path(self) -> str:
        """`tile/<L>/<N>[.p/<W>]`, as the spec spells it."""
        return f"tile/{self.level}/{index_path(self.index)}" + (f".p/{self.width}" if self.partial else "")


def index_path(index: int) -> str:
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    elements = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{e}" for e in elements[:-1]] + elements[-1:])


def parse_path(path: str) -> Tile:
    """The tile a path (after the prefix: `tile/…`) names; NotATile unless it is canonical."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise NotATile(path)
    level_text, rest = parts[1], parts[2:]
    width = WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        width_text = rest[-1]
        if not _DECIMAL.fullmatch(width_text) or not 1 <= int(width_text) < WIDTH:
            raise NotATile(path)
        width, rest = int(width_text), rest[:-2] + [rest[-2][:-2]]
    if not rest or not _LAST.fullmatch(rest[-1]) or not all(_ELEMENT.fullmatch(e) for e in rest[:-1]):
        raise NotATile(path)
    index = int("".join(e.lstrip("x") for e in rest))
    if level_text == ENTRIES:
        tile = Tile(ENTRIES, index, width)
    elif _DECIMAL.fullmatch(level_text) and int(level_text) <= 63:
        tile = Tile(int(level_text), index, width)
    else:
        raise NotATile(path)
    if tile.path() != path:  # x000/001 for 001, and the like
        raise NotATile(path)
    return tile


def tiles_of(size: int) -> list[Tile]:
    """Every hash tile of a tree of `size` leaves, level 0 first: the full ones and, at
    each level, the partial one of width ⌊size / 256^L⌋ mod 256 (none when that is 0)."""
    tiles: list[Tile] = []
    level = 0
    while size >> (HEIGHT * level):
        hashes = size >> (HEIGHT * level)  # subtrees of height 8·L the tree has
        tiles += [Tile(level, n) for n in range(hashes // WIDTH)]
        if hashes % WIDTH:
            tiles.append(Tile(level, hashes // WIDTH, hashes % WIDTH))
        level += 1
    return tiles


def bundle(entries: list[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise EntryTooLarge(f"a leaf of {len(entry)} bytes does not fit a tile bundle's uint16 length")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    """A bundle's entries; ValueError if it is not a sequence of length-prefixed entries."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("a bundle ends inside a length prefix")
        (length,) = struct.unpack_from(">H", data, at)
        if at + 2 + length > len(data):
            raise ValueError("a bundle ends inside an entry")
        entries.append(data[at + 2:at + 2 + length])
        at += 2 + length
    return entries


def tile_hash(hashes: bytes) -> bytes:
    """The Merkle tree hash over a full tile's hashes: one hash of the tile at the level above."""
    return Tree([hashes[i:i + HASH] for i in range(0, len(hashes), HASH)]).root()


class TileSource:
    """Tiles read from the stored tree (and, for entries, the event log)."""

    def __init__(self, tree: TreeStore, eventlog: EventLog, decode: Callable[[bytes], Any] = orjson.loads) -> None:
        self.tree = tree
        self.eventlog = eventlog
        self.decode = decode

    def read(self, tile: Tile) -> bytes | None:
        """The tile's bytes; None when the tree does not have it (yet)."""
        return self.entries(tile) if tile.level == ENTRIES else self.hashes(tile)

    def hashes(self, tile: Tile) -> bytes | None:
        start = tile.index * WIDTH
        found = self.tree.level(tile.height, start, start + tile.width)
        if len(found) < tile.width:
            return None
        return b"".join(found[i] for i in range(start, start + tile.width))

    def entries(self, tile: Tile) -> bytes | None:
        start = tile.index * WIDTH
        leaves = self.tree.leaves(start, start + tile.width)
        if len(leaves) < tile.width:
            return None
        positions = [leaf.position for leaf in leaves]
        # The rows between the first and last leaf's positions are exactly these leaves'
        # (a gap in positions is a gap in the log too: the tree takes every row in order).
        rows = {row[0]: row for row in self.eventlog.page(positions[0] - 1, len(positions), stop=positions[-1])}
        missing = [p for p in positions if p not in rows]
        if missing:
            # A leaf whose row is gone: the log was altered. Say so rather than serve a bundle
            # that hides it by a shift; `gridgov audit verify` names the position.
            raise LookupError(f"the stored event at log position {missing[0]} is missing")
        return bundle([leaf_data(rows[p], self.decode) for p in positions])


def leaf_hashes_of(bundle_bytes: bytes) -> list[bytes]:
    """The level-0 hashes a bundle's entries make."""
    return [leaf_hash(entry) for entry in unbundle(bundle_bytes)]
