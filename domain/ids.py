"""Identifiers: random for new things, derived for things named by a key."""

from __future__ import annotations

import random
import threading
import uuid
from typing import Protocol

# Fixed namespace so derived ids are the same in every process and every year.
NAMESPACE = uuid.UUID("6f1d3c1e-9b0a-4e1f-8c53-0d3c2b8e7a10")


class IdFactory(Protocol):
    def __call__(self) -> uuid.UUID: ...


def random_ids() -> uuid.UUID:
    return uuid.uuid4()


class SeededIds:
    """Reproducible version-4 UUIDs: same seed, same ids (the demo relies on it)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self) -> uuid.UUID:
        with self._lock:
            return uuid.UUID(int=self._rng.getrandbits(128), version=4)


def derived_id(kind: str, *parts: object) -> uuid.UUID:
    """The id of an aggregate that is named by a key (a rider's month account, a
    district's schedule): two processes asking for it get the same stream."""
    return uuid.uuid5(NAMESPACE, "/".join([kind, *map(str, parts)]))
