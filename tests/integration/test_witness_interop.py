"""Our cosignatures are C2SP's: transparency-dev/formats' NewVerifierForCosignatureV1 (with
golang.org/x/mod/sumdb/note) accepts what a running `gridgov witness serve` returned, and our
verifier accepts what formats' NewSignerForCosignatureV1 signs with our key file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fixtures.tlog import go_built
from tests.fixtures.witnesses import Log, WitnessProcess
from transparency.cosignature import CosignatureSigner, CosignatureVerifier
from transparency.witness import client
from transparency.witness.protocol import split_note

PROGRAM = Path(__file__).resolve().parents[1] / "fixtures" / "cosigv1"


@pytest.fixture(scope="module")
def cosigv1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return go_built(PROGRAM, tmp_path_factory, "the cosignature check of transparency-dev/formats")


def test_formats_verifies_what_our_witness_returned(cosigv1: Path, tmp_path: Path) -> None:
    log = Log()
    log.grow(12)
    witness = WitnessProcess(tmp_path / "w", "witness.test/interop", [log]).start()
    try:
        [line] = client.add_checkpoint(witness.url, log.request(0), timeout_s=10)
    finally:
        witness.stop()
    text = split_note(log.note())[0]
    checked = subprocess.run([str(cosigv1), "verify", witness.vkey], input=f"{text}\n{line}\n",
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert int(checked.stdout) == CosignatureVerifier(witness.vkey).verify(text, line)
    tampered = text.replace("\n12\n", "\n13\n")
    assert subprocess.run([str(cosigv1), "verify", witness.vkey], input=f"{tampered}\n{line}\n",
                          capture_output=True, text=True, timeout=60).returncode == 1


def test_we_verify_what_formats_signs_with_our_key_file(cosigv1: Path) -> None:
    signer = CosignatureSigner.generate("witness.test/go")
    text = "gridgov.test/witnessed-log\n3\n" + "A" * 43 + "=\n"
    signed = subprocess.run([str(cosigv1), "sign", signer.text()], input=text, capture_output=True, text=True,
                            timeout=60)
    assert signed.returncode == 0, signed.stderr
    note_text, lines = split_note(signed.stdout)
    assert note_text == text
    assert CosignatureVerifier(signer.vkey()).verify(text, lines[0]) > 1_700_000_000
