"""What a token may read is decided in api/http/scoping.py alone: no other module of
the API looks at a caller's role, districts or grids to decide a read, so a rule is
changed, and reviewed, in one place. (What the access log records of an auditor is
not a read decision: auditors.py's recorder reads the token for that.)"""

from __future__ import annotations

import ast
from pathlib import Path

from api.http.auth import Principal

HTTP = Path(__file__).resolve().parents[2] / "api" / "http"
DECIDES = {"scoping.py", "auth.py"}
# (module, function): reads the token to record who looked (or who exported), not to decide what it sees.
RECORDS = {("auditors.py", "_auditor"), ("auditors.py", "_record"), ("auditors.py", "audit_export"),
           # keep, and tell the page, who is signed in (the session's person), not what it may read
           ("sessions.py", "to_json"), ("signin.py", "session_route")}
LOOKS = {"role", "districts", "grids", "sub", "require_district"}


def lookups(path: Path) -> list[str]:
    found = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if (isinstance(node, ast.Attribute) and node.attr in LOOKS and isinstance(node.value, ast.Name)
                and node.value.id == "who" and (path.name, function) not in RECORDS):
            found.append(f"{path.name}:{node.lineno} ({function}): who.{node.attr}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(path.read_text()), "")
    return found


def test_only_the_scoping_module_decides_what_a_token_reads() -> None:
    found = [hit for path in sorted(HTTP.glob("*.py")) if path.name not in DECIDES for hit in lookups(path)]
    assert not found, "ask api/http/scoping.py what the caller may read:\n" + "\n".join(found)


def test_a_principal_has_one_district_check_the_scopes() -> None:
    """Principal.require_district repeated Scope.require_district: reads use scoping.require_district."""
    assert not hasattr(Principal, "require_district")
