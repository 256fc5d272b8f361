"""Blobs in a dict, for unit tests: the contract with nothing to clean up. A blob's age is
told by `now` (the application's clock in the tests, so a test's day passes for its blobs too)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from photos.blobs import BlobStore, checked_name, checked_time


def _wall_clock() -> datetime:
    return datetime.now(timezone.utc)


class MemoryBlobStore(BlobStore):
    def __init__(self, now: Callable[[], datetime] = _wall_clock) -> None:
        self._blobs: dict[str, tuple[bytes, datetime]] = {}
        self._now = now

    def put(self, name: str, data: bytes) -> None:
        name = checked_name(name)
        if name not in self._blobs:
            self._blobs[name] = (bytes(data), self._now())

    def get(self, name: str) -> bytes | None:
        kept = self._blobs.get(checked_name(name))
        return None if kept is None else kept[0]

    def delete(self, name: str) -> None:
        self._blobs.pop(checked_name(name), None)

    def names(self) -> Iterator[str]:
        return iter(list(self._blobs))

    def names_older_than(self, cutoff: datetime) -> Iterator[str]:
        cutoff = checked_time(cutoff)
        return iter([name for name, (_, written) in self._blobs.items() if written < cutoff])
