"""The composition root and the Kafka workers import no entry point: `api` asks
gridgov.bootstrap for what it runs, never the other way round. An import inside
a function counts too: it is the same arrow, only later."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("package", ["gridgov", "consumers"])
def test_imports_nothing_from_the_entry_points(package: str) -> None:
    found = [f"{path.relative_to(ROOT)}: {module}" for path in sorted((ROOT / package).rglob("*.py"))
             for module in imported(path) if module.split(".")[0] == "api"]
    assert not found, f"{package} imports the API; ask gridgov.bootstrap instead"
