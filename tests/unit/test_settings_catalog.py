"""Settings have one name and one line of documentation (gridgov/settings.py),
the README's table is made from them, no other module reads the environment, and
docker-compose.yml uses only commands and settings that exist."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app as cli
from gridgov.settings import OUTSIDE_THE_ENGINE, Settings, settings_table
from tests.fixtures.compose import engine_services, exported, gridgov_commands

ROOT = Path(__file__).resolve().parents[2]
CODE = [p for folder in ("domain", "eventlog", "projections", "consumers", "api", "gridgov", "transparency")
        for p in (ROOT / folder).rglob("*.py")]
SETTINGS = {*Settings.model_fields, *OUTSIDE_THE_ENGINE}


def test_every_compose_command_exists_in_the_cli() -> None:
    """Each command line, with its options: an option the command lacks fails before --help."""
    services = engine_services()
    assert {"relay", "consume-board", "consume-balances", "consume-points", "consume-audit", "consume-stats"} <= set(
        services)
    for name, service in services.items():
        commands = gridgov_commands(service)
        assert commands, f"service {name} runs no gridgov command"
        for command in commands:
            result = CliRunner().invoke(cli, [*command, "--help"])
            assert result.exit_code == 0, f"service {name}: gridgov {' '.join(command)}: {result.output}"


def test_every_compose_variable_is_a_setting() -> None:
    for name, service in engine_services().items():
        unknown = (set(service["environment"]) | exported(service)) - set(SETTINGS)
        assert not unknown, f"service {name} sets {unknown}, which the engine does not read"


def test_only_the_settings_module_reads_the_environment() -> None:
    """Read once, in one place: a part gets its settings from gridgov.bootstrap.
    The rebuild's helper processes and `gridgov simulate`'s workers pass the
    settings on to their children (with the rest of the environment: PATH, HOME)."""
    readers = {str(path.relative_to(ROOT)) for path in CODE
               if re.search(r"os\.environ|getenv\(", path.read_text())}
    assert readers == {"gridgov/settings.py", "projections/engine/parallel.py", "gridgov/simulate.py"}
    for parent in ("projections/engine/parallel.py", "gridgov/simulate.py"):
        text = (ROOT / parent).read_text()
        assert re.findall(r"""environ\.get\(\s*["'][A-Z]""", text) == [], f"{parent} reads no setting by name"


def test_the_readme_table_is_made_from_the_settings() -> None:
    assert settings_table() in (ROOT / "README.md").read_text(), (
        "run python -c 'from gridgov.settings import settings_table; print(settings_table())' "
        "and put its table in the README's Settings section")


def test_the_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in SETTINGS if f"`{name}`" not in readme]
    assert missing == []
