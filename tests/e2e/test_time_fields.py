"""Every time, day and month of every route holds at the edges (issue 24, findings 3
and 4), found from the OpenAPI document alone, so a route added later is covered
without editing this test: a command's field or a query parameter is temporal if its
schema says `format: date` or `date-time`, or its name says so (`month`, `period`,
`due`, `at`, `from`, `to`, `…_from`, `…_to`, …).

Each is sent the extremes (years 0000, 0001, 1999, 2101, 9999; offsets of ±14:00 and
beyond; 2024-02-29 and 2023-02-29) and the same in full-width, Arabic-Indic and other
Unicode digits. What the engine accepts is domain/time_bounds.py; here an independent
oracle says which texts are in the window, and:

- a text outside it is a 422 problem naming the field (never a 500, never stored);
- a text inside it is never refused for that field, and never answers 5xx.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from api.http.app import app_of
from api.http.auth import mint
from domain.clock import ManualClock
from domain.events import Role
from domain.time_bounds import FIRST_DAY, LAST_DAY
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START
from transparency.checkpoints import Signer

SECRET = "time-fields-secret-of-at-least-32-bytes"
RIDER = "4f6c1a4e-5d8a-4a57-9b1c-2c1d8e9f0a11"
DISTRICT = "温江"
TEMPORAL_NAME = re.compile(r"(^|_)(month|period|day|date|at|from|to|due|since|until)$")
CHINA = timezone(timedelta(hours=8))
BOUNDS = ("… 2100-12", "±14:00", "outside expected range")  # what a refusal for the window says
GOOD = {"month": "2026-11", "day": "2026-11-05", "instant": "2026-11-05T10:00:00+08:00"}


# The routes and their temporal fields, from the document ----------------------------
class Field:
    """One temporal field of one route: where it goes and what kind of time it is."""

    def __init__(self, method: str, path: str, name: str, kind: str | None, body_path: tuple[str, ...] = (),
                 query: str | None = None) -> None:
        self.method, self.path, self.name, self.kind = method, path, name, kind
        self.body_path, self.query = body_path, query

    def __repr__(self) -> str:
        return f"{self.method} {self.path} {'.'.join(self.body_path) or self.query}"


def kind_of(name: str, schema: dict[str, Any]) -> str | None:
    options = [schema, *schema.get("anyOf", [])]
    formats = {o.get("format") for o in options}
    if "date-time" in formats:
        return "instant"
    if "date" in formats:
        return "day"
    for option in options:
        pattern = option.get("pattern") or schema.get("pattern")
        if pattern:
            return next((k for k, text in GOOD.items() if re.search(pattern, text)), None)
    return "month" if name in ("month", "period") else None


def temporal(name: str, schema: dict[str, Any]) -> bool:
    formats = {o.get("format") for o in [schema, *schema.get("anyOf", [])]}
    return bool(formats & {"date", "date-time"}) or bool(TEMPORAL_NAME.search(name))


class Document:
    def __init__(self, openapi: dict[str, Any]) -> None:
        self.openapi = openapi
        self.schemas = openapi["components"]["schemas"]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = {**self.schemas[schema["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in schema.items()
                                                                            if k != "$ref"}}
        return schema

    def object_of(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        schema = self.resolve(schema)
        if schema.get("type") == "object" and "properties" in schema:
            return schema
        return next((self.resolve(o) for o in schema.get("anyOf", []) if "properties" in self.resolve(o)), None)

    def fields(self) -> list[Field]:
        found = []
        for path, operations in self.openapi["paths"].items():
            if path.startswith("/open311/"):
                continue  # the spec's errors, not problem+json: its dates held in tests/e2e/test_open311_requests.py
            for method, op in operations.items():
                for parameter in op.get("parameters", []):
                    if parameter["in"] == "query" and temporal(parameter["name"], parameter["schema"]):
                        found.append(Field(method.upper(), path, parameter["name"],
                                           kind_of(parameter["name"], parameter["schema"]), query=parameter["name"]))
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                if body:
                    found += [Field(method.upper(), path, trail[-1], kind, body_path=trail)
                              for trail, kind in self.walk(body, ())]
        return found

    def walk(self, schema: dict[str, Any], trail: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str | None]]:
        shape = self.object_of(schema)
        if shape is None or len(trail) > 4:
            return
        for name, field in shape["properties"].items():
            resolved = self.resolve(field)
            if temporal(name, resolved):
                yield (*trail, name), kind_of(name, resolved)
            else:
                yield from self.walk(field, (*trail, name))

    # A body of valid values, for the field under test to be the only thing that varies.
    def example(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = self.resolve(schema)
        if "enum" in schema:
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        if "anyOf" in schema:
            return self.example(next(o for o in schema["anyOf"] if o.get("type") != "null"), name)
        kind = schema.get("type")
        if kind == "object":
            if "properties" not in schema:  # a map: one entry
                return {"patrol": self.example(schema.get("additionalProperties", {}), "patrol")}
            return {k: self.example(v, k) for k, v in schema["properties"].items() if k in schema.get("required", [])}
        if kind == "array":
            return []
        if kind == "integer":
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
            return int(max(low, 1) if schema.get("maximum", 2) >= 1 else low)
        if kind == "number":
            return (schema.get("minimum", 0) + schema.get("maximum", 0)) / 2
        if kind == "boolean":
            return False
        if schema.get("format") == "uuid":
            return RIDER if name == "rider_id" else str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        found = kind_of(name, schema)
        if found and temporal(name, schema):
            return GOOD[found]
        if schema.get("examples"):
            return schema["examples"][0]
        pattern = schema.get("pattern", "")
        return next(t for t in (DISTRICT if name == "district" else "巡查", "13800000000", "123456", "0" * 64, "held",
                                "30.68,103.85") if re.search(pattern, t))


# The values: extremes of each shape, in any digits ----------------------------------
DIGITS = {"ascii": "0", "full-width": "０", "arabic-indic": "٠", "extended-arabic-indic": "۰", "devanagari": "०",
          "bengali": "০", "thai": "๐", "myanmar": "၀", "mathematical-bold": "𝟎", "nko": "߀"}


def spelled(text: str, zero: str, where: set[int] | None = None) -> str:
    return "".join(chr(ord(zero) + int(ch)) if ch.isascii() and ch.isdigit() and (where is None or i in where)
                   else ch for i, ch in enumerate(text))


years = st.sampled_from([0, 1, 999, 1999, 2000, 2024, 2023, 2026, 2100, 2101, 9999]) | st.integers(0, 9999)
months = st.sampled_from([0, 1, 2, 12, 13]) | st.integers(1, 12)
days = st.sampled_from([0, 1, 28, 29, 30, 31, 32])
offsets = st.sampled_from(["Z", "+00:00", "+08:00", "+14:00", "-14:00", "-12:00", "+14:01", "-14:30", "+23:59",
                           "-23:59"])


@st.composite
def texts(draw: st.DrawFn) -> str:
    y, m, d = draw(years), draw(months), draw(days)
    shape = draw(st.sampled_from(["month", "day", "instant"]))
    text = {"month": f"{y:04d}-{m:02d}", "day": f"{y:04d}-{m:02d}-{d:02d}",
            "instant": f"{y:04d}-{m:02d}-{d:02d}T{draw(st.integers(0, 23)):02d}:59:59{draw(offsets)}"}[shape]
    zero = DIGITS[draw(st.sampled_from(sorted(DIGITS)))]
    if zero == "0":
        return text
    every = draw(st.booleans())
    return spelled(text, zero, None if every else {draw(st.integers(0, len(text) - 1))})


EXTREMES = ["0000-01", "0001-01", "9999-12", "1999-12", "2000-01", "2100-12", "2101-01", "２０２６-12", "٢٠٢٦-١٢",
            "۲۰۲۶-۱۲", "२०२६-१२", "𝟐𝟎𝟐𝟔-𝟏𝟐", "2026-1２", "0001-01-01", "9999-12-31", "2024-02-29", "2023-02-29",
            "２０２６-１１-０５", "2100-12-31", "2101-01-01", "1700000000",
            "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2026-11-05T10:00:00+14:00",
            "2026-11-05T10:00:00-14:00", "2026-11-05T10:00:00+14:01", "2026-11-05T10:00:00+23:59",
            "2100-12-31T23:00:00-12:00", "2000-01-01T00:00:00+09:00", "2024-02-29T12:00:00+08:00",
            "2023-02-29T12:00:00+08:00", "２０２６-11-05T10:00:00+08:00", "2026-11-05T10:00:00"]


def acceptable(kind: str | None, text: str) -> bool | None:
    """Whether a text is a time of this kind inside the window (None: no opinion)."""
    if not text.isascii():
        return False
    if kind is None:
        return None
    try:
        if kind == "month":
            match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text)
            return bool(match) and FIRST_DAY <= date(int(match[1]), int(match[2]), 1) <= LAST_DAY
        if kind == "day":
            match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
            return bool(match) and FIRST_DAY <= date(int(match[1]), int(match[2]), int(match[3])) <= LAST_DAY
        match = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})",
                             text)
        if not match:
            return False
        written = datetime.fromisoformat(f"{match[1]}T{match[2]}{'+00:00' if match[3] == 'Z' else match[3]}")
        offset = written.utcoffset()
        assert offset is not None
        return (abs(offset) <= timedelta(hours=14) and FIRST_DAY <= written.date() <= LAST_DAY
                and FIRST_DAY <= written.astimezone(CHINA).date() <= LAST_DAY)
    except ValueError:  # not a day of the calendar (2023-02-29, month 13, year 0)
        return False


# The server ----------------------------------------------------------------------------
class Server:
    def __init__(self, folder: Path) -> None:
        key = folder / "audit.key"
        key.write_text(Signer.generate("gridgov.test/time").text())
        self.engine = bootstrap.bootstrap(load_settings({
            "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite"),
            "READMODEL_SQLITE_DBNAME": str(folder / "readmodels.sqlite"), "AUDIT_KEY_FILE": str(key),
            "AUDIT_ORIGIN": "gridgov.test/time"}), clock=ManualClock(START))
        self.client = TestClient(app_of(self.engine, SECRET), raise_server_exceptions=False)
        self.document = Document(self.client.get("/openapi.json").json())
        self.fields = self.document.fields()
        # Every role that reads: the handler behind a valid value is reached by at least one.
        self.tokens = [{"Authorization": f"Bearer {mint(SECRET, sub, role, districts)}"} for sub, role, districts in
                       [("admin-温江", Role.DISTRICT_ADMIN, [DISTRICT]), ("auditor-温江", Role.AUDITOR, [DISTRICT]),
                        (RIDER, Role.RIDER, [])]]

    def send(self, field: Field, text: str, token: dict[str, str]) -> Any:
        op = self.document.openapi["paths"][field.path][field.method.lower()]
        path = field.path
        query: dict[str, Any] = {}
        for parameter in op.get("parameters", []):
            value = self.document.example(parameter["schema"], parameter["name"])
            if parameter["in"] == "path":
                path = path.replace(f"{{{parameter['name']}}}", str(value))
            elif parameter["in"] == "query" and (parameter.get("required") or parameter["name"] == field.query):
                query[parameter["name"]] = value
        if field.query:
            query[field.query] = text
            return self.client.get(path, params=query, headers=token)
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        body = self.document.example(schema)
        place, here = body, schema
        for step in field.body_path[:-1]:
            shape = self.document.object_of(here)
            assert shape is not None
            here = shape["properties"][step]
            place = place.setdefault(step, self.document.example(here, step))
        place[field.body_path[-1]] = text
        return self.client.request(field.method, path, json=body, params=query, headers=token)

    def check(self, field: Field, text: str) -> None:
        """Outside the window: refused naming the field (by the first token that may
        use the route: some check who asks first), never taken by any. Inside: never
        refused for it, never a 5xx, whoever asks."""
        verdict = acceptable(field.kind, text)
        for token in self.tokens:
            response = self.send(field, text, token)
            assert response.status_code < 500, f"{field} {text!r}: {response.status_code} {response.text[:300]}"
            problem = response.json() if response.status_code >= 400 else {}
            detail = problem.get("detail", "")
            refused_for_it = response.status_code == 422 and (
                any(issue["where"].split(".")[-1] == field.name for issue in problem.get("issues", []))
                or re.search(rf"(^|[ .`]){field.name}(`|:)", detail) is not None)
            # A refusal for the window states it; one for another rule (`to` before `from`) need not.
            for_the_window = refused_for_it and any(words in detail for words in BOUNDS)
            if verdict is False:
                assert response.status_code >= 400, f"{field} took {text!r}: {response.text[:300]}"
                if refused_for_it:
                    assert for_the_window, f"{field} {text!r}: the problem states the bounds: {problem}"
                    return
            elif verdict is True:
                assert not for_the_window, f"{field} refused {text!r}, which is in the window: {problem}"
        assert verdict is not False, f"{field} {text!r}: no token was told the field is wrong"

    def close(self) -> None:
        self.client.close()
        self.engine.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    served = Server(tmp_path_factory.mktemp("time-fields"))
    yield served
    served.close()


def test_the_document_names_the_temporal_fields_of_every_kind(server: Server) -> None:
    """The discovery finds what issue 24 names (and tells a new one's kind), and the
    valid body it builds for each is accepted by the request's validation."""
    named = {repr(f) for f in server.fields}
    for expected in ["POST /v1/commands/allocate-budget period", "POST /v1/commands/expire-old-points month",
                     "POST /v1/commands/publish-task due", "POST /v1/commands/list-item valid_to",
                     "POST /v1/commands/file-appeal subject.period", "GET /v1/districts/{district}/history from",
                     "GET /v1/districts/{district}/audit-export from", "GET /v1/riders/{rider_id}/balance-at at",
                     "GET /v1/districts/{district}/handed-out month",
                     "GET /v1/districts/{district}/subsidy-per-day period"]:
        assert expected in named, f"{expected} not found among {sorted(named)}"
    assert all(f.kind for f in server.fields), [f for f in server.fields if not f.kind]
    for field in server.fields:
        server.check(field, GOOD[field.kind or "month"])


@pytest.mark.parametrize("text", EXTREMES)
def test_every_time_field_holds_at_the_extremes(server: Server, text: str) -> None:
    for field in server.fields:
        server.check(field, text)


@given(text=texts())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_time_field_holds_for_any_spelling(server: Server, text: str) -> None:
    for field in server.fields:
        server.check(field, text)
