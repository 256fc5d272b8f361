"""Personal data sealed per rider, so that erasure is real (crypto-shredding).

Events are immutable and copied to Kafka and to other services; deleting a row
would not erase anything. Instead each rider's name and phone are sealed with a
key of their own, kept in one table beside the event store. Erasing deletes the
key, and every copy of the ciphertext becomes noise.
"""

from __future__ import annotations

import base64
import os
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class KeyStore:
    """Rider keys in the event store's own database (SQLite or PostgreSQL),
    through the library's datastore so both share its connection pool."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore
        schema = getattr(datastore, "schema", None)
        self.postgres = schema is not None
        self.table = f"{schema}.rider_keys" if schema else "rider_keys"
        self.param = "%s" if self.postgres else "?"
        blob = "bytea" if self.postgres else "blob"
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (rider_id text PRIMARY KEY, key {blob} NOT NULL)")

    def get_or_create(self, rider_id: UUID) -> bytes:
        """The rider's key, made on first use. A retried registration finds the
        key its first attempt made, so the sealed data stays readable."""
        p = self.param
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"INSERT INTO {self.table} (rider_id, key) VALUES ({p}, {p}) ON CONFLICT DO NOTHING",
                           (str(rider_id), AESGCM.generate_key(bit_length=256)))
        key = self.get(rider_id)
        assert key is not None
        return key

    def get(self, rider_id: UUID) -> bytes | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT key FROM {self.table} WHERE rider_id = {self.param}", (str(rider_id),))
            row = cursor.fetchone()
        if row is None:
            return None
        return bytes(row["key"] if isinstance(row, dict) else row[0])

    def delete(self, rider_id: UUID) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE rider_id = {self.param}", (str(rider_id),))


def seal(key: bytes, data: dict[str, str]) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, orjson.dumps(data), None)).decode()


def unseal(key: bytes, sealed: str) -> dict[str, str]:
    raw = base64.b64decode(sealed)
    return orjson.loads(AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None))
