"""The transparency log of the event store, as the engine offers it: the
sequencer, signed checkpoints, and proofs that an event is in a checkpoint or
that one checkpoint extends another.

    tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), signer=..., origin=...)
    tlog.sequencer().catch_up()
    tlog.checkpoint()                          # sign the tree as it is now (if it grew)
    tlog.inclusion(position=42)                # in the latest checkpoint (made if none has it yet)
    tlog.consistency(old=100, new=250)         # between two kept checkpoints
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import orjson

from eventlog import EventLog
from transparency.checkpoints import Checkpoint, Signer, Verifier
from transparency.proofs import StoredTree
from transparency.sequencer import Sequencer
from transparency.store import StoredCheckpoint, TreeStore
from transparency.witnessing import WitnessPolicy


class AuditError(Exception):
    """Something asked of the log that it cannot answer; `code` names it for HTTP."""

    code = "audit-error"


class NotInLog(AuditError):
    code = "not-in-log"


class NotYetInTree(AuditError):
    code = "not-yet-in-tree"


class NoSuchCheckpoint(AuditError):
    code = "no-such-checkpoint"


class NoSigningKey(AuditError):
    code = "checkpoints-off"


@dataclass(frozen=True)
class Inclusion:
    position: int
    leaf_index: int
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: StoredCheckpoint

    def as_json(self) -> dict[str, Any]:
        return {"position": self.position, "leaf_index": self.leaf_index, "leaf_hash": self.leaf_hash.hex(),
                "tree_size": self.checkpoint.size, "root": self.checkpoint.root.hex(),
                "proof": [h.hex() for h in self.proof], "checkpoint": self.checkpoint.note}


@dataclass(frozen=True)
class Consistency:
    old: StoredCheckpoint
    new: StoredCheckpoint
    proof: list[bytes]

    def as_json(self) -> dict[str, Any]:
        return {"old_size": self.old.size, "old_root": self.old.root.hex(), "new_size": self.new.size,
                "new_root": self.new.root.hex(), "proof": [h.hex() for h in self.proof],
                "old_checkpoint": self.old.note, "new_checkpoint": self.new.note}


class TransparencyLog:
    def __init__(self, eventlog: EventLog, tree: TreeStore, origin: str, signer: Signer | None = None,
                 decode: Callable[[bytes], Any] = orjson.loads, witnesses: WitnessPolicy | None = None) -> None:
        self.eventlog = eventlog
        self.tree = tree
        self.origin = origin
        self.signer = signer
        self.decode = decode
        self.witnesses = witnesses or WitnessPolicy()  # who cosigns its checkpoints, and how many must
        self._sequencer: Sequencer | None = None
        self._signing = threading.Lock()

    def sequencer(self) -> Sequencer:
        if self._sequencer is None:
            self._sequencer = Sequencer(self.eventlog, self.tree, self.decode)
        return self._sequencer

    def sequence_to(self, position: int) -> None:
        """Make the tree hold the log up to `position` now, by a sequencer of this
        call's own: a Sequencer is one thread's, and the background one may be
        running. Two writers are safe: the store refuses the second (`Moved`)."""
        if self.tree.tip()[1] < position:
            Sequencer(self.eventlog, self.tree, self.decode).catch_up()
        if self.tree.tip()[1] < position:
            raise NotYetInTree(f"the tree did not reach log position {position}")

    @property
    def verifier(self) -> Verifier | None:
        return None if self.signer is None else self.signer.verifier()

    def size(self) -> int:
        return self.tree.tip()[0]

    def lag(self) -> int:
        """Stored events not yet in the tree."""
        return max(0, self.eventlog.head() - self.tree.tip()[1])

    def checkpoint(self) -> StoredCheckpoint:
        """Sign the tree as it is now and keep it; the latest checkpoint if the tree has not grown."""
        self._require_signer()
        with self._signing:
            size = self.size()
            latest = self.tree.checkpoint()
            if latest is not None and latest.size >= size:
                return latest
            root = StoredTree(self.tree, size).root()
            note = self.signer.sign(Checkpoint(self.origin, size, root))
            made = StoredCheckpoint(size, root, note, datetime.now(timezone.utc).isoformat(timespec="seconds"))
            self.tree.save_checkpoint(made)
            return self.tree.checkpoint(size) or made

    def latest(self) -> StoredCheckpoint:
        latest = self.tree.checkpoint()
        if latest is None:
            self._require_signer()
            raise NoSuchCheckpoint("no checkpoint has been made yet")
        return latest

    def _require_signer(self) -> None:
        if self.signer is None:
            raise NoSigningKey("checkpoints are off on this server: set AUDIT_KEY_FILE to a signing key "
                               "(gridgov audit keygen makes one)")

    def at(self, size: int) -> StoredCheckpoint:
        kept = self.tree.checkpoint(size)
        if kept is None:
            raise NoSuchCheckpoint(f"no checkpoint was made at tree size {size}")
        return kept

    def position(self, stream: uuid.UUID, version: int) -> int:
        position = self.eventlog.position_of(stream, version)
        if position is None:
            raise NotInLog(f"stream {stream} has no version {version}")
        return position

    def inclusion(self, position: int, size: int | None = None) -> Inclusion:
        """That the event at `position` is in the checkpoint of `size` (default: the
        latest; a new one if the latest is older than the event)."""
        index = self.tree.index_of(position)
        if index is None:
            if self.eventlog.page(position - 1, 1, stop=position):
                raise NotYetInTree(f"the event at position {position} is not in the tree yet; try again shortly")
            raise NotInLog(f"there is no event at position {position}")
        if size is None:
            latest = self.tree.checkpoint()
            checkpoint = latest if latest is not None and latest.size > index else self.checkpoint()
        else:
            checkpoint = self.at(size)
        if index >= checkpoint.size:
            raise NotYetInTree(f"the event at position {position} is leaf {index}, "
                               f"after the checkpoint of {checkpoint.size} leaves")
        tree = StoredTree(self.tree, checkpoint.size)
        [leaf] = self.tree.leaves(index, index + 1)
        return Inclusion(position, index, leaf.hash, tree.inclusion_proof(index), checkpoint)

    def place(self, steps: list[dict[str, Any]], size: int | None = None) -> StoredCheckpoint | None:
        """Add to each step (a dict with `stream_id` and `version`) its log `position` and
        `leaf_index` (None while the sequencer has not reached it); with `size`, also its
        inclusion `proof` in the checkpoint of that size, which is returned."""
        checkpoint = self.at(size) if size is not None else None
        tree = StoredTree(self.tree, checkpoint.size) if checkpoint else None
        keys = [(uuid.UUID(str(step["stream_id"])), int(step["version"])) for step in steps]
        positions = self.eventlog.positions_of(keys)
        indexes = self.tree.indexes_of(positions.values())
        for step, key in zip(steps, keys):
            position = positions.get(key)
            index = indexes.get(position) if position is not None else None
            step["position"], step["leaf_index"] = position, index
            if tree is not None:
                inside = index is not None and index < tree.size
                step["proof"] = [h.hex() for h in tree.inclusion_proof(index)] if inside else None
        return checkpoint

    def consistency(self, old: int, new: int | None = None) -> Consistency:
        """That the checkpoint of `new` leaves (default: the latest) extends that of `old`."""
        newer = self.latest() if new is None else self.at(new)
        older = self.at(old)
        if older.size > newer.size:
            raise AuditError(f"a checkpoint of {older.size} leaves cannot extend one of {newer.size}")
        return Consistency(older, newer, StoredTree(self.tree, newer.size).consistency_proof(older.size))
