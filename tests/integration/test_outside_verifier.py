"""An outside verifier agrees: the proofs this project's tree gives, and the checkpoints
it signs, are checked by transparency/verifier, a Go program built here from
github.com/transparency-dev/merkle (what Certificate Transparency and the Go checksum
database use) and golang.org/x/mod/sumdb/note (the checksum database's signed notes),
with no code of ours; and so are the proofs and checkpoints of a log kept in a store."""

from __future__ import annotations

import base64
import random
from pathlib import Path

from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.tlog import ask
from tests.fixtures.world import START, World, tour_of_every_event_type
from transparency.checkpoints import DASH, Checkpoint, Signer
from transparency.leaves import leaf_hashes
from transparency.log import TransparencyLog
from transparency.merkle import Tree, leaf_hash
from transparency.store import open_tree_store


def proofs(tree: Tree, rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Every inclusion proof of a few sizes and consistency proofs between many pairs;
    and the same with one hash changed each."""
    good: list[dict[str, object]] = []
    for size in sorted({1, 2, 3, tree.size // 2 or 1, tree.size - 1 or 1, tree.size}):
        root = tree.root(size).hex()
        for index in range(size):
            good.append({"kind": "inclusion", "index": index, "size": size, "leaf": tree.levels[0][index].hex(),
                         "proof": [p.hex() for p in tree.inclusion_proof(index, size)], "root": root})
    for _ in range(200):
        new = rng.randint(1, tree.size)
        old = rng.randint(1, new)
        good.append({"kind": "consistency", "old": old, "new": new, "old_root": tree.root(old).hex(),
                     "new_root": tree.root(new).hex(),
                     "proof": [p.hex() for p in tree.consistency_proof(old, new)]})
    bad = []
    for request in good:
        spoilt = dict(request)
        field = "root" if request["kind"] == "inclusion" else "new_root"
        if request["kind"] == "consistency" and request["old"] == request["new"]:
            continue  # nothing to prove, nothing to spoil but the roots
        spoilt[field] = leaf_hash(bytes.fromhex(str(request[field]))).hex()
        bad.append(spoilt)
    return good, bad


def test_the_go_verifier_accepts_our_proofs_and_refuses_spoilt_ones(verifier: Path) -> None:
    rng = random.Random(9162)
    tree = Tree([leaf_hash(rng.randbytes(rng.randint(0, 40))) for _ in range(77)])
    good, bad = proofs(tree, rng)
    assert len(good) > 300
    assert ask(verifier, good) == ["ok"] * len(good)
    answers = ask(verifier, bad)
    assert len(answers) == len(bad) and all(a.startswith("fail") for a in answers)


# --- signed checkpoints ----------------------------------------------------------------------

ORIGIN = "gridgov.test/log"


def signed(text: str, name: str, key_id: bytes, signer: Signer) -> str:
    """`text` as a signed note whose one signature is by `signer`'s key, under `name` and `key_id`
    (which need not be the signer's own: that is how a forgery is made)."""
    signature = base64.b64encode(key_id + signer.key.sign(text.encode())).decode()
    return f"{text}\n{DASH} {name} {signature}\n"


def checkpoint_request(note: str, key: str, origin: str, size: int, root: bytes) -> dict[str, object]:
    return {"kind": "checkpoint", "note": note, "key": key, "origin": origin, "size": size, "root": root.hex()}


def checkpoints(rng: random.Random) -> tuple[list[dict[str, object]], list[tuple[str, dict[str, object]]]]:
    """Checkpoints of random trees signed by Signer, as the Go verifier should see them; and
    spoilt ones, each with a word of why Go must refuse it."""
    good: list[dict[str, object]] = []
    bad: list[tuple[str, dict[str, object]]] = []
    for _ in range(12):
        signer = Signer.generate(ORIGIN)
        key = signer.verifier().text()
        impostor = Signer.generate(ORIGIN)  # another key of the same name
        assert impostor.id != signer.id
        tree = Tree([leaf_hash(rng.randbytes(rng.randint(0, 40))) for _ in range(rng.randint(0, 150))])
        for size in sorted({0, tree.size // 3, tree.size}):
            root = tree.root(size)
            checkpoint = Checkpoint(ORIGIN, size, root)
            note = signer.sign(checkpoint)
            assert note == signed(checkpoint.text(), ORIGIN, signer.id, signer)  # the helper signs as Signer does
            good.append(checkpoint_request(note, key, ORIGIN, size, root))
            other_root = leaf_hash(root)
            bad += [
                ("size is", checkpoint_request(note, key, ORIGIN, size + 1, root)),
                ("root is", checkpoint_request(note, key, ORIGIN, size, other_root)),
                ("no verifiable signatures", checkpoint_request(impostor.sign(checkpoint), key, ORIGIN, size, root)),
                ("invalid signature",  # the impostor's signature under our key's id
                 checkpoint_request(signed(checkpoint.text(), ORIGIN, signer.id, impostor), key, ORIGIN, size, root)),
                ("invalid signature",  # the text altered after signing, and asked about as altered
                 checkpoint_request(Checkpoint(ORIGIN, size + 1, root).text() + note[len(checkpoint.text()):],
                                    key, ORIGIN, size + 1, root)),
                ("invalid signature",
                 checkpoint_request(Checkpoint(ORIGIN, size, other_root).text() + note[len(checkpoint.text()):],
                                    key, ORIGIN, size, other_root)),
                ("not \"gridgov.test/other\"", checkpoint_request(note, key, "gridgov.test/other", size, root)),
                ("is of \"gridgov.test/other\"",  # signed by our key, but of another log
                 checkpoint_request(signer.sign(Checkpoint("gridgov.test/other", size, root)), key, ORIGIN, size,
                                    root)),
                ("malformed checkpoint",  # well signed, but not a checkpoint: a size with a leading zero
                 checkpoint_request(signed(f"{ORIGIN}\n0{size}\n{base64.b64encode(root).decode()}\n", ORIGIN,
                                           signer.id, signer), key, ORIGIN, size, root)),
                ("malformed checkpoint",  # a root hash of 31 bytes
                 checkpoint_request(signed(f"{ORIGIN}\n{size}\n{base64.b64encode(root[:31]).decode()}\n", ORIGIN,
                                           signer.id, signer), key, ORIGIN, size, root)),
            ]
    return good, bad


def test_the_go_verifier_accepts_our_checkpoints_and_refuses_spoilt_ones(verifier: Path) -> None:
    good, bad = checkpoints(random.Random(2024))
    assert ask(verifier, good) == ["ok"] * len(good)
    answers = ask(verifier, [request for _, request in bad])
    assert len(answers) == len(bad)
    wrong = [(why, answer) for (why, _), answer in zip(bad, answers)
             if not (answer.startswith("fail:") and why in answer)]
    assert not wrong, wrong[:5]


# --- a log kept in a store -------------------------------------------------------------------

def test_the_go_verifier_accepts_the_proofs_of_a_stored_log(verifier: Path, sqlite_file: dict[str, str]) -> None:
    clock = ManualClock(START)
    app = bootstrap.application(load_settings(sqlite_file), clock=clock)
    try:
        world = World(app, clock)
        tour_of_every_event_type(world)
        tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), ORIGIN, Signer.generate(ORIGIN),
                               app.mapper.decode_state)
        assert tlog.verifier is not None
        key = tlog.verifier.text()
        tlog.sequencer().catch_up()
        first = tlog.checkpoint()
        grid, rider = world.scene()
        world.piece(grid, rider)
        world.piece(grid, rider)
        tlog.sequencer().catch_up()
        second = tlog.checkpoint()
        assert 0 < first.size < second.size == app.eventlog.head()

        # the leaves as recomputed from the rows, for a root of our own to compare
        rows = list(leaf_hashes(app.eventlog, decode=app.mapper.decode_state))
        assert [position for position, _ in rows] == list(range(1, second.size + 1))
        recomputed = Tree([h for _, h in rows])
        assert (first.root, second.root) == (recomputed.root(first.size), recomputed.root(second.size))

        requests: list[dict[str, object]] = [checkpoint_request(cp.note, key, ORIGIN, cp.size, cp.root)
                                             for cp in (first, second)]
        for position, leaf in rows:
            proof = tlog.inclusion(position)
            assert proof.checkpoint.note == second.note and proof.leaf_hash == leaf
            requests.append({"kind": "inclusion", "index": proof.leaf_index, "size": proof.checkpoint.size,
                             "leaf": proof.leaf_hash.hex(), "proof": [h.hex() for h in proof.proof],
                             "root": proof.checkpoint.root.hex()})
        for position, _ in rows[:first.size]:
            proof = tlog.inclusion(position, first.size)
            assert proof.checkpoint.note == first.note
            requests.append({"kind": "inclusion", "index": proof.leaf_index, "size": proof.checkpoint.size,
                             "leaf": proof.leaf_hash.hex(), "proof": [h.hex() for h in proof.proof],
                             "root": proof.checkpoint.root.hex()})
        extends = tlog.consistency(first.size, second.size)
        assert (extends.old.note, extends.new.note) == (first.note, second.note)
        requests.append({"kind": "consistency", "old": extends.old.size, "new": extends.new.size,
                         "old_root": extends.old.root.hex(), "new_root": extends.new.root.hex(),
                         "proof": [h.hex() for h in extends.proof]})
        assert len(requests) == 2 + second.size + first.size + 1
        assert ask(verifier, requests) == ["ok"] * len(requests)
        # and they are not accepted whatever they say: the consistency proof, turned round, is refused
        backwards = dict(requests[-1], old_root=requests[-1]["new_root"], new_root=requests[-1]["old_root"])
        assert ask(verifier, [backwards])[0].startswith("fail")
    finally:
        app.close()
