"""Cosignatures: a witness's statement that, at a time, the largest consistent tree it
has seen of a log has this root (C2SP tlog-cosignature, `cosignature/v1`, Ed25519).

    signed message   cosignature/v1 LF  time <timestamp> LF  <the checkpoint's text>
    signature line   — <name> <base64(key id ‖ 8-byte big-endian timestamp ‖ Ed25519 signature)>
    key id           the first 4 bytes of SHA-256(<name> LF 0x04 ‖ public key)
    verifier key     <name>+<key id, hex>+<base64(0x04 ‖ 32-byte public key)>

The signing key is kept as the Go note package writes an Ed25519 signer key
(PRIVATE+KEY+…, type 0x01), the form transparency-dev/formats' NewSignerForCosignatureV1
reads; the verifier key is the one its NewVerifierForCosignatureV1 reads (type 0x04).
"""

from __future__ import annotations

import base64
import hashlib
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from transparency.checkpoints import DASH, BadKey, BadNote, Signer

COSIGNATURE_V1 = b"\x04"
MAX_TIMESTAMP = 2**63 - 1


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_V1 + public).digest()[:4]


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + checkpoint_text.encode()


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise BadKey(f"a key name must be non-empty, without '+' or spaces: {name!r}")


def _check_text(checkpoint_text: str) -> None:
    # A cosignature covers the note's text alone, never its signature lines.
    if not checkpoint_text.endswith("\n") or "\n\n" in checkpoint_text:
        raise BadNote("a checkpoint's text ends with a newline and has no blank line")


class CosignatureSigner:
    def __init__(self, name: str, seed: bytes) -> None:
        _check_name(name)
        if len(seed) != 32:
            raise BadKey("an Ed25519 seed is 32 bytes")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.id = key_id(name, self.public)

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def parse(cls, text: str) -> CosignatureSigner:
        """A signer from a Go note signer key (PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>)."""
        signer = Signer.parse(text)
        return cls(signer.name, signer.key.private_bytes_raw())

    def text(self) -> str:
        """The key file's text: the note package's Ed25519 signer key (its id is of type 0x01)."""
        return Signer(self.name, self._key).text()

    def vkey(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(COSIGNATURE_V1 + self.public).decode()}"

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.vkey())

    def cosign(self, checkpoint_text: str, now: int) -> str:
        """The signature line (no final newline) cosigning `checkpoint_text` at POSIX time `now`."""
        _check_text(checkpoint_text)
        if not 0 < now <= MAX_TIMESTAMP:
            raise ValueError("a cosignature's timestamp is a positive POSIX time")
        stamp = now.to_bytes(8, "big")
        signature = self._key.sign(signed_message(checkpoint_text, now))
        return f"{DASH} {self.name} {base64.b64encode(self.id + stamp + signature).decode()}"


class CosignatureVerifier:
    def __init__(self, vkey: str) -> None:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise BadKey("a cosigner's verifier key reads <name>+<id>+<base64 key>")
        name, hex_id, encoded = parts
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise BadKey("the cosigner key's last part is not base64") from None
        if len(raw) != 33 or raw[:1] != COSIGNATURE_V1:
            raise BadKey("the key is not an Ed25519 cosignature/v1 key (type 0x04)")
        if key_id(name, raw[1:]).hex() != hex_id:
            raise BadKey("the cosigner key's id does not match its key")
        self.vkey, self.name, self.public, self.id = vkey.strip(), name, raw[1:], bytes.fromhex(hex_id)

    def matches(self, line: str) -> bool:
        """Whether a signature line claims to be this cosigner's (name and key id)."""
        parts = line.rstrip("\n").split(" ")
        if len(parts) != 3 or parts[0] != DASH or parts[1] != self.name:
            return False
        try:
            return base64.b64decode(parts[2], validate=True)[:4] == self.id
        except ValueError:
            return False

    def verify(self, checkpoint_text: str, line: str) -> int:
        """The timestamp of this cosigner's signature line on `checkpoint_text`; BadNote if it is not one."""
        _check_text(checkpoint_text)
        if not self.matches(line):
            raise BadNote(f"not a cosignature of {self.name}")
        blob = base64.b64decode(line.rstrip("\n").split(" ")[2])
        if len(blob) != 4 + 8 + 64:
            raise BadNote(f"the cosignature of {self.name} is not a timestamped Ed25519 signature")
        timestamp = int.from_bytes(blob[4:12], "big")
        if timestamp > MAX_TIMESTAMP:
            raise BadNote("a cosignature's timestamp exceeds 2^63 - 1")
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(blob[12:], signed_message(checkpoint_text, timestamp))
        except InvalidSignature:
            raise BadNote(f"the cosignature of {self.name} does not verify") from None
        return timestamp
