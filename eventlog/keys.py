"""The key stores beside the event log: whose keys they keep, and the one
interface every backend's store implements (popo.py, sqlite.py, postgres.py).

A key is kept beside the event store, never in it nor on the wire, so that
deleting it is real: a rider's key seals their personal data
(application/personal.py), a redemption's key gives its one-time code
(domain/redemptions.py), a photo's key seals its bytes in the blob store
(application/photos.py). Erasing a key erases every copy of what it sealed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

# Whose keys a store keeps: one table (or dict) per kind and backend.
KeyKind = Literal["rider", "redemption", "photo"]


class KeyStore(ABC):
    @abstractmethod
    def get_or_create(self, owner: UUID) -> bytes:
        """The owner's key, made on first use. A retried command finds the key its
        first attempt made, so what it sealed stays readable."""

    @abstractmethod
    def get(self, owner: UUID) -> bytes | None: ...

    @abstractmethod
    def insert(self, cursor: Any, owner: UUID, key: bytes) -> None:
        """Add a key made for a new owner, in the transaction of `cursor` (the recorder's: the
        key lands with the events it seals, NewKey below). An owner that has a key
        already is an IntegrityError there, as a conflicting event would be."""

    @abstractmethod
    def delete(self, owner: UUID) -> None: ...


@dataclass(frozen=True)
class NewKey:
    """A key a command made, written in the transaction of its events.

    A redemption's code is keyed with a key of its own (domain/redemptions.py), a rider's
    personal data sealed with one (application/personal.py). Made in a transaction of their
    own, before the events, each cost a second commit: a quarter of a redemption's time on
    SQLite. With the events they land together or not at all: no key is left behind by a
    command refused at its commit, and a key already there for the owner (two commands
    deciding the same new key) fails the commit as a conflict, which the command decides
    again (application/service.py).

    `Application.save(*aggregates, keys=[...])` hands them down: the library passes `save`'s
    keyword arguments to its recorder's `_insert_events`, which runs in the events'
    transaction (in PostgreSQL's pipeline too). Each backend's module has the recorder that
    writes them (`WRITES_KEYS`); GridGovernance names it by the library's APPLICATION_RECORDER_TOPIC.
    """
    store: KeyStore
    owner: UUID
    key: bytes


# The recorder of each database that writes a command's new keys, by PERSISTENCE_MODULE's word: the
# library's topic (the in-memory store's factory reads none: GridGovernance.construct_recorder).
RECORDERS = {"sqlite": "eventlog.sqlite:SQLiteRecorder", "postgres": "eventlog.postgres:PostgresRecorder"}


def writes_keys(recorder: object) -> bool:
    return getattr(recorder, "WRITES_KEYS", False)
