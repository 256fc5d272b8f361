"""Personal data sealed per rider, so that erasure is real (crypto-shredding).

Events are immutable and copied to Kafka and to other services; deleting a row
would not erase anything. Instead each rider's name and phone are sealed with a
key of their own, kept beside the event store (a KeyStore). Erasing deletes the
key, and every copy of the ciphertext becomes noise.
"""

from __future__ import annotations

import base64
import os
from abc import ABC, abstractmethod
from typing import Literal
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


# Whose keys a store keeps: a rider's seals their personal data; a redemption's
# keys the digest of its one-time code (domain/redemptions.py).
KeyKind = Literal["rider", "redemption"]


class KeyStore(ABC):
    """Where keys are kept: beside the event store, never in it nor on the wire;
    one table (or dict) per kind and backend (eventlog/). Erasing a key erases
    every copy of the data it sealed."""

    @abstractmethod
    def get_or_create(self, owner: UUID) -> bytes:
        """The owner's key, made on first use. A retried command finds the key its
        first attempt made, so what it sealed stays readable."""

    @abstractmethod
    def get(self, owner: UUID) -> bytes | None: ...

    @abstractmethod
    def delete(self, owner: UUID) -> None: ...


def seal(key: bytes, data: dict[str, str]) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, orjson.dumps(data), None)).decode()


def unseal(key: bytes, sealed: str) -> dict[str, str]:
    raw = base64.b64decode(sealed)
    return orjson.loads(AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None))
