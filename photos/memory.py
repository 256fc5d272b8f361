"""Blobs in a dict, for unit tests: the contract with nothing to clean up."""

from __future__ import annotations

from collections.abc import Iterator

from photos.blobs import BlobStore, checked_name


class MemoryBlobStore(BlobStore):
    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def put(self, name: str, data: bytes) -> None:
        self._blobs.setdefault(checked_name(name), bytes(data))

    def get(self, name: str) -> bytes | None:
        return self._blobs.get(checked_name(name))

    def delete(self, name: str) -> None:
        self._blobs.pop(checked_name(name), None)

    def names(self) -> Iterator[str]:
        return iter(list(self._blobs))
