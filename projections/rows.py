"""The rows one batch of events touches, kept in memory while the batch is folded.

A projection says which rows an event will touch (`touches`), the batch loads
them all with one query per table, the events change them in memory, and the
changed rows are written back with one statement per table. Per-statement round
trips are what made a naive fold slow, PostgreSQL's most of all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any, Callable, Iterable

from projections.stores import Tx

Key = tuple[Any, ...]
Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    columns: dict[str, str]  # name -> SQL type
    key: tuple[str, ...]
    # Rows are only ever added (ledgers, histories): no loading, no updating.
    append_only: bool = False

    def ddl(self, name: str) -> str:
        columns = ", ".join(f"{c} {t}" for c, t in self.columns.items())
        if self.append_only:
            # The key is a unique index made with the secondary ones: a rebuild then
            # appends in log order and sorts the keys once at the end, rather than
            # inserting each random stream id into a B-tree far larger than the cache.
            return f"CREATE TABLE IF NOT EXISTS {name} ({columns})"
        return f"CREATE TABLE IF NOT EXISTS {name} ({columns}, PRIMARY KEY ({', '.join(self.key)}))"

    # The lookups every row goes through, made once per table: a generator per
    # row was a measurable share of a rebuild.
    @cached_property
    def key_of(self) -> Callable[[Row], Key]:
        get = itemgetter(*self.key)
        return (lambda row: (get(row),)) if len(self.key) == 1 else get  # type: ignore[return-value]

    @cached_property
    def key_of_values(self) -> Callable[[tuple[Any, ...]], Any]:
        """The key of a row already in column order (bare, for a one-column key): to sort by."""
        return itemgetter(*(list(self.columns).index(c) for c in self.key))  # type: ignore[return-value]

    @cached_property
    def values_of(self) -> Callable[[Row], tuple[Any, ...]]:
        """A row's values in column order (every column must be in the row)."""
        get = itemgetter(*self.columns)
        return (lambda row: (get(row),)) if len(self.columns) == 1 else get  # type: ignore[return-value]


class BatchRows:
    def __init__(self, tables: dict[str, Table], names: dict[str, str], new_streams: bool = False) -> None:
        self.tables = tables
        self.names = names
        # The batch's streams are new to the copy, so are all their rows: nothing is
        # looked up, and a row is there only once this batch has put it.
        self.new_streams = new_streams
        self.loaded: dict[str, dict[Key, Row | None]] = {t: {} for t in tables}
        self.dirty: dict[str, set[Key]] = {t: set() for t in tables}
        self.added: dict[str, list[Row]] = {t: [] for t in tables}
        # Keys looked up and not there: a row put under one of them is a new row.
        self.absent: dict[str, set[Key]] = {t: set() for t in tables}
        self._undo: list[tuple[str, Key, Row | None, bool]] | None = None
        # Where rows were loaded from, for a row whose key only another row tells.
        self._source: Tx | None = None

    # --- loading ---------------------------------------------------------------------
    def prefetch(self, tx: Tx, wanted: Iterable[tuple[str, Key]]) -> None:
        """Load the rows under `wanted` keys."""
        self._source = tx
        by_table: dict[str, set[Key]] = {}
        for table, key in wanted:
            if key not in self.loaded[table]:
                by_table.setdefault(table, set()).add(key)
        for table, keys in by_table.items():
            spec = self.tables[table]
            loaded = self.loaded[table]
            for key in keys:
                loaded[key] = None
            keys_list = sorted(keys, key=str)
            columns = list(spec.columns)
            if len(spec.key) == 1:
                column = spec.key[0]
                for values in tx.select_by_keys(self.names[table], columns, column, spec.columns[column],
                                                [k[0] for k in keys_list]):
                    row = dict(zip(columns, values))
                    loaded[spec.key_of(row)] = row
            else:
                select = f"SELECT {', '.join(columns)} FROM {self.names[table]} WHERE "
                where = " AND ".join(f"{c} = ?" for c in spec.key)
                for key in keys_list:
                    values = tx.fetchone(select + where, key)
                    if values is not None:
                        loaded[key] = dict(zip(columns, values))
            self.absent[table].update(k for k in keys if loaded[k] is None)

    # --- what projections call -----------------------------------------------------
    def get(self, table: str, *key: Any) -> Row | None:
        """A row `touches()` declared; or, one query each, a row whose key only
        another row tells (the district of a piece's award): a rare event's cost."""
        try:
            return self.loaded[table][key]
        except KeyError:
            if self.new_streams:
                return None
            if self._source is None:
                raise KeyError(f"{table} {key} was not declared in touches()") from None
        self.prefetch(self._source, [(table, key)])
        return self.loaded[table][key]

    def put(self, table: str, row: Row) -> None:
        key = self.tables[table].key_of(row)
        loaded, dirty = self.loaded[table], self.dirty[table]
        if self._undo is not None:
            self._undo.append((table, key, loaded.get(key), key in dirty))
        loaded[key] = row
        dirty.add(key)

    def update(self, table: str, key: Key, **changes: Any) -> Row | None:
        """Change some columns of an existing row; None (and nothing done) if it is not there."""
        row = self.get(table, *key)
        if row is None:
            return None
        self.put(table, {**row, **changes})
        return row

    def add(self, table: str, row: Row) -> None:
        if self._undo is not None:
            self._undo.append((table, (), None, False))
        self.added[table].append(row)

    # --- one event at a time, undoable -----------------------------------------------
    def begin(self) -> None:
        self._undo = []

    def undo(self) -> None:
        """Forget what the current event did (it failed halfway)."""
        assert self._undo is not None
        for table, key, old, was_dirty in reversed(self._undo):
            if key == ():
                self.added[table].pop()
                continue
            self.loaded[table][key] = old
            if not was_dirty:
                self.dirty[table].discard(key)
        self._undo = None

    # --- writing back ----------------------------------------------------------------
    def flush(self, tx: Tx, into_empty: bool = False) -> None:
        """One statement per table (`upsert_many`, `insert_new`: the store picks the
        cheapest form). Filling a copy that no one else writes (`into_empty`), the
        rows known to be new are appended (`append_many`: PostgreSQL's binary COPY).
        Rows go in key order: each index page is then visited once per batch, not
        once per row (random stream ids otherwise scatter them across the index)."""
        for table, spec in self.tables.items():
            name, loaded = self.names[table], self.loaded[table]
            changed = sorted(key for key in self.dirty[table] if loaded[key] is not None)
            if into_empty and self.new_streams:
                tx.append_many(name, spec.columns, [spec.values_of(loaded[key]) for key in changed])
                changed = []
            elif into_empty:
                absent = self.absent[table]
                tx.append_many(name, spec.columns, [spec.values_of(loaded[key]) for key in changed if key in absent])
                changed = [key for key in changed if key not in absent]
            if changed:
                tx.upsert_many(name, spec.columns, [spec.values_of(loaded[key]) for key in changed], spec.key)
            if self.added[table]:
                added = list(map(spec.values_of, self.added[table]))
                if not (into_empty and spec.append_only):  # a fresh append-only table has no index yet
                    added.sort(key=spec.key_of_values)
                if into_empty:
                    tx.append_many(name, spec.columns, added)
                else:
                    tx.insert_new(name, spec.columns, added)
