"""`gridgov audit verify`: recompute the whole tree from the stored rows alone
and hold it against what the store keeps and what was signed.

One pass over the log, a page at a time, in constant memory (the tree grows by
its right edge, merkle.extend). For each page it compares:
- each recomputed leaf with the stored leaf of the same index (which position,
  which hash): the first difference is the first bad position;
- each complete subtree recomputed with the stored one (the nodes proofs are
  made of);
and, at the end, the root at each kept checkpoint's size with the signed root,
and with the checkpoint an auditor kept (`kept`), whose signature it checks first.

The store can be ahead of the tree (events the sequencer has not reached): that
is lag, not damage, and is reported as such.

Reading and hashing the rows is most of the time, and it is Python: with a
`helper` (another process, `gridgov.bootstrap.log_hasher`), the later half of
the log is read and hashed there while this process does the first half; the
tree is then grown over both halves in order, exactly as in one pass.
"""

from __future__ import annotations

import bisect
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import orjson

from eventlog import EventLog
from transparency.checkpoints import BadNote, Checkpoint, Verifier
from transparency.leaves import hash_rows
from transparency.merkle import BLOCK_HEIGHT, Edge, extend
from transparency.store import TreeStore

PAGE = 5000
CHUNK = BLOCK_HEIGHT  # compare the stored subtrees of 256 leaves, not each leaf
SPLIT_AT_LEAST = 100_000  # a smaller log is read faster than a helper process starts
# What is compared of a row: its position, stream and version (log rows have more).
Row = Sequence[Any]
# Reads and hashes the rows after position `after` up to `stop` elsewhere: (rows, leaf hashes).
Helper = Callable[[int, int], "Future[tuple[list[tuple[int, str, int]], list[bytes]]]"]


@dataclass
class Report:
    events: int = 0  # stored events read
    tree_size: int = 0  # leaves in the stored tree
    checkpoints: int = 0  # kept checkpoints checked
    first_bad: int | None = None  # the first log position where rows and tree part
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def unsequenced(self) -> int:
        return max(0, self.events - self.tree_size)

    def bad(self, position: int | None, what: str) -> None:
        if position is not None and self.first_bad is None:
            self.first_bad = position
        self.problems.append(what)


def verify(eventlog: EventLog, tree: TreeStore, decode: Callable[[bytes], Any] = orjson.loads,
           verifier: Verifier | None = None, kept: str | None = None, origin: str | None = None,
           progress: Callable[[int], None] | None = None, deep: bool = False, helper: Helper | None = None,
           split_at_least: int = SPLIT_AT_LEAST) -> Report:
    """Compares the stored tree's subtrees of CHUNK leaves with the recomputed ones,
    and looks at single leaves only in a chunk that differs (or with `deep`: every
    stored leaf and subtree, which reads the tree twice over). Raises BadNote if the
    kept checkpoint does not parse or its signature fails."""
    kept_checkpoint = _open_kept(kept, verifier, origin)
    size, _ = tree.tip()
    stored = tree.checkpoints()
    marks = sorted({c.size for c in stored} | ({kept_checkpoint.size} if kept_checkpoint else set()))
    report = Report(tree_size=size)
    edge: Edge = []
    roots: dict[int, bytes] = {}
    last = 0
    window = Window()
    for rows, hashes in _hashed(eventlog, decode, helper, split_at_least):
        start = report.events
        wanted = frozenset(marks[bisect.bisect_right(marks, start):bisect.bisect_right(marks, start + len(rows))])
        edge, report.events, made, got = extend(edge, start, hashes, wanted, 0 if deep else CHUNK)
        roots.update(got)
        window.add(start, rows, hashes)
        if report.first_bad is None and start < size:
            if deep:
                _compare_everything(tree, rows, hashes, made, start, size, report)
            else:
                _compare_chunks(tree, window, made, start, size, report)
        window.keep_from((report.events >> CHUNK) << CHUNK)
        last = rows[-1][0]
        if progress:
            progress(last)
    if report.events < size and report.first_bad is None:
        [missing] = tree.leaves(report.events, report.events + 1)
        report.bad(missing.position, f"the tree has {size:,} leaves but the log only {report.events:,} events: "
                                     f"position {missing.position} onwards (after {last}) is gone")
    for checkpoint in stored:
        _check_stored(checkpoint, roots, verifier, origin, report)
    if kept_checkpoint is not None:
        _check_kept(kept_checkpoint, roots, report)
    return report


