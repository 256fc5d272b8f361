"""`gridgov audit mirror URL DIR`: an auditor's own copy of the log, by plain GETs of
its C2SP tlog-tiles (URL: the prefix, e.g. https://gridgov.example/tlog/), each root and
consistency checked on the way (docs/audit.md, "Mirroring the log").

DIR is laid out as the prefix is, so a static file server over it serves the mirror:

    DIR/checkpoint              the latest checkpoint verified here (replaced only once verified)
    DIR/checkpoints/<size>      every checkpoint verified here, kept
    DIR/key                     the log's verifier key, given the first time (--key)
    DIR/tile/…                  tiles and entry bundles that made a verified root
    DIR/.pending/tile/…         fetched, not yet part of a verified root (resumed from)
    DIR/evidence/<size>-<n>     a checkpoint signed by the log that contradicts one kept here

For each run: the log's checkpoint, opened with the key; never a smaller tree than the
kept one, never another root for its size. Then every level-0 tile and entry bundle of
the tree, those already here read from disk: each bundle's entries must hash to its
tile's leaves; the leaves, grown by their right edge, must give the root at the kept
checkpoint's size (the log still extends what was mirrored) and the new root; each tile
of a higher level must be the tile hashes of the full tiles below it. Only then are the
fetched tiles moved into place and the checkpoint kept. A run stopped at any point
starts again where it was: nothing verified is fetched twice.
"""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from transparency.checkpoints import BadKey, BadNote, Checkpoint, Verifier
from transparency.merkle import edge_root, extend
from transparency.tiles import ENTRIES, HASH, WIDTH, Tile, leaf_hashes_of, tile_hash, tiles_of

if TYPE_CHECKING:
    import httpx

MIRRORED, SPLIT, BAD_INPUT = 0, 1, 2
AT_ONCE = 64  # tiles fetched concurrently, at most
err = Console(stderr=True)


class MirrorError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Outcome:
    checkpoint: Checkpoint
    fetched: int = 0  # tiles and bundles fetched this run
    reused: int = 0  # … read from DIR instead
    kept: Checkpoint | None = None  # the checkpoint mirrored before, if any
    notes: list[str] = field(default_factory=list)


def mirror(url: str = typer.Argument(..., metavar="URL", help="the log's tiles prefix, e.g. https://gridgov.example/tlog/"),
           folder: Path = typer.Argument(..., metavar="DIR", help="the mirror's folder (made if missing; resumed if not)"),
           key: str | None = typer.Option(None, help="the log's verifier key (<name>+<id>+<key>); "
                                                    "needed the first time, then kept in DIR/key")) -> None:
    """Mirror the log's tiles and checkpoints into a folder, checking every root and consistency on the way;
    exit 0 mirrored, 1 the log contradicts what was mirrored (evidence kept), 2 bad input or unreachable."""
    import httpx  # here, not at the top: every `gridgov` command imports this module, few mirror

    with httpx.Client(timeout=30, follow_redirects=True) as client, _progress() as progress:
        task = progress.add_task("mirror", total=0)
        try:
            outcome = run(url, folder, key, client,
                          lambda done, total: progress.update(task, completed=done, total=total))
        except MirrorError as e:
            progress.stop()
            err.print(f"[red]{e}[/]")
            raise typer.Exit(e.code) from None
    extends = f", extending the one of {outcome.kept.size} kept here" if outcome.kept else ""
    err.print(f"mirrored {outcome.checkpoint.size:,} leaves{extends}: {outcome.fetched} tiles fetched, "
              f"{outcome.reused} already here")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} tiles"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True)


def run(url: str, folder: Path, key: str | None, client: httpx.Client,
        progress: Callable[[int, int], None] = lambda done, total: None) -> Outcome:
    """Mirror once; MirrorError(SPLIT | BAD_INPUT, why) if not."""
    base = url if url.endswith("/") else url + "/"
    folder.mkdir(parents=True, exist_ok=True)
    verifier = _verifier(folder, key)
    kept = _kept(folder, verifier)
    note = _get(client, base + "checkpoint").decode("utf-8", "replace")
    try:
        new = verifier.open(note)
    except BadNote as e:
        raise MirrorError(SPLIT, f"the log's checkpoint does not open with its key: {e}") from None
    if kept is not None and (new.size < kept.size or (new.size == kept.size and new.root != kept.root)):
        _evidence(folder, note, new)
        raise MirrorError(SPLIT, f"the log now signs a tree of {new.size} with root {new.root.hex()}, which cannot "
                                 f"extend the one of {kept.size} mirrored here: the log was rewritten "
                                 f"(its checkpoint is kept in {folder / 'evidence'})")
    outcome = Outcome(new, kept=kept)
    fetched = _Tiles(folder, base, client, outcome)
    edge, size, roots = [], 0, {}
    wanted = frozenset({kept.size}) if kept is not None else frozenset()
    level0 = [t for t in tiles_of(new.size) if t.level == 0]
    below: list[bytes] = []  # the tile hash of each full tile of the level below
    for start in range(0, len(level0), AT_ONCE):
        chunk = level0[start:start + AT_ONCE]
        pairs = fetched.many([t for tile in chunk for t in (tile, Tile(ENTRIES, tile.index, tile.width))])
        for tile, hashes, entries in zip(chunk, pairs[0::2], pairs[1::2]):
            leaves = _split_hashes(hashes, tile)
            if leaf_hashes_of(entries) != leaves:
                raise MirrorError(SPLIT, f"the entries of {tile.path()} do not hash to the tile's leaves")
            edge, size, _, more = extend(edge, size, leaves, wanted)
            roots |= more
            if not tile.partial:
                below.append(tile_hash(hashes))
        progress(start + len(chunk), len(level0))
    if kept is not None and kept.size and roots.get(kept.size) != kept.root:
        _evidence(folder, note, new)
        raise MirrorError(SPLIT, f"the log no longer extends the checkpoint of {kept.size} mirrored here: "
                                 f"its leaves now give another root (its checkpoint is kept in {folder / 'evidence'})")
    if edge_root(edge) != new.root:
        _evidence(folder, note, new)
        raise MirrorError(SPLIT, f"the tiles do not make the root the log signed for {new.size} leaves "
                                 f"(its checkpoint is kept in {folder / 'evidence'})")
    _check_higher(fetched, new.size, below)
    fetched.settle()
    _write(folder / "checkpoints" / str(new.size), note)
    _write(folder / "checkpoint", note)
    return outcome


