"""An outside verifier agrees: the proofs this project's tree gives are checked by
transparency/verifier, a Go program built here from github.com/transparency-dev/merkle
(what Certificate Transparency and the Go checksum database use), with no code of ours."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from transparency.merkle import Tree, leaf_hash

VERIFIER = Path(__file__).resolve().parents[2] / "transparency" / "verifier"


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("go") is None:
        if os.environ.get("CI"):
            pytest.fail("Go is required in CI to build the outside verifier")
        pytest.skip("no Go toolchain here")
    binary = tmp_path_factory.mktemp("verifier") / "verifier"
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=VERIFIER, check=True, timeout=600,
                   env={**os.environ, "GOFLAGS": "-mod=mod"})
    return binary


def ask(verifier: Path, requests: list[dict[str, object]]) -> list[str]:
    lines = "\n".join(json.dumps(r) for r in requests) + "\n"
    out = subprocess.run([str(verifier)], input=lines, capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.splitlines()


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
