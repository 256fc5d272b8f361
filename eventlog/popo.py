"""The library's in-memory recorder ("plain old Python objects"): what the rule
tests run on, without a database. Its generic page (base.py) is fast enough for
logs a test makes."""

from __future__ import annotations

import threading
import uuid

from typing import Any, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from eventlog.keys import KeyKind, KeyStore, NewKey
from eventlog.base import EventLog


class POPORecorder(POPOApplicationRecorder):
    """The library's recorder, writing a command's new keys with its events (eventlog/keys.py)."""
    WRITES_KEYS = True

    def _insert_events(self, stored_events: Sequence[StoredEvent], *, keys: Sequence[NewKey] = (),
                       **kwargs: Any) -> Sequence[int] | None:
        with self._database_lock:  # reentrant: the library's own method takes it again
            self._assert_uniqueness(stored_events, **kwargs)  # first: a refused write leaves no key behind
            for new in keys:
                new.store.insert(None, new.owner, new.key)
            return super()._insert_events(stored_events, **kwargs)


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

    def insert(self, cursor: Any, owner: uuid.UUID, key: bytes) -> None:
        with self._lock:
            if owner in self._keys:
                raise IntegrityError(f"a key for {owner} is there already")
            self._keys[owner] = key

    def delete(self, owner: uuid.UUID) -> None:
        with self._lock:
            self._keys.pop(owner, None)