def _hashed(eventlog: EventLog, decode: Callable[[bytes], Any], helper: Helper | None,
            split_at_least: int) -> Iterator[tuple[list[Row], list[bytes]]]:
    """The log's rows and their leaf hashes, a page at a time, in log order."""
    head = eventlog.head()
    split = head // 2 if helper is not None and head >= split_at_least else head
    later = helper(split, head) if split < head else None
    after = yield from _read(eventlog, decode, 0, split)
    if later is not None:
        rows, hashes = later.result()
        for start in range(0, len(rows), PAGE):
            yield rows[start:start + PAGE], hashes[start:start + PAGE]
        after = head
    yield from _read(eventlog, decode, after, None)  # what was written meanwhile


def _read(eventlog: EventLog, decode: Callable[[bytes], Any], after: int,
          stop: int | None) -> Iterator[tuple[list[Row], list[bytes]]]:
    """Rows after `after` up to `stop` (None: the end); returns the last position read."""
    while (stop is None or after < stop) and (rows := eventlog.page(after, PAGE, stop=stop)):
        yield rows, hash_rows(rows, decode)
        after = rows[-1][0]
    return after


def hash_range(eventlog: EventLog, decode: Callable[[bytes], Any], after: int,
               stop: int) -> tuple[list[tuple[int, str, int]], list[bytes]]:
    """A helper's work: the rows after `after` up to `stop`, as (position, stream,
    version), and their leaf hashes."""
    rows: list[tuple[int, str, int]] = []
    hashes: list[bytes] = []
    for page, hashed in _read(eventlog, decode, after, stop):
        rows += [(row[0], row[1], row[2]) for row in page]
        hashes += hashed
    return rows, hashes


class Window:
    """The rows and leaf hashes of the chunk the log's reading is in (it may have begun
    in an earlier page), so a chunk that differs can be looked at leaf by leaf."""

    def __init__(self) -> None:
        self.start, self.rows, self.hashes = 0, [], []  # type: tuple[int, list[Row], list[bytes]]

    def add(self, start: int, rows: list[Row], hashes: list[bytes]) -> None:
        if not self.rows:
            self.start = start
        self.rows, self.hashes = self.rows + rows, self.hashes + hashes

    def keep_from(self, index: int) -> None:
        cut = max(0, index - self.start)
        self.rows, self.hashes, self.start = self.rows[cut:], self.hashes[cut:], self.start + cut

    def between(self, first: int, end: int) -> tuple[list[Row], list[bytes]]:
        a, b = first - self.start, end - self.start
        return self.rows[a:b], self.hashes[a:b]


def _open_kept(kept: str | None, verifier: Verifier | None, origin: str | None) -> Checkpoint | None:
    if kept is None:
        return None
    if verifier is None:
        raise BadNote("a kept checkpoint needs a verifier key to check its signature")
    return verifier.open(kept, origin)


def _compare_chunks(tree: TreeStore, window: Window, made: list[tuple[tuple[int, int], bytes]], start: int,
                    size: int, report: Report) -> None:
    """This page's complete chunks against the stored ones; single leaves only where
    a chunk differs, and in the tree's last, incomplete chunk."""
    by_height: dict[int, dict[int, bytes]] = {}
    for (height, index), hash_ in made:  # (heights CHUNK and up: what proofs above a chunk are made of)
        if (index + 1) << height <= size:
            by_height.setdefault(height, {})[index] = hash_
    for height, recomputed in sorted(by_height.items()):
        kept = tree.level(height, min(recomputed), max(recomputed) + 1)
        for index in sorted(recomputed):
            if kept.get(index) != recomputed[index]:
                if height == CHUNK:
                    first = index << CHUNK
                    _compare_leaves(tree, *window.between(first, first + (1 << CHUNK)), first, size, report)
                if report.first_bad is None:
                    _bad_node(tree, height, index, report)
                return
    tail = (size >> CHUNK) << CHUNK  # the tree's last chunk, incomplete: no stored node to hold it against
    end = min(size, window.start + len(window.rows))
    if tail < end and start < end:
        first = max(tail, start)
        _compare_leaves(tree, *window.between(first, end), first, size, report)


