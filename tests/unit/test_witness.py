"""The witness's decisions (transparency/witness/server.py's Witness), in process: each status
code of tlog-witness for its case, and — for any sequence of honest, stale, forged and rewritten
submissions — never a cosigned pair of checkpoints where the later does not extend the earlier."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fixtures.witnesses import ORIGIN, Log
from transparency.checkpoints import Checkpoint, Signer, parse_checkpoint
from transparency.cosignature import CosignatureSigner
from transparency.merkle import EMPTY_ROOT
from transparency.witness.protocol import AddCheckpoint, format_request, split_note
from transparency.witness.server import Witness
from transparency.witness.state import WitnessState

WITNESS_KEY = CosignatureSigner("witness.test/w1", bytes(range(32)))


def witness_of(log: Log, path: Path, clock: float = 1_800_000_000) -> Witness:
    return Witness(WITNESS_KEY, {ORIGIN: [log.signer.verifier()]}, WitnessState(path / "w.db"), lambda: clock)


def submit(witness: Witness, request: AddCheckpoint) -> tuple[int, str]:
    answer = witness.add_checkpoint(format_request(request))
    return answer.status, answer.body.decode()


def test_a_checkpoint_from_nothing_then_one_extending_it_are_cosigned(tmp_path: Path) -> None:
    log = Log()
    witness = witness_of(log, tmp_path)
    log.grow(5)
    status, body = submit(witness, log.request(0))
    assert status == 200
    assert WITNESS_KEY.verifier().verify(split_note(log.note())[0], body.rstrip("\n")) == 1_800_000_000
    log.grow(8)
    assert submit(witness, log.request(5))[0] == 200
    assert witness.state.held(ORIGIN).size == 13  # type: ignore[union-attr]


def test_a_stale_old_size_is_409_with_the_held_size_as_text_x_tlog_size(tmp_path: Path) -> None:
    log = Log()
    witness = witness_of(log, tmp_path)
    log.grow(7)
    submit(witness, log.request(0))
    log.grow(3)
    answer = witness.add_checkpoint(format_request(log.request(0)))
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"7\n")


def test_each_refusal_has_the_specs_code(tmp_path: Path) -> None:
    log = Log()
    witness = witness_of(log, tmp_path)
    log.grow(4)
    assert submit(witness, log.request(0))[0] == 200
    log.grow(4)
    good = log.request(4)
    unknown = Log(Signer.generate("gridgov.test/other"))
    unknown.grow(1)
    other_origin = Signer.generate("elsewhere").sign(Checkpoint("elsewhere", 1, bytes(32)))
    forged = good.note.replace(good.note.split(" ")[-1], base64.b64encode(
        log.signer.id + bytes(64)).decode() + "\n")  # the log's name and key id, a wrong signature
    cases = {
        400: [AddCheckpoint(9, [], good.note)],  # old above the new size
        404: [AddCheckpoint(0, [], other_origin)],
        403: [AddCheckpoint(4, good.proof, forged),
              AddCheckpoint(4, good.proof, Signer.generate(ORIGIN).sign(parse_checkpoint(split_note(good.note)[0])))],
        409: [AddCheckpoint(3, good.proof, good.note)],
        422: [AddCheckpoint(4, good.proof[:-1], good.note), AddCheckpoint(4, [bytes(32)] * len(good.proof), good.note)],
    }
    for status, requests in cases.items():
        for request in requests:
            assert submit(witness, request)[0] == status, (status, request)
    assert witness.state.held(ORIGIN).size == 4  # type: ignore[union-attr]
    assert submit(witness, good)[0] == 200


def test_a_malformed_body_is_400_and_an_empty_tree_must_have_the_empty_root(tmp_path: Path) -> None:
    log = Log()
    witness = witness_of(log, tmp_path)
    assert witness.add_checkpoint(b"old 1\n\nnot a note").status == 400
    bad_empty = log.signer.sign(Checkpoint(ORIGIN, 0, bytes(32)))
    assert submit(witness, AddCheckpoint(0, [], bad_empty))[0] == 422
    assert submit(witness, AddCheckpoint(0, [], log.signer.sign(Checkpoint(ORIGIN, 0, EMPTY_ROOT))))[0] == 200
    log.grow(2)
    assert submit(witness, AddCheckpoint(0, [bytes(32)], log.note()))[0] == 422  # a proof from 0


def test_the_rewritten_history_is_refused_and_kept_as_evidence(tmp_path: Path) -> None:
    log = Log()
    witness = witness_of(log, tmp_path)
    log.grow(10)
    assert submit(witness, log.request(0))[0] == 200
    rewritten = log.fork(rewritten_from=3)
    rewritten.grow(5)
    assert submit(witness, rewritten.request(0))[0] == 409  # the log learns the witness's size…
    assert submit(witness, rewritten.request(10))[0] == 422  # …and cannot prove its rewrite extends it
    same_size = log.fork(rewritten_from=3)
    assert submit(witness, same_size.request(10))[0] == 422
    kept = witness.state.evidence()
    assert [e.kind for e in kept] == ["proof-fails", "same-size-other-root"]
    assert all(e.held_note.startswith(split_note(log.note(10))[0]) for e in kept)
    assert kept[1].note.startswith(split_note(same_size.note(10))[0])
    assert submit(witness, same_size.request(10))[0] == 422
    assert len(witness.state.evidence()) == 2  # a retried split is kept once


def test_the_state_outlives_the_witness(tmp_path: Path) -> None:
    log = Log()
    log.grow(6)
    assert submit(witness_of(log, tmp_path), log.request(0))[0] == 200
    again = witness_of(log, tmp_path)
    assert submit(again, log.request(0)) == (409, "6\n")
    assert submit(again, log.request(6))[0] == 200  # the same checkpoint again: cosigned again


moves = st.lists(st.tuples(st.sampled_from(["grow", "honest", "stale", "fork", "bad-proof"]),
                           st.integers(1, 9), st.integers(0, 40)), max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=moves)
def test_whatever_is_submitted_the_cosigned_checkpoints_form_one_growing_tree(moves: list, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    log = Log()
    witness = witness_of(log, tmp_path_factory.mktemp("w"))
    forks: list[Log] = []
    cosigned: list[tuple[int, bytes]] = []
    for move, n, old in moves:
        if move == "grow":
            log.grow(n)
            continue
        source = log
        if move == "fork" and log.tree.size:
            source = log.fork(rewritten_from=n % log.tree.size)
            source.grow(n % 3)
            forks.append(source)
        held = witness.state.held(ORIGIN)
        size = source.tree.size
        start = old if move == "stale" else held.size if held else 0
        request = source.request(min(start, size), size)
        if move == "bad-proof" and request.proof:
            request = AddCheckpoint(request.old_size, [bytes(32)] + request.proof[1:], request.note)
        if submit(witness, request)[0] == 200:
            cosigned.append((size, source.tree.root(size)))
    histories = [log, *forks]
    for (a, ra), (b, rb) in zip(cosigned, cosigned[1:]):
        # Consistent: one history (the log, or a rewrite of it) has both roots at their sizes.
        assert a <= b
        assert any(h.tree.size >= b and h.tree.root(a) == ra and h.tree.root(b) == rb for h in histories), (a, b)
    assert len(cosigned) <= sum(move != "grow" for move, _, _ in moves)


def test_racing_submissions_from_one_size_cosign_exactly_one(tmp_path: Path) -> None:
    """tlog-witness's race: check and persist are one step, so of many submissions from the
    held size, one is cosigned and the others hear 409 — never a later, smaller tree."""
    log = Log()
    witness = witness_of(log, tmp_path)
    log.grow(10)
    assert submit(witness, log.request(0))[0] == 200
    log.grow(16)
    requests = [log.request(10, size) for size in range(11, 27)]
    barrier = threading.Barrier(len(requests))

    def race(request: AddCheckpoint) -> int:
        barrier.wait()
        return submit(witness, request)[0]

    with ThreadPoolExecutor(len(requests)) as pool:
        statuses = list(pool.map(race, requests))
    assert sorted(statuses) == [200] + [409] * (len(requests) - 1)
    winner = requests[statuses.index(200)]
    assert witness.state.held(ORIGIN).size == parse_checkpoint(split_note(winner.note)[0]).size  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(old=0, size=2**63, proof=[]).via("a tree larger than SQLite's integers: was an OverflowError")
@given(old=st.integers(0, 2**70), size=st.integers(0, 2**70), proof=st.lists(st.binary(min_size=32, max_size=32),
                                                                              max_size=3))
def test_any_log_signed_submission_is_answered_with_a_spec_code_never_an_error(
        old: int, size: int, proof: list[bytes], tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    log = Log()
    witness = witness_of(log, tmp_path_factory.mktemp("w"))
    note = log.signer.sign(Checkpoint(ORIGIN, size, EMPTY_ROOT if size == 0 else bytes(32)))
    status, _ = submit(witness, AddCheckpoint(old, proof, note))
    assert status in (200, 400, 409, 422)
    held = witness.state.held(ORIGIN)
    assert (status == 200) == (held is not None)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=400))
def test_any_body_is_answered_with_a_spec_code(body: bytes, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    witness = Witness(WITNESS_KEY, {ORIGIN: [Log().signer.verifier()]}, WitnessState(":memory:"))
    assert witness.add_checkpoint(body).status in (400, 403, 404)


def test_a_rewritten_checkpoint_of_an_earlier_cosigned_size_is_kept_as_evidence(tmp_path: Path) -> None:
    """Not only the latest: a log-signed root for any size it once cosigned, other than the one it cosigned."""
    log = Log()
    witness = witness_of(log, tmp_path)
    log.grow(5)
    assert submit(witness, log.request(0))[0] == 200
    log.grow(4)
    assert submit(witness, log.request(5))[0] == 200
    rewritten = log.fork(rewritten_from=2)
    assert submit(witness, rewritten.request(0, 5))[0] == 409
    assert submit(witness, rewritten.request(9, 5))[0] == 400
    [kept] = witness.state.evidence()
    assert kept.kind == "same-size-other-root"
    assert kept.held_note.startswith(split_note(log.note(5))[0]) and kept.note.startswith(split_note(rewritten.note(5))[0])
    assert submit(witness, log.request(0, 5))[0] == 409 and len(witness.state.evidence()) == 1  # the true one is no split
