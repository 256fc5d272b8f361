"""Where read models live: one interface, one module per backend (sqlite.py,
postgres.py), picked by the settings in gridgov.bootstrap.read_store.

SQL is written once, with `?` placeholders and the subset both databases speak
(INSERT … ON CONFLICT … DO UPDATE, TEXT timestamps in UTC ISO-8601, BIGINT fen).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable, Protocol, Sequence


class Tx(Protocol):
    """One read-model transaction."""

    dialect: str  # "sqlite" or "postgres"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...

    def copy(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        """Append rows in bulk, no conflicts possible (PostgreSQL's COPY only)."""


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
