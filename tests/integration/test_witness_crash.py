"""A witness SIGKILLed mid-submission, several times, while two loops submit the same growing
log as fast as they can (racing each other for the witness's check-and-persist): every
cosignature any loop received is of one growing tree, the restarted witness never holds less
than it has cosigned, and in the end the latest checkpoint is cosigned."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx

from tests.fixtures.witnesses import Log, WitnessProcess, origin_hash
from transparency.cosignature import CosignatureVerifier
from transparency.witness import client
from transparency.witness.protocol import split_note

KILLS = 5


class Submitter:
    """A loop that grows the shared log and submits its newest checkpoint, as a sequencer would."""

    def __init__(self, log: Log, lock: threading.Lock, witness: WitnessProcess, seed: int) -> None:
        self.log, self.lock, self.witness, self.random = log, lock, witness, random.Random(seed)
        self.cosigned: list[tuple[int, bytes, str, str]] = []  # size, root, checkpoint text, line
        self.refusals: list[client.Refused] = []
        self.stop = threading.Event()
        self.known = 0  # what this loop believes the witness holds

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                self.log.grow(self.random.randint(1, 4))
                size = self.log.tree.size
                request = self.log.request(min(self.known, size), size)
                root = self.log.tree.root(size)
            try:
                [line] = client.add_checkpoint(self.witness.url, request, timeout_s=5)
            except client.Conflict as conflict:
                self.known = conflict.size
                continue
            except client.Unreachable:
                self.stop.wait(0.02)  # the witness is down: try again once it is back
                continue
            except client.Refused as refused:
                self.refusals.append(refused)
                continue
            self.known = size
            self.cosigned.append((size, root, split_note(request.note)[0], line))


def test_sigkill_mid_submission_never_leaves_an_inconsistent_pair(tmp_path: Path) -> None:
    log, lock = Log(), threading.Lock()
    witness = WitnessProcess(tmp_path / "w", "witness.test/crash", [log]).start()
    port = int(witness.url.rsplit(":", 1)[1])
    loops = [Submitter(log, lock, witness, seed) for seed in (1, 2)]
    watched: list[int] = []  # the witness's latest size as an outsider sees it, over time and restarts
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in loops]
    threads.append(threading.Thread(target=_watch, args=(witness, loops[0].stop, watched), daemon=True))
    for thread in threads:
        thread.start()
    cosigned_before_kill = []
    try:
        for kill in range(KILLS):
            _wait_for_more_cosignatures(loops, deadline_s=30)
            time.sleep(random.Random(kill).uniform(0, 0.2))  # somewhere mid-submission, not at a quiet moment
            witness.kill()
            cosigned_before_kill.append(max(size for loop in loops for size, *_ in loop.cosigned))
            witness.start(port)
            held = _held_size(witness)
            assert held >= cosigned_before_kill[-1], "the witness rolled back what it had cosigned"
    finally:
        for loop in loops:
            loop.stop.set()
        for thread in threads:
            thread.join(30)
    assert not [r for loop in loops for r in loop.refusals], "one honest log: only 409s, never a refusal"
    assert len(watched) > KILLS and watched == sorted(watched), "the witness served a smaller tree after a larger"
    verifier = CosignatureVerifier(witness.vkey)
    received = sorted((size, root) for loop in loops for size, root, text, line in loop.cosigned
                      if verifier.verify(text, line))
    assert all(log.tree.root(size) == root for size, root in received)  # one tree: the log's, at every size
    assert _held_size(witness) >= received[-1][0], "a racing submission rolled the witness back"
    with lock:
        log.grow(1)
        final = log.tree.size
        _cosign_eventually(witness, log)
    assert witness.stop() == 0
    assert final > max(cosigned_before_kill)


def _wait_for_more_cosignatures(loops: list[Submitter], deadline_s: float) -> None:
    before = sum(len(loop.cosigned) for loop in loops)
    deadline = time.monotonic() + deadline_s
    while sum(len(loop.cosigned) for loop in loops) < before + 5:
        assert time.monotonic() < deadline, "the loops got no cosignature from the restarted witness"
        time.sleep(0.01)


def _watch(witness: WitnessProcess, stop: threading.Event, watched: list[int]) -> None:
    while not stop.is_set():
        try:
            watched.append(_held_size(witness))
        except httpx.HTTPError:
            stop.wait(0.02)  # down between a kill and its restart


def _held_size(witness: WitnessProcess) -> int:
    """The size of the checkpoint the witness serves as its latest (tlog-witness's monitoring GET)."""
    served = httpx.get(f"{witness.url}/{origin_hash()}/checkpoint", timeout=10)
    if served.status_code == 404:
        return 0
    assert served.status_code == 200, served.text
    return int(served.text.split("\n")[1])


def _cosign_eventually(witness: WitnessProcess, log: Log) -> None:
    old = 0
    for _ in range(5):
        try:
            [line] = client.add_checkpoint(witness.url, log.request(old), timeout_s=10)
        except client.Conflict as conflict:
            old = conflict.size
            continue
        assert CosignatureVerifier(witness.vkey).verify(split_note(log.note())[0], line)
        return
    raise AssertionError("the latest checkpoint was never cosigned")
