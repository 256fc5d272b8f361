"""cosignature/v1 (C2SP tlog-cosignature): a witness's line verifies on exactly the text it
signed, under exactly its key, and tells back its timestamp; anything else is a BadNote."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from transparency.checkpoints import BadKey, BadNote, Signer, parse_checkpoint
from transparency.cosignature import CosignatureSigner, CosignatureVerifier

SEED = bytes(range(32))
TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
WITNESS = CosignatureSigner("witness.example.com/w1", SEED)


def test_the_line_is_the_specs_bytes() -> None:
    """Key id, timestamp and signature computed from the spec's text, apart from the module."""
    line = WITNESS.cosign(TEXT, 1679315147)
    dash, name, blob64 = line.split(" ")
    blob = base64.b64decode(blob64)
    public = base64.b64decode(WITNESS.vkey().split("+", 2)[2])[1:]
    assert (dash, name) == ("\u2014", "witness.example.com/w1")
    assert blob[:4] == hashlib.sha256(b"witness.example.com/w1\n\x04" + public).digest()[:4]
    assert blob[4:12] == (1679315147).to_bytes(8, "big")
    Ed25519PublicKey.from_public_bytes(public).verify(blob[12:], b"cosignature/v1\ntime 1679315147\n" + TEXT.encode())
    vkey_key = base64.b64encode(b"\x04" + public).decode()
    assert WITNESS.vkey() == f"witness.example.com/w1+{blob[:4].hex()}+{vkey_key}"


def test_the_key_file_is_a_go_note_signer_key() -> None:
    text = WITNESS.text()
    assert text.startswith("PRIVATE+KEY+witness.example.com/w1+")
    assert Signer.parse(text).name == "witness.example.com/w1"  # the note package's own form (type 0x01)
    assert CosignatureSigner.parse(text).vkey() == WITNESS.vkey()


texts = st.builds(lambda origin, size, root, ext: f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n{ext}",
                  st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FFF), min_size=1, max_size=30),
                  st.integers(0, 2**40), st.binary(min_size=32, max_size=32),
                  st.sampled_from(["", "extension line\n"]))


@settings(max_examples=60, deadline=None)
@given(text=texts, now=st.integers(1, 2**63 - 1), other=texts)
def test_a_cosignature_verifies_on_its_text_alone(text: str, now: int, other: str) -> None:
    line = WITNESS.cosign(text, now)
    verifier = CosignatureVerifier(WITNESS.vkey())
    assert verifier.verify(text, line) == now
    if other != text:
        with pytest.raises(BadNote):
            verifier.verify(other, line)


@settings(max_examples=60, deadline=None)
@given(flip=st.integers(0, 75 * 8 - 1))
def test_any_flipped_bit_of_the_signature_is_a_bad_note(flip: int) -> None:
    dash, name, blob64 = WITNESS.cosign(TEXT, 1679315147).split(" ")
    blob = bytearray(base64.b64decode(blob64))
    blob[flip // 8] ^= 1 << (flip % 8)
    with pytest.raises(BadNote):
        WITNESS.verifier().verify(TEXT, f"{dash} {name} {base64.b64encode(bytes(blob)).decode()}")


def test_another_witness_or_a_note_signature_is_not_this_cosigners() -> None:
    other = CosignatureSigner("witness.example.com/w1", bytes(32))  # same name, other key
    with pytest.raises(BadNote):
        WITNESS.verifier().verify(TEXT, other.cosign(TEXT, 5))
    note_line = Signer.parse(WITNESS.text()).sign(parse_checkpoint(TEXT)).splitlines()[-1]  # type 0x01
    assert not WITNESS.verifier().matches(note_line)
    with pytest.raises(BadNote):
        WITNESS.verifier().verify(TEXT, note_line)


@pytest.mark.parametrize("vkey", ["", "a+b", "w+00000000+AQID", WITNESS.vkey().replace("+BA", "+AQ", 1),
                                  Signer.parse(WITNESS.text()).verifier().text()])
def test_a_bad_or_note_type_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(BadKey):
        CosignatureVerifier(vkey)


def test_a_zero_timestamp_or_a_text_with_signatures_is_not_cosigned() -> None:
    with pytest.raises(ValueError):
        WITNESS.cosign(TEXT, 0)
    with pytest.raises(BadNote):
        WITNESS.cosign(TEXT + "\n\u2014 x AAAA\n", 1)
