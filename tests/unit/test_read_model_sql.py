"""A read model's tables are read by its own module in projections/ alone: a read the
API, the sweep, the simulator or an export needs is a query function there, so a
table's shape changes in one file. This scans every other package's source for SQL
that names a read model's table: by its name written out, through a projection's
`table_names`, or through a projection's `.sql(…)`. Other tables (the transparency
log's, the consumer watchdog's own restarts) are not read models and pass."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator

import pytest

from projections.registry import PROJECTIONS, instances

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = ("api", "application", "consumers", "domain", "eventlog", "exports", "gridgov", "transparency")
SQL = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|JOIN)\b")
# Every read model's tables as they are named, live or in a rebuild's or verify's copy.
TABLE = re.compile(r"\b(?:shadow_|verify_)?(" + "|".join(
    re.escape(name) for model in instances() for name in model.table_names.values()) + r")\b")


def read_model_sql(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each way `source` reaches into a read model's tables."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.search(node.value) and (found := TABLE.search(node.value)):
                yield node.lineno, f"SQL naming {found.group(1)}"
        elif isinstance(node, ast.Attribute) and node.attr == "table_names":
            yield node.lineno, "a projection's table_names"
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "sql"
              and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
              and node.func.value.func.id in {cls.__name__ for cls in PROJECTIONS.values()}):
            yield node.lineno, f"{node.func.value.func.id}().sql(…)"


def sources() -> list[Path]:
    return sorted(path for package in OUTSIDE for path in (ROOT / package).rglob("*.py"))


def test_no_read_model_sql_outside_projections() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for path in sources() for line, what in read_model_sql(path.read_text())]
    assert not found, ("a read model's tables are read in projections/ only: make this a query function of the "
                       "read model that owns the table, and call it:\n" + "\n".join(found))


@pytest.mark.parametrize("source", [
    'store.read("SELECT SUM(awarded) FROM balances_slices")',
    'store.read(f"SELECT task_id FROM {Board().table_names[\'tasks\']} WHERE status = \'claimed\'")',
    'store.read(Board().sql("SELECT district FROM {grids} WHERE grid_id = ?"), (grid,))',
    'rows = store.read("SELECT a.rider_id FROM points_accounts a JOIN riders_riders r USING (rider_id)")',
])
def test_each_way_of_reaching_a_read_model_is_caught(source: str) -> None:
    assert list(read_model_sql(source))


@pytest.mark.parametrize("source", [
    'store.read(f"SELECT projection, COUNT(*) FROM {RESTARTS} GROUP BY projection")',  # the watchdog's own
    'RESTARTS = "consumer_restarts"',
    '"""Select the board\'s rows, then update the balances."""',  # words, not SQL
    'tracking.log_position(store, Board())',  # how far a read model got: the engine's to say
])
def test_other_tables_and_words_pass(source: str) -> None:
    assert not list(read_model_sql(source))
