"""Settings are read once, and a wrong value stops the engine with one line that
names the variable, whichever variable it is."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov.bootstrap import duplicate_policy
from gridgov.settings import Settings, SettingsError, load_settings

NUMBERS = [name for name, spec in Settings.model_fields.items()
           if spec.annotation in (int, float, "int", "float", "int | None")]
CHOICES = [name for name, spec in Settings.model_fields.items() if "Literal" in str(spec.annotation)]


def test_nothing_set_is_the_embedded_default() -> None:
    settings = load_settings({})
    assert settings.PERSISTENCE_MODULE == "eventsourcing.sqlite"
    assert settings.embedded and settings.readmodel_store == "sqlite"
    assert settings.library_env()["SQLITE_DBNAME"] == "var/gridgov.sqlite"


def test_only_the_given_mapping_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_PORT", "6543")
    assert load_settings({}).POSTGRES_PORT == "5432"
    assert load_settings().POSTGRES_PORT == "6543"


def test_the_lists_of_fields_are_not_empty() -> None:
    assert {"POSTGRES_CONNECT_TIMEOUT", "DUPLICATE_RADIUS_M", "KAFKA_PARTITIONS"} <= set(NUMBERS)
    assert {"PERSISTENCE_MODULE", "READMODEL_STORE"} <= set(CHOICES)


WORDS = st.text(alphabet="abcdxyzQ温江-", min_size=1, max_size=12)


# POSTGRES_PORT is text (a port or a list of them, tests/unit/test_database_hosts.py) but never a word.
@given(name=st.sampled_from(NUMBERS + CHOICES + ["POSTGRES_PORT"]), value=WORDS)
def test_a_bad_value_is_one_line_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({name: value})
    message = str(refused.value)
    assert message.startswith(f"{name}=") and "\n" not in message


@given(name=st.sampled_from(list(Settings.model_fields)),
       value=st.one_of(st.text(max_size=30), st.floats().map(str), st.integers().map(str), WORDS))
def test_any_value_is_a_setting_or_a_refusal_and_a_setting_builds(name: str, value: str) -> None:
    """The class of bug: a value that passes here and breaks later (a radius of
    `inf`, a window of 1e300 hours), far from the variable that caused it."""
    try:
        settings = load_settings({name: value})
    except SettingsError as e:
        assert str(e).startswith(f"{name}=") and "\n" not in str(e)
        return
    policy = duplicate_policy(settings)
    assert policy.radius_m > 0 and policy.window.total_seconds() > 0


@pytest.mark.parametrize("variable, value", [("POSTGRES_PORT", "abc"), ("DUPLICATE_RADIUS_M", "abc"),
                                             ("PERSISTENCE_MODULE", "eventsourcing.postgress")])
def test_the_cli_stops_at_once_with_one_line(tmp_path, variable: str, value: str) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "projections", "verify", "all"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gridgov: bad setting: {variable}="), result.stderr
    assert not (tmp_path / "var").exists(), "nothing was created before the settings were checked"
