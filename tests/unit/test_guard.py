"""The app's outermost layer: nothing leaves as a 500 in text/plain, and a body
over the cap is a 413, both in problem+json."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from api.http.problems import MAX_BODY, Guard


def guarded() -> TestClient:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise TypeError("a bug")

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(Guard)
    return TestClient(app, raise_server_exceptions=False)


def test_an_unanswered_exception_is_a_problem_500() -> None:
    with guarded() as client:
        response = client.get("/boom")
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:gridgov:problem:internal-error"
        assert client.post("/echo", content=b"ok").json() == {"bytes": 2}  # and the app goes on


def test_a_body_over_the_cap_is_a_413_whether_announced_or_streamed() -> None:
    with guarded() as client:
        assert client.post("/echo", content=b"x" * MAX_BODY).json() == {"bytes": MAX_BODY}
        announced = client.post("/echo", content=b"x" * (MAX_BODY + 1))
        assert announced.status_code == 413 and announced.json()["type"].endswith("body-too-large")

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(MAX_BODY // 1000 + 2):
                yield b"x" * 1000

        streamed = client.post("/echo", content=chunks())
        assert streamed.status_code == 413
