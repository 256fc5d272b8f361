"""Read models in a SQLite file (the embedded default)."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Sequence

from projections.store import ReadStore


class SQLiteTx:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.conn.execute(sql, params).fetchone()


# Pages of a new read-model file. A rebuild copies every page of the read models
# (merged into the WAL, then checkpointed) and indexes them: at 16 KiB that tail took
# 3.3 s where 4 KiB pages took 4.1 (SQLite's default); a live batch writes a few more
# bytes per page it changes. A file made before keeps the size it has.
PAGE_SIZE = 16384


class SQLiteStore(ReadStore):
    dialect = "sqlite"

    def __init__(self, path: str, durable: bool = True, page_size: int = PAGE_SIZE) -> None:
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        self.path = path
        self.durable = durable
        self.page_size = page_size
        # One connection per thread; SQLite serialises writers itself (WAL lets
        # readers go on meanwhile), and a shared in-memory db needs one connection.
        self._local = threading.local()
        self._shared = self._connect() if path == ":memory:" else None
        self._shared_lock = threading.RLock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA page_size={self.page_size}")  # before WAL: a new file only
        if self.durable:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        else:
            # A scratch file a crash makes worthless anyway: no fsync, no WAL to
            # checkpoint; the journal stays in memory, so savepoints still roll back.
            conn.execute("PRAGMA journal_mode=MEMORY")
            conn.execute("PRAGMA synchronous=OFF")
        # Read models are looked up by key all the time; SQLite's default 2 MiB
        # page cache makes a large one go to disk for every batch. A scratch file
        # is written by one rebuild helper of several, each with its own cache:
        # a quarter does as well there (measured), and keeps their sum in bounds.
        conn.execute(f"PRAGMA cache_size={-131072 if self.durable else -32768}")  # KiB: 128 or 32 MiB
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def transaction(self) -> Iterator[SQLiteTx]:
        with self._shared_lock if self._shared is not None else _nothing():
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # --- scratch files for helper processes ---------------------------------------------
    # Helpers write files of their own rather than this one: SQLite has one writer
    # at a time, and a fold holds its write transaction while Python works.

    def _scratch_path(self, name: str) -> str:
        return f"{self.path}.{name}"

    def scratch(self, name: str) -> Callable[[], ReadStore] | None:
        if self.path == ":memory:":
            return None
        _remove(self._scratch_path(name))
        # Pages of the same size, so merging copies them as they are.
        page_size = self._conn().execute("PRAGMA page_size").fetchone()[0]
        return partial(SQLiteStore, self._scratch_path(name), durable=False, page_size=page_size)

    def merge_scratch(self, name: str, fill: Sequence[str], add: Sequence[str] = ()) -> None:
        path = self._scratch_path(name)
        conn = self._conn()
        conn.execute("ATTACH DATABASE ? AS scratch", (path,))  # not allowed inside a transaction
        try:
            with self.transaction() as tx:
                # Into an empty table of the same shape SQLite copies pages, not rows.
                for table in fill:
                    tx.execute(f"INSERT INTO main.{table} SELECT * FROM scratch.{table}")
                for table in add:
                    tx.execute(f"INSERT INTO main.{table} SELECT * FROM scratch.{table} WHERE true "
                               "ON CONFLICT DO NOTHING")
        finally:
            conn.execute("DETACH DATABASE scratch")
        _remove(path)

    def tables(self) -> set[str]:
        with self.transaction() as tx:
            return {r[0] for r in tx.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._shared is not None:
            self._shared.close()


def _remove(path: str) -> None:
    for leftover in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(leftover):
            os.remove(leftover)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
