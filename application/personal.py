"""Personal data sealed per rider, so that erasure is real (crypto-shredding).

Events are immutable and copied to Kafka and to other services; deleting a row
would not erase anything. Instead each rider's name and phone are sealed with a
key of their own, kept beside the event store (eventlog/keys.py). Erasing
deletes the key, and every copy of the ciphertext becomes noise.
"""

from __future__ import annotations

import base64
import os

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def seal(key: bytes, data: dict[str, str]) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, orjson.dumps(data), None)).decode()


def unseal(key: bytes, sealed: str) -> dict[str, str]:
    raw = base64.b64decode(sealed)
    return orjson.loads(AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None))


def seal_bytes(key: bytes, data: bytes) -> bytes:
    """Bytes sealed as they are kept (a photo's, in the blob store): nonce, then ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, None)


def unseal_bytes(key: bytes, sealed: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None)
