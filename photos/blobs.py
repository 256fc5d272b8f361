"""Where photos' bytes are kept: a blob is named by the SHA-256 of what it holds
before sealing (hex, plus a suffix such as `.thumb`) and written once; the same
name always holds the same bytes, so a second put is a no-op."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator


class BlobStore(ABC):
    @abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Keep `data` under `name` (a no-op when the name is already kept)."""

    @abstractmethod
    def get(self, name: str) -> bytes | None:
        """The bytes kept under `name`, or None."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Forget `name` (a no-op when it is not kept)."""

    @abstractmethod
    def names(self) -> Iterator[str]:
        """Every name kept, in no particular order."""
