"""Where read models live: one interface, one module per backend (sqlite.py,
postgres.py), picked by the settings in gridgov.bootstrap.read_store.

SQL is written once, with `?` placeholders and the subset both databases speak
(INSERT … ON CONFLICT … DO UPDATE, TEXT timestamps in UTC ISO-8601, BIGINT fen).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any, Callable, Generator, Iterable, Iterator, Protocol, Sequence


IN_CHUNK = 400  # keys per `IN (…)` list, well under SQLite's limit of bound parameters


class Tx(Protocol):
    """One read-model transaction. Besides plain SQL (`?` placeholders), the
    operations whose best form differs between the databases, so that no caller
    asks which one it has."""

    dialect: str  # "sqlite" or "postgres": for the stores' own use
    # Appended to CREATE TABLE of a key-and-number table (SQLite: one B-tree, no rowid).
    compact_table: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...

    def upsert_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]],
                    key: Sequence[str]) -> None:
        """Insert rows, or update every other column of the row with the same `key`."""

    def insert_new(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows; a row whose key is taken is dropped."""

    def append_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows known to be new to a table no one else writes (a copy being
        filled): the cheapest way in (PostgreSQL's binary COPY)."""

    def select_by_keys(self, table: str, columns: Sequence[str], key: str, key_type: str,
                       keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows whose one-column `key` is among `keys`, in as few round trips as the database allows."""

    def lock(self, tables: Sequence[str]) -> None:
        """Keep other writers (and readers, in PostgreSQL) off these tables until commit."""

    def table_names(self) -> set[str]: ...


class ReadStore(ABC):
    dialect: str

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction; readers never see it half done."""

    @abstractmethod
    def tables(self) -> set[str]:
        """Names of the tables that exist."""

    @abstractmethod
    def close(self) -> None: ...

    def lock_tables(self, tx: Tx) -> None:
        """Keep other processes from making or changing tables until `tx` commits
        (SQLite's write transaction already does)."""

    def claim(self, tx: Tx, names: Sequence[str], shared: Sequence[str] = ()) -> None:
        """Claim `names` for `tx` alone and `shared` beside other shared claims, until
        `tx` ends: a claim waits for every other transaction's claim of the same name
        unless both are shared, and `tx` then reads what they committed. The check of
        what a read model has applied and the apply are so one step that a second
        applier (another API instance, a consumer) cannot pass. Called before `tx`
        reads anything. SQLite's write transaction (BEGIN IMMEDIATE) already holds
        the only writer's lock from its start: every claim there is the whole file's."""

    def byte_order(self, column: str) -> str:
        """`column` in ORDER BY so that text sorts by its bytes, as Python compares it
        (SQLite's own way; PostgreSQL's follows the database's locale)."""
        return column

    def for_helper(self) -> Callable[[], ReadStore] | None:
        """How a rebuild helper process opens this same store, to fill its share of
        the shadow tables beside other helpers; None if no other process can open it
        (an in-memory database)."""
        return None

    def checkpoint(self) -> None:
        """Tidy up after what helpers wrote meanwhile (called now and then while they fill)."""

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as tx:
            return tx.fetchall(sql, params)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Generator[tuple[Any, ...], None, None]:
        """A query's rows as they are read: a whole table compared row by row (rebuild.verify)
        is not held in memory where the store can hand it over in pieces. Closed when not read
        to its end (a store may hold a transaction open for it)."""
        yield from self.read(sql, params)


def insert_sql(table: str, columns: dict[str, str], conflict: str = "") -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            + (f" {conflict}" if conflict else ""))


def upsert_clause(columns: dict[str, str], key: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}" if updates else "ON CONFLICT DO NOTHING"
