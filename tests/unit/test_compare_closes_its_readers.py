"""verify's table comparison (projections/engine/rebuild.py, _compare) closes both readers
however it ends: at its limit of differences, or on an error. On PostgreSQL each reader is
a connection in a transaction reading its table; one left open (kept by an error's
traceback) held off the DROP of the fresh copy that follows, on another connection of
the same process: a wait no deadlock detection ends."""

from __future__ import annotations

from typing import Any, Generator

import pytest

from projections.engine.rebuild import _compare


class Tables:
    """A store whose rows are the tables' lists, read through generators that say when they close."""

    def __init__(self, tables: dict[str, list[tuple[Any, ...]]]) -> None:
        self.tables, self.open = tables, 0

    def byte_order(self, column: str) -> str:
        return column

    def rows(self, sql: str, params: Any = ()) -> Generator[tuple[Any, ...], None, None]:
        table = sql.split(" FROM ")[1].split()[0]
        self.open += 1
        try:
            yield from self.tables[table]
        finally:
            self.open -= 1


class Model:
    def __init__(self, name: str, table: str) -> None:
        self.name, self.table_names = name, {"t": table}


def test_stopping_at_the_limit_closes_both() -> None:
    store = Tables({"live": [(n, n) for n in range(10)], "fresh": [(n, -n) for n in range(10)]})
    out = _compare(store, Model("m", "live"), Model("m", "fresh"), "t", ("id",), limit=2)  # type: ignore[arg-type]
    assert len(out) == 2 and store.open == 0


def test_an_error_mid_comparison_closes_both() -> None:
    store = Tables({"live": [(1, "a"), ("2", "b")], "fresh": [(1, "a"), (2, "b")]})  # keys that do not compare
    with pytest.raises(TypeError) as kept:  # its traceback holds the comparison's frame, as a caller's may
        _compare(store, Model("m", "live"), Model("m", "fresh"), "t", ("id",), limit=10)  # type: ignore[arg-type]
    assert store.open == 0, kept.traceback[-1]
