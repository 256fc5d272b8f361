"""The log collects cosignatures (transparency.witnessing), against witnesses in this
process that keep tlog-witness's rules (old size, consistency proof, 409 with their
size): each checkpoint is offered to every witness, a cosignature that verifies is
kept and served after the log's signature, a witness that is down holds back
nothing but its own, one that holds another size is offered the checkpoint again
from that size, and the policy counts only the named witnesses' good cosignatures."""

from __future__ import annotations

import time
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World
from transparency.checkpoints import Signer, Verifier
from transparency.cosignature import CosignatureSigner
from transparency.merkle import verify_consistency
from transparency.log import TransparencyLog
from transparency.sequencer import Checkpointer
from transparency.store import open_tree_store
from transparency.witness.client import Conflict, Unreachable
from transparency.witness.protocol import AddCheckpoint, split_note
from transparency.witnessing import BadWitnesses, Witnessing, WitnessPolicy

ORIGIN = "gridgov.test/w"


class FakeWitness:
    """A witness as tlog-witness has it, in memory: cosigns only a checkpoint the log
    signed that extends the last one it cosigned, proven from the size it holds."""

    def __init__(self, name: str, log_key: Verifier) -> None:
        self.signer = CosignatureSigner.generate(name)
        self.log_key = log_key
        self.size, self.root = 0, b""
        self.asked: list[int] = []  # the old sizes it was offered from

    def __call__(self, url: str, request: AddCheckpoint, timeout_s: float) -> list[str]:
        self.asked.append(request.old_size)
        checkpoint = self.log_key.open(request.note, ORIGIN)
        if request.old_size != self.size:
            raise Conflict(self.size)
        if self.size and not verify_consistency(self.size, checkpoint.size, self.root, checkpoint.root,
                                                request.proof):
            raise AssertionError("the log sent a bad consistency proof")
        self.size, self.root = checkpoint.size, checkpoint.root
        return [self.signer.cosign(split_note(request.note)[0], int(time.time()))]


def down(url: str, request: AddCheckpoint, timeout_s: float) -> list[str]:
    raise Unreachable(f"{url}: connection refused")


def by_url(witnesses: dict[str, Callable[..., list[str]]]) -> Callable[..., list[str]]:
    return lambda url, request, timeout_s: witnesses[url](url, request, timeout_s)


def wait_for(condition: Callable[[], bool], deadline_s: float = 10) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and not condition():
        time.sleep(0.01)
    return condition()


@pytest.fixture
def signing() -> tuple[TransparencyLog, World]:
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock=clock)
    tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), ORIGIN, Signer.generate(ORIGIN))
    yield tlog, World(app, clock)
    app.close()


def policy_of(witnesses: dict[str, object], k: int) -> WitnessPolicy:
    return WitnessPolicy.parse(",".join(f"{url}={w.signer.vkey()}" for url, w in witnesses.items()), k)


def test_every_checkpoint_is_cosigned_and_served_with_the_cosignatures(signing) -> None:  # type: ignore[no-untyped-def]
    tlog, world = signing
    a, b = FakeWitness("witness-a", tlog.verifier), FakeWitness("witness-b", tlog.verifier)
    witnesses = {"http://a.test": a, "http://b.test": b}
    policy = policy_of(witnesses, 2)
    witnessing = Witnessing(tlog, policy, timeout_s=1, submit=by_url(witnesses)).start()
    published: list[str] = []
    checkpointer = Checkpointer(tlog, interval=0, publish=published.append, witnessing=witnessing)
    try:
        for _ in range(3):
            world.scene()
            tlog.sequencer().catch_up()
            checkpointer()
            size = tlog.size()
            assert wait_for(lambda: len(tlog.tree.checkpoint(size).cosignatures) == 2)
            checkpointer()
            assert published and published[-1] == tlog.tree.checkpoint(size).served
        assert a.asked[0] == 0 and a.asked[1:] == [c.size for c in tlog.tree.checkpoints()][:-1]
        latest = tlog.latest()
        assert policy.cosigners(latest) == ["witness-a", "witness-b"] and policy.met(latest)
        assert tlog.verifier.open(latest.served, ORIGIN).size == latest.size  # the log's own key still reads it
        for witness in (a, b):
            witness.signer.verifier().verify(split_note(latest.note)[0], [
                c.line for c in latest.cosignatures if c.witness == witness.signer.name][0])
    finally:
        witnessing.stop()


