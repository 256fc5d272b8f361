"""The access log misses nothing and tells no lie (docs/audit.md): every request an
auditor's token makes — any method, any status, an unknown route and a 500 too — is
exactly one `AuditAccessed`, written before the answer leaves; the route's path
parameters and the query's are recorded apart, under their own names; a request
about another district is filed under that district as well as the auditor's own."""

from __future__ import annotations

import re
import uuid
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from domain.access import AuditAccessed
from domain.events import Role
from tests.fixtures.http import Api, is_problem, story


def accesses_since(engine: Any, head: int) -> list[Any]:
    """What the log gained after `head`: each of it must be an access."""
    return [engine.app.mapper.to_domain_event(n)
            for n in engine.app.recorder.select_notifications(start=head + 1, limit=100)]


def one_access(engine: Any, head: int) -> AuditAccessed:
    new = accesses_since(engine, head)
    assert len(new) == 1 and isinstance(new[0], AuditAccessed), new
    return new[0]


@pytest.fixture
def auditor(audited: tuple[Api, Any]) -> dict[str, str]:
    api, _ = audited
    return api.token(Role.AUDITOR, "auditor-温江")


def test_a_request_that_fails_with_a_500_is_an_access(audited, auditor, monkeypatch) -> None:
    api, engine = audited

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("api.http.auditors.district_accesses", broken)
    api.feed.catch_up()
    head = engine.app.head()
    response = api.client.get("/v1/districts/温江/accesses", headers=auditor)
    assert response.status_code == 500
    is_problem(response.json(), "internal-error", 500)
    access = one_access(engine, head)
    assert (access.what, access.status, access.districts) == ("GET /v1/districts/{district}/accesses", 500, ["温江"])


def test_a_command_an_auditor_tries_is_refused_and_is_an_access(audited, auditor) -> None:
    api, engine = audited
    head = engine.app.head()
    response = api.client.post("/v1/commands/allocate-budget", headers=auditor,
                               json={"district": "温江", "period": "2026-11", "fen": 100})
    assert response.status_code == 403, response.text
    access = one_access(engine, head)
    assert (access.what, access.status) == ("POST /v1/commands/allocate-budget", 403)
    assert access.path_parameters == {} and access.query_parameters == {}  # the body is not kept
    assert engine.app.head() == head + 1  # and the command wrote nothing


def test_an_unknown_route_and_a_wrong_method_are_accesses(audited, auditor) -> None:
    api, engine = audited
    head = engine.app.head()
    response = api.client.get("/v1/no-such-thing", headers=auditor, params={"x": "1"})
    assert response.status_code == 404
    access = one_access(engine, head)
    assert (access.what, access.status, access.query_parameters) == ("GET /v1/no-such-thing", 404, {"x": "1"})
    assert access.districts == ["温江"]  # it named none: the auditor's own
    head = engine.app.head()
    response = api.client.get("/v1/districts/温江/budgets", headers=auditor, params={"x": "\x00"})
    assert response.status_code == 422  # the Guard's refusal, before any route
    access = one_access(engine, head)
    assert (access.what, access.status, access.query_parameters) == (
        "GET /v1/districts/温江/budgets", 422, {"x": "\ufffd"})  # no store keeps a NUL in text
    head = engine.app.head()
    response = api.client.delete("/v1/districts/温江/accesses", headers=auditor)
    assert response.status_code == 405
    access = one_access(engine, head)
    assert (access.what, access.status, access.path_parameters) == (
        "DELETE /v1/districts/{district}/accesses", 405, {"district": "温江"})


def test_a_refused_look_at_another_district_is_filed_under_it_too(audited, auditor) -> None:
    api, engine = audited
    theirs = api.token(Role.AUDITOR, "auditor-锦江", districts=["锦江"])
    head = engine.app.head()
    api.query("/v1/districts/锦江/accesses", auditor, status=403)
    access = one_access(engine, head)
    assert (access.status, access.districts) == (403, sorted(["锦江", "温江"]))
    seen = api.query("/v1/districts/锦江/accesses", theirs)["accesses"]
    assert [(a["actor_id"], a["what"], a["status"]) for a in seen] == [
        ("auditor-温江", "GET /v1/districts/{district}/accesses", 403)]
    mine = api.query("/v1/districts/温江/accesses", auditor)["accesses"]
    assert [a["stream_id"] for a in mine] == [seen[0]["stream_id"]]


