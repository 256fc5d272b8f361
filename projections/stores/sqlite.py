"""Read models in a SQLite file (the embedded default)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Sequence

from projections.stores import IN_CHUNK, ReadStore, insert_sql, upsert_clause


class SQLiteTx:
    dialect = "sqlite"
    compact_table = " WITHOUT ROWID"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def upsert_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]],
                    key: Sequence[str]) -> None:
        if rows:
            self.conn.executemany(insert_sql(table, columns, upsert_clause(columns, key)), rows)

    def insert_new(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.conn.executemany(insert_sql(table, columns, "ON CONFLICT DO NOTHING"), rows)

    def append_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.conn.executemany(insert_sql(table, columns), rows)

    def select_by_keys(self, table: str, columns: Sequence[str], key: str, key_type: str,
                       keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        select = f"SELECT {', '.join(columns)} FROM {table} WHERE {key} IN "
        found: list[tuple[Any, ...]] = []
        for i in range(0, len(keys), IN_CHUNK):
            chunk = keys[i:i + IN_CHUNK]
            found += self.conn.execute(select + f"({', '.join('?' * len(chunk))})", chunk).fetchall()
        return found

    def lock(self, tables: Sequence[str]) -> None:
        pass  # the write transaction (BEGIN IMMEDIATE) already keeps every other writer out

    def table_names(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.conn.execute(sql, params).fetchone()


# Pages of a new read-model file. A rebuild writes every page of the read models
# through the WAL and indexes them, a fifth faster in 16 KiB pages than in SQLite's
# default 4 KiB (measured); a live batch writes a few more bytes per page it changes,
# which the HTTP benchmark did not notice. A file made before keeps its page size.
PAGE_SIZE = 16384


class SQLiteStore(ReadStore):
    dialect = "sqlite"

    def __init__(self, path: str, page_size: int = PAGE_SIZE, helper: bool = False) -> None:
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        self.path = path
        self.page_size = page_size
        # A rebuild helper's connection (see `for_helper`).
        self.helper = helper
        # One connection per thread; SQLite serialises writers itself (WAL lets
        # readers go on meanwhile), and a shared in-memory db needs one connection.
        self._local = threading.local()
        self._shared = self._connect() if path == ":memory:" else None
        self._shared_lock = threading.RLock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA page_size={self.page_size}")  # before WAL: a new file only
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        # Read models are looked up by key all the time; SQLite's default 2 MiB
        # page cache makes a large one go to disk for every batch. A rebuild helper
        # writes new rows in key order: a quarter does as well there (measured), and
        # keeps the sum over helpers in bounds.
        conn.execute(f"PRAGMA cache_size={-32768 if self.helper else -131072}")  # KiB: 32 or 128 MiB
        conn.execute("PRAGMA temp_store=MEMORY")
        if self.helper:
            # A checkpoint waits for two fsyncs, and helpers that did their own were slower
            # (docs/benchmarks.md, "Measured once"). The rebuilding process does them (`checkpoint`).
            conn.execute("PRAGMA wal_autocheckpoint=0")
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

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One query, outside any write transaction: a statement reads one snapshot of
        the WAL, so readers never wait for the writers (rebuild helpers among them)."""
        with self._shared_lock if self._shared is not None else _nothing():
            return self._conn().execute(sql, params).fetchall()

    # --- rebuild helpers -------------------------------------------------------------------
    # Several processes fill shadow tables in this file at once. Each folds a batch
    # before it takes the write lock (projections.engine.projector: a batch of new streams),
    # so they take turns only for the writes.

    def for_helper(self) -> Callable[[], ReadStore] | None:
        if self.path == ":memory:":
            return None
        return partial(SQLiteStore, self.path, helper=True)

    def checkpoint(self) -> None:
        """Copy what the helpers wrote from the WAL into the file, without waiting
        for them (PASSIVE), so the WAL stays small; with the fsyncs a checkpoint needs."""
        self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def tables(self) -> set[str]:
        with self.transaction() as tx:
            return tx.table_names()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._shared is not None:
            self._shared.close()


def _switch_to_wal(conn: sqlite3.Connection, timeout_s: float = 30.0) -> None:
    """Put the file in WAL mode. Two connections opening a new file at once both ask
    for the switch, and SQLite answers the second "database is locked" at once,
    without waiting as it does for every other lock (seen: two consumers of the
    same read-model file starting together, 1 start in 5 on this machine). A file
    already in WAL mode answers without a lock, so the retry ends as soon as the
    first connection's switch has."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
