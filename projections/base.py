"""A projection: tables, the events it folds, and the fold.

Each projection owns a set of tables named `<prefix><name>_<table>`. The live
copy has no prefix; a rebuild fills `shadow_…` and swaps it in; a verify fills
`verify_…` and compares. The two tracking tables of projections/engine/tracking.py
travel with every copy.
"""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import Any, ClassVar, Iterable

from domain.events import Event, topics_of
from eventlog import share_of
from projections.engine import tracking
from projections.facts import Fact
from projections.rows import BatchRows, Table
from projections.stores import Tx

class Projection:
    """Subclasses declare their tables and the events they fold, say which rows
    an event touches, and fold it into those rows (event in, change out)."""

    name: ClassVar[str]
    handles: ClassVar[tuple[type[Event], ...]]
    tables: ClassVar[dict[str, Table]]
    # Per table, each index's columns, and for a partial index ` WHERE ` its rows.
    indexes: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Its share of the time a rebuild takes: its seconds filled alone in one process
    # (`python bench/rebuild_phases.py --events 50000 --weights`); only the ratios
    # between read models matter. How a parallel rebuild balances projections across processes.
    weight: ClassVar[float] = 1.0
    # Every row is written by the events of one stream alone (a stream's own state or
    # trail, not a tally across streams), so a rebuild may fill it in several
    # processes, each with a share of the streams.
    by_stream: ClassVar[bool] = False

    def __init__(self, prefix: str = "", share: tuple[int, int] = (0, 1)) -> None:
        self.prefix = prefix
        self.part, self.parts = share
        self.table_names = {table: f"{prefix}{self.name}_{table}" for table in [*self.tables, *tracking.TABLES]}

    @cached_property
    def types(self) -> frozenset[str]:
        return frozenset(cls.__name__ for cls in self.handles)

    @cached_property
    def topics(self) -> list[str]:
        return topics_of(self.handles)

    def owns(self, stream: str) -> bool:
        """Whether this copy folds `stream`'s events: all of them, unless it fills one
        share of a `by_stream` projection."""
        return self.parts == 1 or share_of(stream, self.parts) == self.part

    def sql(self, text: str) -> str:
        """SQL with `{table}` names filled in for this copy."""
        return text.format(**self.table_names)

    def rows(self, new_streams: bool = False) -> BatchRows:
        return BatchRows(self.tables, self.table_names, new_streams)

    def create(self, tx: Tx, indexes: bool = True) -> None:
        for table, spec in self.tables.items():
            tx.execute(spec.ddl(self.table_names[table]))
        tracking.create(tx, self)
        if indexes:
            self.create_indexes(tx)

    def create_indexes(self, tx: Tx, only: Iterable[str] | None = None) -> None:
        """Secondary indexes, and the keys of append-only tables (of `only` these
        tables); a rebuild adds them after filling, which is cheaper."""
        # Index names are unique per database and survive a table rename,
        # so a copy's indexes get names no other copy can have.
        tables = set(self.tables if only is None else only)
        for table, spec in self.tables.items():
            if spec.append_only and table in tables:
                tx.execute(f"CREATE UNIQUE INDEX ix_{self.name}_{table}_key_{uuid.uuid4().hex[:8]} "
                           f"ON {self.table_names[table]} ({', '.join(spec.key)})")
        for table, specs in self.indexes.items():
            for index in specs if table in tables else ():
                columns, _, rows = index.partition(" WHERE ")
                tx.execute(f"CREATE INDEX ix_{self.name}_{table}_{uuid.uuid4().hex[:8]} ON {self.table_names[table]} ({columns})"
                           + (f" WHERE {rows}" if rows else ""))

    def create_missing(self, tx: Tx, existing: set[str]) -> list[str]:
        """The tables (with their indexes) a read model made by an earlier version lacks."""
        missing = [table for table, name in self.table_names.items() if name not in existing]
        if not missing:
            return []
        self.create(tx, indexes=False)  # IF NOT EXISTS: only the missing ones are made
        self.create_indexes(tx, only=[table for table in missing if table in self.tables])
        return [self.table_names[table] for table in missing]

    def drop(self, tx: Tx) -> None:
        for table in self.table_names.values():
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def touches(self, fact: Fact) -> Iterable[tuple[str, tuple[Any, ...]]]:
        """The (table, key) of every existing row `apply` will read or change."""
        return ()

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        raise NotImplementedError


def detail(data: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields, for a human reading the audit trail."""
    own = dict(data)  # a C-level copy and two pops beat a filtering comprehension
    own.pop("timestamp", None)
    own.pop("meta", None)
    return own
