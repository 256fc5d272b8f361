"""A database that does not answer (a primary dead, a failover under way) is a 503
`store-unavailable` in problem+json, in the caller's language, however the library or
the driver says it; never a 500 with a traceback."""

from __future__ import annotations

import eventsourcing.persistence as persistence
import psycopg
import psycopg_pool
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.http import problems

SAID = [persistence.OperationalError("couldn't get a connection after 5.00 sec"),
        persistence.InterfaceError("the connection is closed"),
        psycopg.OperationalError("connection failed: session is read-only"),
        psycopg.InterfaceError("the connection is lost"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"),
        psycopg.OperationalError("")]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    problems.install(app)

    @app.post("/fail/{n}")
    def fail(n: int) -> None:
        raise SAID[n]

    return TestClient(problems.Guard(app), raise_server_exceptions=False)


@pytest.mark.parametrize("n", range(len(SAID)))
@pytest.mark.parametrize("language, title", [("zh-CN", "数据库暂不可用"), ("en", "Store unavailable")])
def test_an_unreachable_database_is_a_503_in_words(client: TestClient, n: int, language: str, title: str) -> None:
    answer = client.post(f"/fail/{n}", headers={"Accept-Language": language})
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "urn:gridgov:problem:store-unavailable" and body["title"] == title
    assert "Traceback" not in body["detail"]
