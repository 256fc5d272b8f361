"""The embedded default: each blob a file under a root folder (var/photos/ beside
the SQLite files), in two levels of folders named by the name's first four hex
digits (`ab/cd/abcd…`), so no folder grows past a few thousand entries."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from photos.blobs import BlobStore, checked_name, checked_time, is_name

_TEMP = ".tmp-"  # a write in progress (or one a crash left); never a name


class FileBlobStore(BlobStore):
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, name: str) -> Path:
        name = checked_name(name)
        return self.root / name[:2] / name[2:4] / name

    def put(self, name: str, data: bytes) -> None:
        target = self.path(name)
        if target.exists():
            return  # content-addressed: the same name already holds the same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside its target and renamed over it, so a reader (or a crash)
        # sees the whole blob or none; fsynced first, so the rename never points
        # at bytes still only in the page cache.
        fd, temp = tempfile.mkstemp(prefix=_TEMP, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def get(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        for path in self._blobs():
            yield path.name

    def names_older_than(self, cutoff: datetime) -> Iterator[str]:
        """By the file's mtime: a put writes a new file (renamed into place), so it is the put's time."""
        before = checked_time(cutoff).timestamp()
        for path in self._blobs():
            try:
                if path.stat().st_mtime < before:
                    yield path.name
            except FileNotFoundError:
                continue  # deleted meanwhile

    def _blobs(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for entry in second.iterdir():
                    # Not a write in progress (.tmp-…) nor a stray file.
                    if is_name(entry.name) and entry.is_file():
                        yield entry


def _fsync_dir(folder: Path) -> None:
    """The rename itself is durable only once its folder is."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
