"""The log collects cosignatures: each signed checkpoint is offered to the witnesses
AUDIT_WITNESSES names (C2SP tlog-witness add-checkpoint), and each cosignature that
verifies under the witness's key is kept beside the checkpoint (transparency.store).

Each witness has a thread of its own, which offers it the latest checkpoint, one
request at a time, each bounded by `timeout_s`: a witness that is down or slow
delays its own cosignature and nothing else. It starts from old size 0; a witness
that holds another size answers 409 with it (`Conflict`), and is offered the same
checkpoint again with a consistency proof from that size. A witness that failed
is tried again after a back-off (1 s doubling to 30 s), with the latest checkpoint.

A policy of k of the n named witnesses says when a checkpoint counts as witnessed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from transparency.checkpoints import BadKey, BadNote
from transparency.cosignature import CosignatureVerifier
from transparency.proofs import StoredTree
from transparency.store import Cosignature, StoredCheckpoint
from transparency.witness.client import Conflict, WitnessError, add_checkpoint
from transparency.witness.protocol import AddCheckpoint, split_note

log = logging.getLogger(__name__)

Submit = Callable[[str, AddCheckpoint, float], list[str]]
BACKOFF_S = (1.0, 30.0)
CONFLICTS_PER_OFFER = 3  # a witness moving under us between two answers is a race; more is a fault


class BadWitnesses(ValueError):
    """AUDIT_WITNESSES or AUDIT_WITNESS_POLICY that cannot be read."""


@dataclass(frozen=True)
class Witness:
    url: str
    verifier: CosignatureVerifier

    @property
    def name(self) -> str:
        return self.verifier.name


@dataclass(frozen=True)
class WitnessPolicy:
    """k of the n named witnesses must cosign a checkpoint for it to count as witnessed."""

    witnesses: tuple[Witness, ...] = ()
    k: int = 0

    @classmethod
    def parse(cls, text: str, k: int) -> WitnessPolicy:
        """`<url>=<vkey>,<url>=<vkey>…` (a vkey has no ',' nor '='; base64 may end in '=')."""
        witnesses = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            url, sep, vkey = item.partition("=")
            if not sep or not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
                raise BadWitnesses(f"a witness reads <http(s) url>=<verifier key>, not {item[:80]!r}")
            try:
                witnesses.append(Witness(url, CosignatureVerifier(vkey)))
            except BadKey as e:
                raise BadWitnesses(f"the witness at {url}: {e}") from None
        names = [w.name for w in witnesses]
        if len(set(names)) != len(names):
            raise BadWitnesses("two witnesses have one name: a cosignature would not say whose it is")
        if not 0 <= k <= len(witnesses):
            raise BadWitnesses(f"a policy of {k} cosignatures of the {len(witnesses)} witnesses named can never be met")
        return cls(tuple(witnesses), k)

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.witnesses]

    def cosigners(self, checkpoint: StoredCheckpoint) -> list[str]:
        """The named witnesses whose cosignature of it verifies."""
        text, _ = split_note(checkpoint.note)
        good = []
        for witness in self.witnesses:
            for cosignature in checkpoint.cosignatures:
                if cosignature.witness == witness.name and _verifies(witness.verifier, text, cosignature.line):
                    good.append(witness.name)
                    break
        return good

    def met(self, checkpoint: StoredCheckpoint) -> bool:
        return len(self.cosigners(checkpoint)) >= self.k


def _verifies(verifier: CosignatureVerifier, text: str, line: str) -> bool:
    try:
        verifier.verify(text, line)
        return True
    except BadNote:
        return False


class Witnessing:
    """One thread per witness, each offering it the latest checkpoint (`offer`)."""

    def __init__(self, tlog: Any, policy: WitnessPolicy, timeout_s: float, submit: Submit = add_checkpoint,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.tlog = tlog  # transparency.log.TransparencyLog
        self.policy = policy
        self.timeout_s = timeout_s
        self.submit = submit
        self.now = now
        self._latest: StoredCheckpoint | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._settled: dict[str, int] = {}  # witness → the largest size it has answered about, or failed on
        self._threads = [threading.Thread(target=self._run, args=(w,), name=f"witness-{w.name}", daemon=True)
                         for w in policy.witnesses]

    def start(self) -> Witnessing:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s + 1)

    def offer(self, checkpoint: StoredCheckpoint) -> None:
        with self._changed:
            if self._latest is None or checkpoint.size > self._latest.size:
                self._latest = checkpoint
                self._changed.notify_all()

    def settled(self, size: int) -> bool:
        """Whether every witness has answered (or failed) on a checkpoint of `size` or
        later: the note can then be published with what it got."""
        with self._changed:
            return all(self._settled.get(w.name, 0) >= size for w in self.policy.witnesses)

    def _run(self, witness: Witness) -> None:
        known, backoff, done = 0, BACKOFF_S[0], 0  # its size as far as we know; the size it last cosigned
        while not self._stop.is_set():
            with self._changed:
                while not self._stop.is_set() and (self._latest is None or self._latest.size <= done):
                    self._changed.wait()
                checkpoint = self._latest
            if checkpoint is None or self._stop.is_set():
                return
            try:
                known = self._cosign(witness, checkpoint, known)
                done, backoff = checkpoint.size, BACKOFF_S[0]
                self._settle(witness, checkpoint.size)
            except (WitnessError, BadNote) as e:
                log.warning("witness %s (%s): checkpoint %d not cosigned: %s", witness.name, witness.url,
                            checkpoint.size, e)
                self._settle(witness, checkpoint.size)
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, BACKOFF_S[1])
            except Exception:  # the store away: log it, try again later, keep the thread
                log.exception("witness %s: checkpoint %d", witness.name, checkpoint.size)
                self._settle(witness, checkpoint.size)
                if self._stop.wait(backoff):
                    return

    def _cosign(self, witness: Witness, checkpoint: StoredCheckpoint, known: int) -> int:
        """Offer it `checkpoint` from its `known` size, then from the size it says it has;
        keep its cosignature; return its new size."""
        text, _ = split_note(checkpoint.note)
        for _ in range(CONFLICTS_PER_OFFER):
            if known > checkpoint.size:  # it holds a larger tree than this one: a newer offer will do
                return known
            proof = StoredTree(self.tlog.tree, checkpoint.size).consistency_proof(known) if 0 < known else []
            try:
                lines = self.submit(witness.url, AddCheckpoint(known, proof, checkpoint.note), self.timeout_s)
            except Conflict as e:
                known = e.size
                continue
            mine = [line for line in lines if witness.verifier.matches(line)]
            if not mine:
                raise BadNote(f"the witness answered no cosignature under its key {witness.verifier.vkey}")
            witness.verifier.verify(text, mine[0])
            self.tlog.tree.add_cosignature(checkpoint.size, Cosignature(
                witness.name, mine[0], self.now().isoformat(timespec="seconds")))
            return checkpoint.size
        raise BadNote(f"the witness's size changed {CONFLICTS_PER_OFFER} times in a row")

    def _settle(self, witness: Witness, size: int) -> None:
        with self._changed:
            self._settled[witness.name] = max(self._settled.get(witness.name, 0), size)
