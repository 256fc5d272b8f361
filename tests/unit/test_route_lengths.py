"""The API's functions stay short enough to read at once: a module of routes registers
them in small groups (one function per group, each given the router), not as one
function of nested routes that grows with every read added."""

from __future__ import annotations

import ast
from pathlib import Path

HTTP = Path(__file__).resolve().parents[2] / "api" / "http"
MOST = 60


def long_functions(source: str) -> list[tuple[str, int]]:
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(source))  # type: ignore[operator]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= MOST]  # type: ignore[operator]


def test_no_function_of_the_api_is_longer_than_60_lines() -> None:
    found = [f"{path.name}: {name} ({n} lines)" for path in sorted(HTTP.glob("*.py"))
             for name, n in long_functions(path.read_text())]
    assert not found, f"split these into functions of under {MOST} lines:\n" + "\n".join(found)