def _compare_everything(tree: TreeStore, rows: list[Row], hashes: list[bytes],
                        made: list[tuple[tuple[int, int], bytes]], start: int, size: int, report: Report) -> None:
    """This page's recomputed leaves and every subtree they complete against the stored ones."""
    _compare_leaves(tree, rows, hashes, start, size, report)
    if report.first_bad is not None:
        return
    by_height: dict[int, dict[int, bytes]] = {}
    for (height, index), hash_ in made:
        if height and (index + 1) << height <= size:
            by_height.setdefault(height, {})[index] = hash_
    for height, recomputed in sorted(by_height.items()):
        kept = tree.level(height, min(recomputed), max(recomputed) + 1)
        for index, hash_ in sorted(recomputed.items()):
            if kept.get(index) != hash_:
                _bad_node(tree, height, index, report)
                return


def _compare_leaves(tree: TreeStore, rows: list[Row], hashes: list[bytes], first: int, size: int,
                    report: Report) -> None:
    stored = tree.leaves(first, min(first + len(rows), size))
    for leaf, row, hash_ in zip(stored, rows, hashes):
        if leaf.position != row[0]:
            position = min(leaf.position, row[0])
            report.bad(position, f"position {position}: the tree's leaf {leaf.index} is the event at position "
                                 f"{leaf.position}, the log has position {row[0]} there (a row deleted or inserted)")
            return
        if leaf.hash != hash_:
            report.bad(row[0], f"position {row[0]}: the stored event (stream {row[1]}, version {row[2]}) "
                               f"is not the one the tree holds at leaf {leaf.index}")
            return


def _bad_node(tree: TreeStore, height: int, index: int, report: Report) -> None:
    first = tree.leaves(index << height, (index << height) + 1)
    position = first[0].position if first else None
    report.bad(position, f"the stored subtree of height {height} at index {index} (from position {position}) "
                         "is not the hash of its leaves: the tree was changed by hand")


def _check_stored(checkpoint: Any, roots: dict[int, bytes], verifier: Verifier | None, origin: str | None,
                  report: Report) -> None:
    report.checkpoints += 1
    if verifier is not None:
        try:
            signed = verifier.open(checkpoint.note, origin)
        except BadNote as e:
            report.bad(None, f"the checkpoint of {checkpoint.size:,} leaves: {e}")
            return
        if (signed.size, signed.root) != (checkpoint.size, checkpoint.root):
            report.bad(None, f"the checkpoint of {checkpoint.size:,} leaves: its row and its signed note disagree")
            return
    if checkpoint.size > report.events:
        report.bad(None, f"the checkpoint of {checkpoint.size:,} leaves is longer than the log ({report.events:,})")
    elif roots.get(checkpoint.size, checkpoint.root) != checkpoint.root:
        report.bad(None, f"the log's first {checkpoint.size:,} events do not have the root signed "
                         f"at that size on {checkpoint.made_at}")


def _check_kept(kept: Checkpoint, roots: dict[int, bytes], report: Report) -> None:
    if kept.size > report.events:
        report.bad(None, f"the kept checkpoint has {kept.size:,} leaves; the log has only {report.events:,} events: "
                         "events it covered are gone")
    elif kept.size and roots.get(kept.size) != kept.root:
        report.bad(None, f"the log does not extend the kept checkpoint: its first {kept.size:,} events "
                         "were rewritten after the checkpoint was signed")
