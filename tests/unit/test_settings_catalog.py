"""Settings have one name and one line of documentation, and docker-compose.yml
uses only commands and settings that exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from api.cli import app as cli
from api.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
CODE = [p for folder in ("domain", "projections", "consumers", "api") for p in (ROOT / folder).rglob("*.py")]


def gridgov_services() -> dict[str, dict]:  # type: ignore[type-arg]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {name: s for name, s in compose["services"].items() if s.get("build")}


def test_every_compose_command_exists_in_the_cli() -> None:
    services = gridgov_services()
    assert {"relay", "consume-board", "consume-balances", "consume-points", "consume-audit", "consume-stats"} <= set(
        services)
    for name, service in services.items():
        result = CliRunner().invoke(cli, [*service["command"], "--help"])
        assert result.exit_code == 0, f"service {name}: gridgov {' '.join(service['command'])}: {result.output}"


def test_every_compose_variable_is_a_setting() -> None:
    for name, service in gridgov_services().items():
        unknown = set(service["environment"]) - set(SETTINGS)
        assert not unknown, f"service {name} sets {unknown}, which the engine does not read"


def test_every_variable_the_code_reads_is_in_the_catalog() -> None:
    read = set()
    for path in CODE:
        read |= set(re.findall(r"""(?:environ|env)\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text()))
    assert read, "the pattern found nothing: the test would prove nothing"
    assert read - set(SETTINGS) == set()


def test_the_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in SETTINGS if f"`{name}`" not in readme]
    assert missing == []
