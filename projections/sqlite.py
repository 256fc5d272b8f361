"""Read models in a SQLite file (the embedded default)."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

from projections.store import ReadStore


class SQLiteTx:
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


class SQLiteStore(ReadStore):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        self.path = path
        # One connection per thread; SQLite serialises writers itself (WAL lets
        # readers go on meanwhile), and a shared in-memory db needs one connection.
        self._local = threading.local()
        self._shared = self._connect() if path == ":memory:" else None
        self._shared_lock = threading.RLock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # Read models are looked up by key all the time; SQLite's default 2 MiB
        # page cache makes a large one go to disk for every batch.
        conn.execute("PRAGMA cache_size=-131072")  # 128 MiB
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


@contextmanager
def _nothing() -> Iterator[None]:
    yield
