"""The API in production shape: PostgreSQL event store and read models, the
read models fed only by Kafka consumers (no in-process feed). Read-your-writes
and readiness must hold without a single log position to compare."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.auth import mint
from consumers.lag import KafkaLag
from consumers.relay import Relay
from consumers.runner import ConsumerRunner
from consumers.settings import KafkaSettings
from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from domain.events import Role
from application.service import GridGovernance
from gridgov.bootstrap import read_store
from projections.registry import PROJECTIONS
from projections.stores.postgres import PostgresStore
from tests.fixtures.kafka import require_kafka
from tests.fixtures.world import START

SECRET = "kafka-mode-secret-of-at-least-32-bytes!"


class Pipeline:
    """Relay and one consumer per read model, in threads, startable and stoppable."""

    def __init__(self, app: GridGovernance, store: PostgresStore, settings: KafkaSettings) -> None:
        self.app, self.store, self.settings = app, store, settings
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.runners: list[ConsumerRunner] = []

    def start(self, consumers: bool = True) -> None:
        self.stop.clear()
        relay = Relay(self.app, self.settings)
        self.threads = [threading.Thread(target=relay.run, args=(self.stop,), daemon=True)]
        if consumers:
            self.runners = [ConsumerRunner(cls(), self.store, self.settings) for cls in PROJECTIONS.values()]
            self.threads += [threading.Thread(target=r.run, args=(self.stop,), daemon=True) for r in self.runners]
        for thread in self.threads:
            thread.start()

    def halt(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        for runner in self.runners:
            runner.close()
        self.runners = []


@pytest.fixture
def production(postgres_schema: dict[str, str]) -> Iterator[tuple[TestClient, Pipeline]]:
    settings = require_kafka()
    env = {**postgres_schema, "PERSISTENCE_MODULE": "eventsourcing.postgres", "READMODEL_SCHEMA": postgres_schema["POSTGRES_SCHEMA"]}
    app = bootstrap.application(load_settings(env), clock=ManualClock(START))
    store = read_store(load_settings(env))
    lag = KafkaLag(settings)
    pipeline = Pipeline(app, store, settings)
    with TestClient(create_app(app, store, SECRET, lag), raise_server_exceptions=False) as client:
        yield client, pipeline
    pipeline.halt()
    lag.close()
    store.close()
    app.close()


def token(role: Role, sub: str, grids: list[str] = ()) -> dict[str, str]:  # type: ignore[assignment]
    return {"Authorization": f"Bearer {mint(SECRET, sub, role, ['温江'] if role is not Role.RIDER else [], grids)}"}


def post(client: TestClient, name: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(f"/v1/commands/{name}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def scene(client: TestClient) -> dict[str, Any]:
    admin = token(Role.DISTRICT_ADMIN, "admin")
    grid = post(client, "register-grid", {"district": "温江", "street": "s", "community": "c", "name": "g"},
                admin)["result"]["grid_id"]
    post(client, "assign-officer", {"grid_id": grid, "officer_id": "officer-1"}, admin)
    post(client, "issue-rate-schedule", {"district": "温江", "effective_from": "2026-11-01T00:00:00+08:00",
                                         "rates": {"fire-lane": {"fen": 800, "points": 8}},
                                         "cap_day_fen": 5000, "cap_month_fen": 50000}, admin)
    post(client, "allocate-budget", {"district": "温江", "period": "2026-11", "fen": 100000}, admin)
    rider_id = str(uuid.uuid4())
    rider = token(Role.RIDER, rider_id)
    post(client, "register-rider", {"rider_id": rider_id, "platform": "p", "station": "s", "name": "n",
                                    "phone": "13800000000"}, rider)
    post(client, "join-grid", {"rider_id": rider_id, "grid_id": grid}, rider)
    return {"grid": grid, "rider_id": rider_id, "rider": rider, "officer": token(Role.GRID_OFFICER, "officer-1", [grid])}


def piece(client: TestClient, s: dict[str, Any]) -> tuple[str, int]:
    """A task published, claimed, completed and verified: (task id, the verification's position)."""
    task = post(client, "publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"},
                s["officer"])["result"]["task_id"]
    post(client, "claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    post(client, "complete-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    return task, post(client, "verify-completion", {"task_id": task}, s["officer"])["position"]


def test_read_your_writes_when_kafka_feeds_the_read_models(production: tuple[TestClient, Pipeline]) -> None:
    client, pipeline = production
    pipeline.start()
    s = scene(client)
    for n in range(1, 6):
        task, position = piece(client, s)
        # Straight after the command: the relay and the consumer have had no time unless we wait.
        balances = client.get(f"/v1/riders/{s['rider_id']}/balances", headers=s["rider"],
                              params={"position": position, "wait_ms": 10_000})
        assert balances.status_code == 200, balances.text
        assert balances.json()["total"]["awarded"] == 800 * n
        board = client.get("/v1/board", headers=s["officer"], params={"position": position, "wait_ms": 10_000,
                                                                      "grid_id": s["grid"]})
        assert {t["task_id"]: t["status"] for t in board.json()["tasks"]}[task] == "verified"


def test_without_consumers_the_wait_says_behind_and_readyz_shows_the_lag(
        production: tuple[TestClient, Pipeline]) -> None:
    client, pipeline = production
    pipeline.start(consumers=False)  # events reach Kafka; nothing applies them
    s = scene(client)
    _, position = piece(client, s)
    behind = client.get(f"/v1/riders/{s['rider_id']}/balances", headers=s["rider"],
                        params={"position": position, "wait_ms": 300})
    assert behind.status_code == 503 and behind.json()["type"].endswith("read-model-behind")
    deadline = time.monotonic() + 20
    while True:  # the relay publishes in the background; the lag grows to all of it
        ready = client.get("/readyz").json()  # (no lag until the watcher has had the end offsets once)
        if ready.get("projection_lag", {}).get("balances", 0) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert ready["fed_by"] == "kafka" and ready["relay_backlog"] is not None
    assert ready["projection_lag"]["balances"] >= 2  # at least the award and its budget commitment
    pipeline.halt()
    pipeline.start()
    caught_up = client.get(f"/v1/riders/{s['rider_id']}/balances", headers=s["rider"],
                           params={"position": position, "wait_ms": 10_000})
    assert caught_up.status_code == 200 and caught_up.json()["total"]["awarded"] == 800
    deadline = time.monotonic() + 20
    while client.get("/readyz").json().get("projection_lag") != dict.fromkeys(PROJECTIONS, 0):
        assert time.monotonic() < deadline, client.get("/readyz").text
        time.sleep(0.1)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["relay_backlog"] == 0, ready.text
