"""The outside verifier checks cosignatures against a witness policy with
transparency-dev/formats' NewVerifierForCosignatureV1 through golang.org/x/mod/sumdb/note:
a checkpoint cosigned by k of the named witnesses counts, fewer does not, a spoilt
cosignature of a named witness fails the note, and one not named, or one witness twice,
counts nothing more; the same over the tiles of a live log, whose /tlog/checkpoint
carries the cosignatures it got."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.world import World
from tests.fixtures.tlog import ORIGIN, ask, served, tiles_request
from transparency.checkpoints import Checkpoint, Signer
from transparency.cosignature import CosignatureSigner
from transparency.log import TransparencyLog
from transparency.store import Cosignature

NOW = 1_790_000_000


@pytest.fixture(scope="module")
def witnesses() -> list[CosignatureSigner]:
    return [CosignatureSigner.generate(f"witness-{i}.example") for i in range(4)]


def cosigned(note: str, text: str, *by: CosignatureSigner) -> str:
    return note + "".join(w.cosign(text, NOW + i) + "\n" for i, w in enumerate(by))


def request(note: str, key: str, root: bytes, size: int, named: list[CosignatureSigner], policy: int) -> dict[str, object]:
    return {"kind": "checkpoint", "note": note, "key": key, "origin": ORIGIN, "size": size, "root": root.hex(),
            "witnesses": [w.vkey() for w in named], "policy": policy}


def test_a_policy_counts_the_good_cosignatures_of_named_witnesses(verifier: Path,
                                                                   witnesses: list[CosignatureSigner]) -> None:
    log = Signer.generate(ORIGIN)
    checkpoint = Checkpoint(ORIGIN, 42, bytes(range(32)))
    text, note, key = checkpoint.text(), log.sign(checkpoint), log.verifier().text()
    other_text = Checkpoint(ORIGIN, 43, bytes(range(32))).text()
    w0, w1, w2, w3 = witnesses
    named = [w0, w1, w2]
    spoilt = note + w0.cosign(other_text, NOW) + "\n" + w1.cosign(text, NOW) + "\n"  # w0 cosigned another tree
    cases = [
        ("ok", request(cosigned(note, text, w0, w1), key, checkpoint.root, 42, named, 2)),
        ("ok", request(cosigned(note, text, w2, w0, w1), key, checkpoint.root, 42, named, 3)),
        ("ok", request(note, key, checkpoint.root, 42, named, 0)),  # no policy: the log's signature alone
        ("witnessed by 2 of the 3", request(cosigned(note, text, w0, w1), key, checkpoint.root, 42, named, 3)),
        ("witnessed by 1 of the 3", request(cosigned(note, text, w0, w3), key, checkpoint.root, 42, named, 2)),
        ("witnessed by 1 of the 3", request(cosigned(note, text, w1, w1), key, checkpoint.root, 42, named, 2)),
        ("invalid signature", request(spoilt, key, checkpoint.root, 42, named, 1)),
        ("not signed by the log", request(text + "\n" + w0.cosign(text, NOW) + "\n", key, checkpoint.root, 42,
                                          named, 1)),
        ("cannot be met", request(cosigned(note, text, w0), key, checkpoint.root, 42, [w0], 2)),
    ]
    answers = ask(verifier, [r for _, r in cases])
    wrong = [(why, answer) for (why, _), answer in zip(cases, answers)
             if not (answer == "ok" if why == "ok" else answer.startswith("fail") and why in answer)]
    assert not wrong, wrong


def test_the_tiles_of_a_witnessed_log_are_checked_against_the_policy(
        verifier: Path, witnesses: list[CosignatureSigner], grown: tuple[TransparencyLog, World]) -> None:
    tlog, _ = grown
    tlog.sequencer().catch_up()
    checkpoint = tlog.checkpoint()
    text = checkpoint.note.split("\n\n")[0] + "\n"
    w0, w1, w2, _ = witnesses
    for w in (w0, w2):
        tlog.tree.add_cosignature(checkpoint.size, Cosignature(w.name, w.cosign(text, NOW), "2026-12-05T00:00:00+00:00"))
    named = [w.vkey() for w in (w0, w1, w2)]
    with served(tlog) as url:
        answers = ask(verifier, [tiles_request(url, tlog, witnesses=named, policy=2),
                                 tiles_request(url, tlog, witnesses=named, policy=3)])
    assert answers[0] == "ok"
    assert answers[1].startswith("fail: witnessed by 2 of the 3")
