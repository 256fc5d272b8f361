"""Where photos' bytes are kept: a blob is named by the SHA-256 of what it holds
before sealing (hex, plus a suffix such as `.thumb`) and written once; the same
name always holds the same bytes, so a second put is a no-op. A store also tells which
blobs were written before a time: the sweep removes those no upload in the log names
once they are a day old (younger, an upload may still be saving its event)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime

# A SHA-256 in lowercase hex, then at most one known suffix. Nothing else: a name
# becomes a file path and an object key, so `/`, `..` and upper case (two names
# for one blob on a case-insensitive disk) must never reach a store.
_NAME = re.compile(r"[0-9a-f]{64}(\.thumb)?")


def is_name(name: object) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def checked_name(name: str) -> str:
    """`name` if it is a blob's name; ValueError otherwise."""
    if not is_name(name):
        raise ValueError(f"not a blob name (64 lowercase hex, optionally .thumb): {name!r}")
    return name


def checked_time(when: datetime) -> datetime:
    """`when` if it is aware (a naive time is no instant: whose clock?); ValueError otherwise."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"not an aware time: {when!r}")
    return when


class BlobStore(ABC):
    """Every method refuses a name that `checked_name` refuses, with ValueError."""

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

    @abstractmethod
    def names_older_than(self, cutoff: datetime) -> Iterator[str]:
        """Every name kept whose blob was written (put, the first time since its last delete) before
        `cutoff`, an aware time; ValueError for a naive one. In no particular order."""
