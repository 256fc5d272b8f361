"""Signed checkpoints: a tree's size and root in the C2SP tlog-checkpoint format,
signed as a C2SP signed-note with Ed25519, so anyone holding the verifier key
(and `golang.org/x/mod/sumdb/note`, or this module) can check them.

    <origin> LF <tree size> LF <base64 root hash> LF          the checkpoint (the note's text)
    LF
    — <key name> <base64(key id ‖ Ed25519 signature)> LF      one line per signature

Keys are written as the Go note package writes them, so its tools read ours:

    signer    PRIVATE+KEY+<name>+<key id, hex>+<base64(0x01 ‖ 32-byte seed)>
    verifier  <name>+<key id, hex>+<base64(0x01 ‖ 32-byte public key)>
    key id    the first 4 bytes of SHA-256(<name> LF 0x01 ‖ public key)
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"  # the em dash that starts a signature line


def save_key(path: Path, text: str) -> None:
    """A signing key's text written for its owner's eyes only (0600), never over a file already there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


class BadKey(ValueError):
    """A key that is not in the note package's text form."""


class BadNote(ValueError):
    """A checkpoint that does not parse, or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise BadKey(f"a key name must be non-empty, without '+' or spaces: {name!r}")


def _key_bytes(name: str, encoded: str, which: str) -> bytes:
    """The 32 key bytes of a key's last part, base64(0x01 ‖ key), with its name checked."""
    _check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise BadKey(f"the {which} key's last part is not base64") from None
    if len(raw) != 33 or raw[:1] != ED25519:
        raise BadKey(f"the {which} key is not an Ed25519 key")
    return raw[1:]


@dataclass(frozen=True)
class Signer:
    name: str
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)  # base64 has '+' too
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise BadKey("a signer key reads PRIVATE+KEY+<name>+<id>+<base64 key>")
        name, hex_id, encoded = parts[2:]
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(_key_bytes(name, encoded, "signer")))
        if key_id(name, _raw(signer.key.public_key())).hex() != hex_id:
            raise BadKey("the signer key's id does not match its key")
        return signer

    @classmethod
    def from_file(cls, path: str | Path) -> Signer:
        try:
            return cls.parse(Path(path).read_text())
        except OSError as e:
            raise BadKey(f"cannot read the signing key {path}: {e.strerror}") from None

    def text(self) -> str:
        seed = self.key.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.id.hex()}+{base64.b64encode(ED25519 + seed).decode()}"

    @property
    def id(self) -> bytes:
        return key_id(self.name, _raw(self.key.public_key()))

    def verifier(self) -> Verifier:
        return Verifier(self.name, _raw(self.key.public_key()))

    def sign(self, checkpoint: Checkpoint) -> str:
        """The checkpoint as a signed note."""
        text = checkpoint.text()
        signature = base64.b64encode(self.id + self.key.sign(text.encode())).decode()
        return f"{text}\n{DASH} {self.name} {signature}\n"


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise BadKey("a verifier key reads <name>+<id>+<base64 key>")
        name, hex_id, encoded = parts
        public = _key_bytes(name, encoded, "verifier")
        if key_id(name, public).hex() != hex_id:
            raise BadKey("the verifier key's id does not match its key")
        return cls(name, public)

    def text(self) -> str:
        return f"{self.name}+{key_id(self.name, self.public).hex()}+{base64.b64encode(ED25519 + self.public).decode()}"

    def open(self, note: str, origin: str | None = None) -> Checkpoint:
        """The checkpoint of a signed note, if this key signed it (and it is of `origin`)."""
        text, sep, signatures = note.rpartition("\n\n")
        if not sep or not note.endswith("\n"):
            raise BadNote("not a signed note: no blank line before the signatures, or no final newline")
        text += "\n"
        mine = key_id(self.name, self.public)
        for line in signatures.splitlines():
            parts = line.split(" ")
            if len(parts) != 3 or parts[0] != DASH:
                raise BadNote(f"not a signature line: {line!r}")
            if parts[1] != self.name:
                continue
            try:
                blob = base64.b64decode(parts[2], validate=True)
            except ValueError:
                raise BadNote("a signature is not base64") from None
            if blob[:4] != mine:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(self.public).verify(blob[4:], text.encode())
            except InvalidSignature:
                raise BadNote(f"the signature of {self.name} does not verify") from None
            return parse_checkpoint(text, origin)
        raise BadNote(f"the note is not signed by {self.name}")


def parse_checkpoint(text: str, origin: str | None = None) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise BadNote("a checkpoint has an origin, a size and a root hash, each on its own line")
    name, size, root = lines[:3]
    if origin is not None and name != origin:
        raise BadNote(f"the checkpoint is of {name!r}, not {origin!r}")
    if not (size.isascii() and size.isdigit()) or (size != "0" and size.startswith("0")):  # not "²"
        raise BadNote(f"the tree size {size!r} is not a decimal number")
    try:
        hash_ = base64.b64decode(root, validate=True)
    except ValueError:
        raise BadNote("the root hash is not base64") from None
    if len(hash_) != 32:
        raise BadNote("the root hash is not 32 bytes")
    return Checkpoint(name, int(size), hash_)