def _check_higher(fetched: _Tiles, size: int, below: list[bytes]) -> None:
    """Each tile of level L ≥ 1 holds the tile hashes of the full tiles of level L − 1 under it."""
    level = 1
    while True:
        tiles = [t for t in tiles_of(size) if t.level == level]
        if not tiles:
            return
        here: list[bytes] = []
        for tile, data in zip(tiles, fetched.many(tiles)):
            first = tile.index * WIDTH
            if data != b"".join(below[first:first + tile.width]):
                raise MirrorError(SPLIT, f"{tile.path()} is not made of the tiles below it")
            if not tile.partial:
                here.append(tile_hash(data))
        below, level = here, level + 1


class _Tiles:
    """Tiles from DIR when verified or pending there, else fetched (and kept as pending)."""

    def __init__(self, folder: Path, base: str, client: httpx.Client, outcome: Outcome) -> None:
        self.folder, self.base, self.client, self.outcome = folder, base, client, outcome
        self.pending = folder / ".pending"
        self.touched: list[str] = []
        self._lock = threading.Lock()  # the counts, from the fetching threads

    def many(self, tiles: list[Tile]) -> list[bytes]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(self.one, tiles))

    def one(self, tile: Tile) -> bytes:
        path = tile.path()
        for where in (self.folder / path, self.pending / path):
            if where.is_file():
                with self._lock:
                    self.outcome.reused += 1
                    self.touched.append(path)
                return where.read_bytes()
        data = _get(self.client, self.base + path)
        _write(self.pending / path, data)
        with self._lock:
            self.outcome.fetched += 1
            self.touched.append(path)
        return data

    def settle(self) -> None:
        """Move what made a verified root into the mirror proper."""
        for path in self.touched:
            source = self.pending / path
            if source.is_file():
                target = self.folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        shutil.rmtree(self.pending, ignore_errors=True)


def _split_hashes(data: bytes, tile: Tile) -> list[bytes]:
    if len(data) != tile.width * HASH:
        raise MirrorError(SPLIT, f"{tile.path()} holds {len(data)} bytes, not {tile.width * HASH}")
    return [data[i:i + HASH] for i in range(0, len(data), HASH)]


def _verifier(folder: Path, key: str | None) -> Verifier:
    kept = folder / "key"
    known = kept.read_text().strip() if kept.is_file() else None
    if key is None and known is None:
        raise MirrorError(BAD_INPUT, "the first mirror needs the log's verifier key: --key <name>+<id>+<key>")
    if key is not None and known is not None and key.strip() != known:
        raise MirrorError(BAD_INPUT, f"this folder mirrors the log of key {known}, not {key.strip()}")
    try:
        verifier = Verifier.parse(key or known or "")
    except BadKey as e:
        raise MirrorError(BAD_INPUT, f"--key: {e}") from None
    if known is None:
        _write(kept, verifier.text() + "\n")
    return verifier


def _kept(folder: Path, verifier: Verifier) -> Checkpoint | None:
    path = folder / "checkpoint"
    if not path.is_file():
        return None
    try:
        return verifier.open(path.read_text())
    except (BadNote, UnicodeDecodeError) as e:
        raise MirrorError(BAD_INPUT, f"{path}: not a checkpoint of this log: {e}") from None


def _get(client: httpx.Client, url: str) -> bytes:
    import httpx

    try:
        answer = client.get(url, headers={"Accept-Encoding": "gzip, identity"})
    except httpx.HTTPError as e:
        raise MirrorError(BAD_INPUT, f"GET {url}: {e}") from None
    if answer.status_code != 200:
        raise MirrorError(BAD_INPUT, f"GET {url}: {answer.status_code} {answer.text.strip()[:200]}")
    return answer.content


def _evidence(folder: Path, note: str, checkpoint: Checkpoint) -> None:
    evidence = folder / "evidence"
    evidence.mkdir(parents=True, exist_ok=True)
    n = sum(1 for _ in evidence.glob(f"{checkpoint.size}-*"))
    _write(evidence / f"{checkpoint.size}-{n}", note)


def _write(path: Path, data: str | bytes) -> None:
    """Whole or not at all: a run killed mid-write leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