def test_path_and_query_parameters_are_recorded_apart(audited, auditor) -> None:
    api, engine = audited
    s = story(api)
    other = str(uuid.uuid4())
    head = engine.app.head()
    api.query(f"/v1/riders/{s['rider_id']}/balances", auditor, rider_id=other)
    access = one_access(engine, head)
    assert access.path_parameters == {"rider_id": s["rider_id"]}  # whose balances were read
    assert access.query_parameters == {"rider_id": other}  # what else was sent, under its own name
    api.clock.advance(1)
    head = engine.app.head()
    api.query("/v1/districts/温江/history", auditor, kind=["SubsidyAwarded", "SubsidyReversed"])
    assert one_access(engine, head).query_parameters == {"kind": ["SubsidyAwarded", "SubsidyReversed"]}
    seen = api.query("/v1/districts/温江/accesses", auditor)["accesses"]
    assert seen[1]["parameters"] == {"path": {"rider_id": s["rider_id"]}, "query": {"rider_id": other}}


def test_nothing_is_served_to_an_unknown_route_whose_access_could_not_be_recorded(audited, auditor,
                                                                                  monkeypatch) -> None:
    api, engine = audited

    def broken(*_: Any, **__: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(engine.app, "record_access", broken)
    for method in ("GET", "POST"):
        response = api.client.request(method, "/v1/districts/温江/budgets", headers=auditor)
        assert response.status_code == 503, (method, response.text)
        is_problem(response.json(), "access-not-recorded", 503)


# --- every route, every method ----------------------------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def routes(client: TestClient) -> list[str]:
    return sorted({*client.app.openapi()["paths"], "/v1/no-such-thing", "/nothing/{x}"})  # type: ignore[attr-defined]


@pytest.fixture
def every_route(audited: tuple[Api, Any]) -> Iterator[tuple[Api, Any, list[str]]]:
    api, engine = audited
    api.feed.catch_up()
    yield api, engine, routes(api.client)


PARAMETER = st.one_of(st.uuids().map(str), st.sampled_from(["温江", "锦江", "2026-11", "1"]),
                      st.text(st.characters(codec="utf-8", exclude_categories=("Cc",), exclude_characters="/?#%"),
                              min_size=1, max_size=12))
# A query's values are percent-encoded: any character, a NUL (refused by the Guard) too.
QUERY_VALUE = st.one_of(PARAMETER, st.text(st.characters(codec="utf-8"), max_size=12))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_request_of_an_auditor_is_exactly_one_access(every_route, data: st.DataObject) -> None:
    api, engine, paths = every_route
    template = data.draw(st.sampled_from(paths), label="route")
    method = data.draw(st.sampled_from(METHODS), label="method")
    # Filled from the template, not the path so far: a drawn value may hold a brace of its own.
    path = re.sub(r"\{([^}]+)\}", lambda hole: data.draw(PARAMETER, label=hole[1]), template)
    query = data.draw(st.dictionaries(st.sampled_from(["district", "rider_id", "follow", "limit", "x"]),
                                      QUERY_VALUE, max_size=3), label="query")
    if template.endswith("/stream"):
        query["follow"] = "false"  # a stream that stays open never answers in a test
    who = data.draw(st.sampled_from([["温江"], ["锦江"], ["温江", "锦江"]]), label="districts")
    head = engine.app.head()
    response = api.client.request(method, path, params=query, headers=api.token(Role.AUDITOR, "auditor", who),
                                  json={} if method in ("POST", "PUT", "PATCH") else None)
    access = one_access(engine, head)
    assert access.status == response.status_code and access.what.startswith(f"{method} ")
    assert set(who) <= set(access.districts) or set(access.districts) <= set(who)
