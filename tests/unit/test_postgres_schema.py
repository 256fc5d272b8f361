"""A schema the engine may not make is one line saying which and how (issue 24, finding 10)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import psycopg
import pytest

from eventlog.postgres_schema import SchemaMissing, _ensure_schema, lock_statement


class Refusing:
    """A connection whose role may not create schemas: the lookup finds none, CREATE is refused."""

    info = SimpleNamespace(user="reader")

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.statements.append(sql)
        if sql.startswith("CREATE SCHEMA"):
            raise psycopg.errors.InsufficientPrivilege("permission denied for database gridgov")
        return SimpleNamespace(fetchone=lambda: None)


def test_a_schema_that_cannot_be_made_is_one_line_naming_it_and_the_statement_that_makes_it() -> None:
    with pytest.raises(SchemaMissing) as refused:
        _ensure_schema(Refusing(), "newname")  # type: ignore[arg-type]
    line = str(refused.value)
    assert "\n" not in line and "POSTGRES_SCHEMA='newname'" in line
    assert 'CREATE SCHEMA "newname" AUTHORIZATION "reader"' in line


def test_gridgov_prints_a_missing_schema_as_one_line_and_exits_2(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import api.cli

    def refuse() -> None:
        _ensure_schema(Refusing(), "newname")  # type: ignore[arg-type]

    monkeypatch.setattr(api.cli, "app", refuse)
    with pytest.raises(SystemExit) as stopped:
        api.cli.main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("gridgov: bad setting: POSTGRES_SCHEMA='newname'") and err.count("\n") == 1


def test_a_schema_that_exists_is_not_created_again() -> None:
    # CREATE SCHEMA IF NOT EXISTS wants the right to create even when the schema is there.
    class Found(Refusing):
        def execute(self, sql: str, params: Any = ()) -> Any:
            self.statements.append(sql)
            return SimpleNamespace(fetchone=lambda: (1,))

    conn = Found()
    _ensure_schema(conn, "given")  # type: ignore[arg-type]
    assert not any(s.startswith("CREATE") for s in conn.statements)


def test_the_lock_is_the_read_model_stores_key_and_quotes_the_schema() -> None:
    assert lock_statement("o'k") == "SELECT pg_advisory_xact_lock(hashtext('gridgov read models o''k'))"
