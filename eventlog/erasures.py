"""The erasure list: which keys were shredded, kept outside the database so that
no restore of an older backup brings one back (docs/operations.md, "Backups and
restore").

Crypto-shredding deletes a key (eventlog/keys.py); a backup made before the
deletion still holds it, and its log does not hold the erasure either. So every
deletion is first written here, as an empty file named `<kind>-<owner id>` in a
folder of its own (GRIDGOV_ERASURES_DIR), and `gridgov restore` deletes every key
this list names after loading a backup's keys (eventlog/backup.py). The folder is
never part of a database backup and must never be rolled back with one: keep it
on storage of its own (a shared mount for several API instances).

A name is only a kind and a random id: nothing personal is kept here.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, get_args

from eventlog.keys import KeyKind, KeyStore

Erasure = tuple[str, str]  # (kind, owner id as text)


class ErasureList:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def record(self, kind: KeyKind, owner: uuid.UUID) -> None:
        """Write the erasure down durably (the file and its folder synced) before the key goes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{kind}-{owner}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def all(self) -> set[Erasure]:
        """Every erasure recorded; names that are not one (a stray file) are left alone."""
        if not self.folder.is_dir():
            return set()
        found = set()
        for path in self.folder.iterdir():
            kind, _, owner = path.name.partition("-")
            if kind in get_args(KeyKind) and _is_uuid(owner):
                found.add((kind, owner))
        return found


class ShreddingKeyStore(KeyStore):
    """A key store whose deletions are written to the erasure list first."""

    def __init__(self, store: KeyStore, kind: KeyKind, erasures: ErasureList) -> None:
        self.store, self.kind, self.erasures = store, kind, erasures

    def get_or_create(self, owner: uuid.UUID) -> bytes:
        return self.store.get_or_create(owner)

    def get(self, owner: uuid.UUID) -> bytes | None:
        return self.store.get(owner)

    def insert(self, cursor: Any, owner: uuid.UUID, key: bytes) -> None:
        self.store.insert(cursor, owner, key)

    def delete(self, owner: uuid.UUID) -> None:
        # Recorded first: a deletion that then fails leaves a key the next restore drops
        # anyway, the safe way round; the other order could lose the erasure.
        self.erasures.record(self.kind, owner)
        self.store.delete(owner)


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False
