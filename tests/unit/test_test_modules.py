"""No test module imports another (tests/conftest.py): what two test modules share is a
helper in tests/fixtures/, so running or deleting one module never changes another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_test_module_imports_another() -> None:
    imports = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            imports += [f"{path.relative_to(TESTS)} imports {name}" for name in names
                        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")]
    assert imports == [], "move what they share into tests/fixtures/"