def test_a_witness_that_is_down_holds_back_only_its_own_cosignature(signing) -> None:  # type: ignore[no-untyped-def]
    tlog, world = signing
    up = FakeWitness("witness-up", tlog.verifier)
    dead = FakeWitness("witness-down", tlog.verifier)
    policy = policy_of({"http://up.test": up, "http://down.test": dead}, 1)
    witnessing = Witnessing(tlog, policy, timeout_s=1, submit=by_url({"http://up.test": up, "http://down.test": down})).start()
    published: list[str] = []
    checkpointer = Checkpointer(tlog, interval=0, publish=published.append, witnessing=witnessing)
    try:
        world.scene()
        tlog.sequencer().catch_up()
        checkpointer()
        size = tlog.size()
        assert wait_for(lambda: tlog.tree.checkpoint(size).cosigners == ["witness-up"])
        assert wait_for(lambda: (checkpointer(), published)[1] != [])
        assert published == [tlog.tree.checkpoint(size).served]
        assert policy.met(tlog.latest()) and policy.cosigners(tlog.latest()) == ["witness-up"]
    finally:
        witnessing.stop()


def test_a_witness_holding_another_size_is_offered_the_checkpoint_again_from_it(signing) -> None:  # type: ignore[no-untyped-def]
    tlog, world = signing
    witness = FakeWitness("witness-a", tlog.verifier)
    world.scene()
    tlog.sequencer().catch_up()
    first = tlog.checkpoint()
    witness("http://a.test", AddCheckpoint(0, [], first.note), 1)  # it saw the first from elsewhere
    world.scene()
    tlog.sequencer().catch_up()
    second = tlog.checkpoint()
    witnessing = Witnessing(tlog, policy_of({"http://a.test": witness}, 1), timeout_s=1, submit=witness).start()
    try:
        witnessing.offer(second)
        assert wait_for(lambda: tlog.tree.checkpoint(second.size).cosigners == ["witness-a"])
        assert witness.asked == [0, 0, first.size]  # ours from 0: 409 with its size; again from it
    finally:
        witnessing.stop()


def test_a_cosignature_under_another_key_is_not_kept(signing) -> None:  # type: ignore[no-untyped-def]
    tlog, world = signing
    impostor = FakeWitness("witness-a", tlog.verifier)  # the name of the named witness, another key
    named = FakeWitness("witness-a", tlog.verifier)
    witnessing = Witnessing(tlog, policy_of({"http://a.test": named}, 1), timeout_s=1, submit=impostor).start()
    try:
        world.scene()
        tlog.sequencer().catch_up()
        checkpoint = tlog.checkpoint()
        witnessing.offer(checkpoint)
        assert wait_for(lambda: witnessing.settled(checkpoint.size))
        assert tlog.tree.checkpoint(checkpoint.size).cosignatures == ()
    finally:
        witnessing.stop()


KEYS = [CosignatureSigner.generate(f"w{i}").vkey() for i in range(4)]


@given(n=st.integers(0, 4), k=st.integers(-2, 6))
def test_a_policy_is_k_of_the_n_named_or_refused(n: int, k: int) -> None:
    text = ",".join(f"http://w{i}.test:8{i}/=" + KEYS[i] for i in range(n))
    if 0 <= k <= n:
        policy = WitnessPolicy.parse(text, k)
        assert policy.names == [f"w{i}" for i in range(n)] and policy.k == k
        assert [w.url for w in policy.witnesses] == [f"http://w{i}.test:8{i}/" for i in range(n)]
    else:
        with pytest.raises(BadWitnesses):
            WitnessPolicy.parse(text, k)


@pytest.mark.parametrize("text", ["a.test=" + KEYS[0], "http://a.test", "http://a.test=notakey",
                                  f"http://a.test={KEYS[0]},http://b.test={KEYS[0]}",
                                  "http://a.test=" + Signer.generate("w0").verifier().text()],
                         ids=["no-scheme", "no-key", "not-a-key", "one-key-twice", "a-log-key"])
def test_witnesses_that_cannot_be_read_are_refused(text: str) -> None:
    with pytest.raises(BadWitnesses):
        WitnessPolicy.parse(text, 0)
