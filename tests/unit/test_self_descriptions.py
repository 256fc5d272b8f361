"""What the code says about itself stays true: each package's docstring names every
module and subpackage it holds (a newcomer reads `__init__.py` first), and no
docstring or comment quotes a file's length, which is out of date by the next commit
(measurements belong in docs/benchmarks.md)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The installed packages (pyproject.toml's [tool.setuptools.packages.find]).
TOP = ("domain", "application", "eventlog", "projections", "consumers", "api", "gridgov", "transparency", "exports")
# domain/'s docstring names what kinds of thing it holds (aggregates, events, commands,
# rules, errors), one module per aggregate: a list of 25 names would only repeat `ls`.
KINDS_NOT_MODULES = {"domain"}


def packages() -> list[Path]:
    return sorted(init.parent for top in TOP for init in (ROOT / top).rglob("__init__.py"))


def test_every_package_docstring_names_what_the_package_holds() -> None:
    unnamed = {}
    for package in packages():
        name = str(package.relative_to(ROOT))
        if name in KINDS_NOT_MODULES:
            continue
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        held = [f"{p.name}" for p in package.glob("*.py") if p.name != "__init__.py"]
        held += [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()]
        missing = sorted(h for h in held if not re.search(rf"(?<![\w/]){re.escape(h)}", doc))
        if missing:
            unnamed[name] = missing
    assert unnamed == {}, "name them in the package's docstring (its __init__.py)"


def comments_and_docstrings(path: Path) -> list[tuple[int, str]]:
    text = path.read_text()
    found = [(t.start[0], t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
             if t.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                found.append((getattr(node, "lineno", 1), doc))
    return found


# "~520 lines", "some 320 lines", "(410 lines)": a file's or a function's length.
LENGTH = re.compile(r"\b\d[\d,]* lines\b")
CODE = (*TOP, "bench", "scripts", "tests")


def test_no_comment_quotes_a_length_in_lines() -> None:
    quoted = [f"{path.relative_to(ROOT)}:{line}: {match.group(0)!r}"
              for top in CODE for path in (ROOT / top).rglob("*.py") if "vendor" not in path.parts
              for line, text in comments_and_docstrings(path) for match in LENGTH.finditer(text)
              if path.name != "test_self_descriptions.py"]
    assert quoted == [], "a length in lines is stale by the next commit: say why, not how long"
