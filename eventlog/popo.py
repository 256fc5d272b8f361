"""The library's in-memory recorder ("plain old Python objects"): what the rule
tests run on, without a database. Its generic page (base.py) is fast enough for
logs a test makes."""

from __future__ import annotations

import threading
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.popo import POPOApplicationRecorder

from eventlog.keys import KeyKind, KeyStore
from eventlog.base import EventLog


class POPOLog(EventLog):
    recorder: POPOApplicationRecorder


    def position_of(self, stream: uuid.UUID, version: int) -> int | None:
        # The recorder's own index of (stream, version) -> place in its list, which
        # is the position less one. Private to the library: this module is its only reader.
        with self.recorder._database_lock:
            index = self.recorder._stored_events_index.get(str(stream), {}).get(version)
        return None if index is None else index + 1

    def make_key_store(self, kind: KeyKind) -> MemoryKeyStore:
        return MemoryKeyStore()


class MemoryKeyStore(KeyStore):
    def __init__(self) -> None:
        self._keys: dict[uuid.UUID, bytes] = {}
        self._lock = threading.Lock()

    def get_or_create(self, owner: uuid.UUID) -> bytes:
        with self._lock:
            return self._keys.setdefault(owner, AESGCM.generate_key(bit_length=256))

    def get(self, owner: uuid.UUID) -> bytes | None:
        return self._keys.get(owner)

    def delete(self, owner: uuid.UUID) -> None:
        with self._lock:
            self._keys.pop(owner, None)
