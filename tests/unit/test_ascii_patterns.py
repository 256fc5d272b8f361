"""ASCII digits only (issue 24, finding 4): `\\d` in a regular expression takes any
Unicode digit, so `２０２６-12` passed for a month and made a second one. Every pattern
of the OpenAPI document (the commands' bodies and every query parameter) and every
regular expression in the engine's source says `[0-9]` where it means a digit."""

from __future__ import annotations

import re
import tokenize
from pathlib import Path
from typing import Any, Iterator

import pytest

from api.http.app import app_of
from gridgov import bootstrap
from gridgov.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "consumers", "domain", "eventlog", "exports", "gridgov", "projections", "transparency")
# A class escape that takes more than ASCII: \d and \D (digits), written in a regex.
UNICODE_DIGIT = re.compile(r"(?<!\\)\\[dD]")


def patterns(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield where, value
            else:
                yield from patterns(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from patterns(value, f"{where}/{i}")


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("openapi")
    engine = bootstrap.bootstrap(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                                "SQLITE_DBNAME": str(folder / "events.sqlite"),
                                                "READMODEL_SQLITE_DBNAME": str(folder / "readmodels.sqlite")}))
    try:
        return app_of(engine, "a-secret-of-at-least-thirty-two-bytes").openapi()
    finally:
        engine.close()


def test_no_pattern_of_the_openapi_document_takes_unicode_digits(openapi: dict[str, Any]) -> None:
    found = list(patterns(openapi))
    assert len(found) > 10, "the document's patterns were not found"
    wrong = [(where, p) for where, p in found if UNICODE_DIGIT.search(p)]
    assert not wrong, f"\\d takes any Unicode digit (２, ٢, ...); write [0-9]: {wrong}"


def test_the_months_days_and_times_of_the_document_have_patterns(openapi: dict[str, Any]) -> None:
    """The patterns reach the schema: a month parameter or field without one lets a
    generated client send what the server refuses."""
    schemas = openapi["components"]["schemas"]
    for name, field in [("AllocateBudget", "period"), ("ExpireOldPoints", "month"), ("ListItem", "valid_to"),
                        ("PublishTask", "due"), ("AppealSubject", "period")]:
        assert "pattern" in str(schemas[name]["properties"][field]), (name, field)
    for path, parameter in [("/v1/districts/{district}/history", "from"),
                            ("/v1/districts/{district}/audit-export", "from"),
                            ("/v1/riders/{rider_id}/balance-at", "at"),
                            ("/v1/districts/{district}/handed-out", "month"),
                            ("/v1/districts/{district}/subsidy-per-day", "period"),
                            ("/v1/districts/{district}/budgets", "period")]:
        given = next(p for p in openapi["paths"][path]["get"]["parameters"] if p["name"] == parameter)
        assert "pattern" in str(given["schema"]), (path, parameter)


def test_no_regular_expression_in_the_source_takes_unicode_digits() -> None:
    """Every string literal of the engine's source (comments aside): a regex is one."""
    wrong = []
    for package in PACKAGES:
        for source in sorted((ROOT / package).rglob("*.py")):
            with tokenize.open(source) as f:
                for token in tokenize.generate_tokens(f.readline):
                    if token.type == tokenize.STRING and UNICODE_DIGIT.search(token.string):
                        wrong.append(f"{source.relative_to(ROOT)}:{token.start[0]}: {token.string[:80]}")
    assert not wrong, "\\d takes any Unicode digit (２, ٢, ...); write [0-9]:\n" + "\n".join(wrong)


def test_texts_and_names_carry_the_visible_character_rule(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    for name, field in [("RegisterGrid", "name"), ("RejectClue", "reason"), ("CompleteTask", "note"),
                        ("StationDescription", "hours")]:
        assert "pattern" in schemas[name]["properties"][field], (name, field)


def test_no_map_of_the_document_lets_other_keys_hold_anything(openapi: dict[str, Any]) -> None:
    """pydantic writes a key's pattern as patternProperties: a key that misses it may then
    hold any value, by the schema; the server refuses it (rates once did so)."""
    def maps(node: Any, where: str = "") -> Iterator[str]:
        if isinstance(node, dict):
            if "patternProperties" in node and node.get("additionalProperties") is not False:
                yield where
            for key, value in node.items():
                yield from maps(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from maps(value, f"{where}/{i}")

    assert not list(maps(openapi))
