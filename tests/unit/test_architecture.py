"""The packages import each other only along the arrows docs/design.md draws:
the contracts are in pyproject.toml ([tool.importlinter]), checked here by
import-linter, so the next loop between two packages fails CI, not a reader."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("domain", "eventlog", "application", "projections", "transparency", "consumers", "exports", "gridgov", "api")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    # --no-cache: a copied tree must be read afresh, not from the cache of the real one.
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120)


def test_the_packages_import_each_other_only_as_the_picture_allows() -> None:
    run = lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout and "BROKEN" not in run.stdout


@pytest.mark.parametrize("module, line", [
    ("domain/ids.py", "import eventlog\n"),  # the loop this issue found: the model importing an adapter
    ("eventlog/keys.py", "import domain.events\n"),  # ... and the adapter importing the model
    ("gridgov/settings.py", "import api.http.app\n"),  # the composition root importing an entry point
    ("projections/board.py", "import consumers.topics\n"),  # a layer importing the one above it
    ("consumers/lag.py", "import exports.files\n"),  # siblings on one layer
    ("domain/money.py", "import orjson\n"),  # the model reaching for an adapter's library
])
def test_an_import_against_the_arrows_is_caught(tmp_path: Path, module: str, line: str) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / module, "a") as f:
        f.write(line)
    run = lint(tmp_path)
    assert run.returncode != 0, run.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    imported = line.split()[1]
    assert f"{importer} -> {imported}" in run.stdout, run.stdout
