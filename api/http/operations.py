"""Liveness, readiness and Prometheus metrics, and waiting for a read model to
catch up with a command (read-your-writes)."""

import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from api.http.problems import problem
from domain.errors import DomainError, InvalidInput
from domain.service import GridGovernance
from projections.catalog import PROJECTIONS
from projections.feed import LOG
from projections.projector import DEAD_LETTERS
from projections.store import ReadStore

MAX_WAIT_S = 10.0


class ReadModelBehind(DomainError):
    """The read model has not reached the asked position within the wait."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("gridgov_http_requests_total", "HTTP requests", ["route", "status"],
                                registry=self.registry)
        self.commands = Histogram("gridgov_command_seconds", "time to execute a command", ["command"],
                                  registry=self.registry)
        self.lag = Gauge("gridgov_projection_lag_events", "events in the log not yet in a read model",
                         ["projection"], registry=self.registry)
        self.dead = Gauge("gridgov_dead_letters", "events a read model could not apply", registry=self.registry)


def positions(store: ReadStore) -> dict[str, int]:
    """Each read model's position in the log (0 when it is fed from Kafka only)."""
    out = {}
    for name, cls in PROJECTIONS.items():
        projection = cls()
        try:
            rows = store.read(projection.sql("SELECT position FROM {positions} WHERE source = ?"), (LOG,))
        except Exception:  # not created yet
            rows = []
        out[name] = int(rows[0][0]) if rows else 0
    return out


def wait_for(governance: GridGovernance, store: ReadStore, projection: str, position: int | None,
             wait_ms: int) -> None:
    """Read-your-writes: hold the query until the read model has applied the log
    up to `position` (a command's answer), or say it has not (503, try again)."""
    if position is None:
        return
    if position > governance.head():
        raise InvalidInput(f"position {position} is beyond the end of the log ({governance.head()})",
                           position=position)
    deadline = time.monotonic() + min(wait_ms / 1000, MAX_WAIT_S)
    while True:
        reached = positions(store)[projection]
        if reached >= position:
            return
        if time.monotonic() >= deadline:
            raise ReadModelBehind(f"the {projection} read model is at position {reached}, not yet {position}",
                                  projection=projection, reached=reached, wanted=position)
        time.sleep(0.01)


def install(app: FastAPI, governance: GridGovernance, store: ReadStore, metrics: Metrics) -> None:
    router = APIRouter(tags=["operations"])

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.requests.labels(getattr(route, "path", "unmatched"), str(response.status_code)).inc()
        return response

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz() -> Response:
        try:
            head = governance.head()
            lag = {name: max(head - position, 0) for name, position in positions(store).items()}
        except Exception as e:
            return problem(503, "not-ready", "Not ready", f"a store is unreachable: {type(e).__name__}: {e}")
        return JSONResponse({"status": "ready", "head": head, "projection_lag": lag})

    @router.get("/metrics")
    def prometheus() -> Response:
        head = governance.head()
        for name, position in positions(store).items():
            metrics.lag.labels(name).set(max(head - position, 0))
        try:
            metrics.dead.set(store.read(f"SELECT COUNT(*) FROM {DEAD_LETTERS}")[0][0])
        except Exception:
            metrics.dead.set(0)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
