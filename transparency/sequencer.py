"""The sequencer: puts every stored event into the tree, in log order, durably.

It reads the log after the position of the tree's last leaf, hashes the rows
(transparency.leaves) and writes the leaves with the subtrees they complete in
one transaction of the tree store. It keeps only the tree's right edge in memory
(a "compact range": one complete subtree per set bit of the size), which it
reads back from the store when it starts, so a sequencer killed at any moment
resumes where the last committed batch ended: no gap, no leaf twice. If another
sequencer wrote first (`Moved`), it reloads and goes on from there.

A gap in the log's positions (PostgreSQL spends a sequence number on a rolled
back insert) is no gap in the tree: leaves are numbered by count, and each
leaf says which position it is.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import orjson

from eventlog import EventLog
from eventlog.polling import Polling
from transparency.leaves import hash_rows
from transparency.merkle import extend, right_edge
from transparency.store import Moved, TreeStore

log = logging.getLogger(__name__)


class Sequencer:
    def __init__(self, eventlog: EventLog, tree: TreeStore, decode: Callable[[bytes], Any] = orjson.loads,
                 batch: int = 5000) -> None:
        self.eventlog = eventlog
        self.tree = tree
        self.decode = decode
        self.batch = batch
        self.load()

    def load(self) -> None:
        """Read the tree's size, last position and right edge back from the store."""
        self.size, self.position = self.tree.tip()
        edge = right_edge(self.size)
        found = self.tree.nodes(edge)
        missing = [node for node in edge if node not in found]
        if missing:
            raise RuntimeError(f"the stored tree of {self.size} leaves lacks its nodes {missing}: "
                               "it was changed by hand; gridgov audit verify says where")
        self.edge: list[tuple[int, bytes]] = [(level, found[(level, index)]) for level, index in edge]

    def step(self) -> int:
        """Integrate up to one batch of new events; how many (0: the tree is caught up).
        If another sequencer extended the tree meanwhile, go on from where it is."""
        while True:
            try:
                return self._step()
            except Moved:
                log.info("sequencer: another writer extended the tree; going on from its end")
                self.load()

    def _step(self) -> int:
        rows = self.eventlog.page(self.position, self.batch)
        if not rows:
            return 0
        leaves = list(zip([row[0] for row in rows], hash_rows(rows, self.decode)))
        edge, size, made, _ = extend(self.edge, self.size, [hash_ for _, hash_ in leaves])
        nodes = [(node, hash_) for node, hash_ in made if node[0] > 0]
        self.tree.append(self.size, leaves, nodes)
        self.edge, self.size, self.position = edge, size, leaves[-1][0]
        return len(leaves)

    def catch_up(self, progress: Callable[[int], None] | None = None,
                 stop: threading.Event | None = None) -> int:
        """Integrate everything there is (until `stop` is set, between batches)."""
        total = 0
        while not (stop and stop.is_set()) and (n := self.step()):
            total += n
            if progress:
                progress(self.size)
        return total


class SequencerThread(Polling):
    """Runs a sequencer in the background (the embedded server, `gridgov audit sequence`),
    and after each round `after_round` (the checkpointer); after a failed round it
    reads the tree back from the store."""

    def __init__(self, sequencer: Sequencer, interval: float = 0.2,
                 after_round: Callable[[], None] | None = None) -> None:
        self.sequencer = sequencer
        self.after_round = after_round
        super().__init__("tlog-sequencer", self._round, interval, after_failure=sequencer.load)

    def _round(self, stop: threading.Event) -> None:
        self.sequencer.catch_up(stop=stop)
        if self.after_round:
            self.after_round()


# Witnesses cosign only the newest checkpoint they are offered, so only the last few
# published can still gain a cosignature.
REPUBLISH_WINDOW = 4


class Checkpointer:
    """After a sequencer's round: sign a checkpoint when the tree has grown and
    `interval` seconds have passed since the last one signed (so an event waits at
    most the interval and a round; nothing is signed while nothing changes), and `publish` every kept
    checkpoint not yet published (one whose publishing failed goes out next round).
    With `witnessing` (transparency.witnessing), each new checkpoint is offered to
    the witnesses, and published with their cosignatures once each has answered
    or failed (a witness down holds it back one request's timeout at most)."""

    def __init__(self, tlog: Any, interval: float, publish: Callable[[str], None] | None = None,
                 now: Callable[[], float] = time.monotonic, witnessing: Any = None) -> None:
        self.tlog = tlog  # transparency.log.TransparencyLog
        self.interval = interval
        self.publish = publish
        self.now = now
        self.witnessing = witnessing  # transparency.witnessing.Witnessing
        self.last = float("-inf")
        self.published = 0  # the largest tree size published
        self.offered = False  # the latest kept checkpoint, offered once at start (a restart's)
        self.lines: dict[int, int] = {}  # size → cosignatures on its note as published, while some lack

    def __call__(self) -> None:
        if self.tlog.signer is None:
            return
        # `last` is when a checkpoint was signed, not when one was looked for: after a
        # quiet spell the first new event is signed at the next round, not an interval on.
        if self.now() - self.last >= self.interval:
            latest = self.tlog.tree.checkpoint()
            if (latest.size if latest else 0) < self.tlog.size():  # an empty tree proves nothing
                latest = self.tlog.checkpoint()
                self.last = self.now()
                self._offer(latest)
            elif not self.offered and latest is not None:
                self._offer(latest)
        if self.publish:
            self._publish_again()
            for kept in self.tlog.tree.checkpoints(after=self.published):
                if self.witnessing is not None and not self.witnessing.settled(kept.size):
                    break
                if self.witnessing is not None:
                    kept = self.tlog.tree.checkpoint(kept.size)  # with the cosignatures got meanwhile
                self.publish(kept.served)  # raises if the broker is away: the next round tries again
                self.published = kept.size
                self._lacking(kept)

    def _lacking(self, kept: Any) -> None:
        """Remember a published note that some witness has not cosigned: a witness down
        or slow when it went out may cosign it later (while it is the newest)."""
        if self.witnessing is not None and len(kept.cosignatures) < len(self.witnessing.policy.witnesses):
            self.lines[kept.size] = len(kept.cosignatures)
            for size in sorted(self.lines)[:-REPUBLISH_WINDOW]:
                del self.lines[size]

    def _publish_again(self) -> None:
        """Publish again a note that gained cosignatures since it went out: same size,
        more lines (a consumer keeps, per size, the note with the most)."""
        if not self.lines:
            return
        for kept in self.tlog.tree.checkpoints(after=min(self.lines) - 1):
            if kept.size in self.lines and len(kept.cosignatures) > self.lines[kept.size]:
                self.publish(kept.served)  # raises if the broker is away: the next round tries again
                del self.lines[kept.size]
                self._lacking(kept)

    def _offer(self, checkpoint: Any) -> None:
        if self.witnessing is not None:
            self.witnessing.offer(checkpoint)
        self.offered = True
