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
from typing import Literal
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
    def delete(self, owner: UUID) -> None: ...
