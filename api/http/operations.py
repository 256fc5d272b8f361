"""Liveness, readiness and Prometheus metrics, and waiting for a read model to
catch up with a command (read-your-writes)."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.problems import problem
from consumers.lag import KafkaLag, LagUnknown
from consumers.watchdog import restarts
from domain.errors import DomainError, InvalidInput
from application.coalescer import Coalescer
from application.service import GridGovernance, Outcome
from domain.commands import Command
from domain.events import Actor
from domain.scope import Scope as DomainScope
from projections.registry import PROJECTIONS
from domain.events import type_of_topic
from projections.engine import tracking
from projections.engine.projector import dead_letters
from projections.stores import ReadStore
from transparency.log import TransparencyLog

MAX_WAIT_S = 10.0
READY_WAIT_S = 2.0  # how long /readyz waits for the stores' figures before it says they do not answer
POSITION = Query(None, ge=0, le=2**62, description="read-your-writes: wait until this command's (its `position`) events are in")
WAIT = Query(2000, ge=0, le=10_000, description="how long to wait for `position`, in ms")


class ReadModelBehind(DomainError):
    """The read model has not reached the asked position within the wait."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("gridgov_http_requests_total", "HTTP requests", ["route", "status"],
                                registry=self.registry)
        self.commands = Histogram("gridgov_command_seconds", "time to execute a command", ["command"],
                                  registry=self.registry)
        self.lag = Gauge("gridgov_projection_lag_events", "events (or Kafka records) not yet in a read model",
                         ["projection"], registry=self.registry)
        self.tlog_lag = Gauge("gridgov_tlog_lag_events", "stored events not yet in the transparency log's tree",
                              registry=self.registry)
        self.tlog_size = Gauge("gridgov_tlog_leaves", "leaves in the transparency log's tree", registry=self.registry)
        self.relay_backlog = Gauge("gridgov_relay_backlog_events", "stored events the relay has not yet published "
                                   "to Kafka", registry=self.registry)
        self.restarts = Gauge("gridgov_consumer_restarts", "times a consumer's watchdog replaced its stuck Kafka "
                              "client", ["projection"], registry=self.registry)
        self.dead = Gauge("gridgov_dead_letters", "events a read model could not apply (\"*\": not even read)",
                          ["projection"], registry=self.registry)


def positions(store: ReadStore) -> dict[str, int]:
    """Each read model's position in the log (0 when it is fed from Kafka only)."""
    return {name: tracking.log_position(store, cls()) for name, cls in PROJECTIONS.items()}


async def wait_for(governance: GridGovernance, store: ReadStore, projection: str, position: int | None,
                   wait_ms: int) -> None:
    """Read-your-writes: hold the query until the read model has the events of
    the command that answered `position`, or say it has not (503, try again).

    Fed in-process, a read model's log position says it at once. Fed from
    Kafka, there is no such single number (partitions advance independently),
    so the command's own events are looked up and each is checked against the
    stream versions the read model has applied.

    Each look is a short trip to the thread pool; the waiting between looks is
    the event loop's. A waiting query that held a pool thread for its whole
    wait would let some 40 of them (read models stalled) starve every route."""
    if position is None:
        return
    head = await run_in_threadpool(governance.head)
    if position > head:
        raise InvalidInput(f"position {position} is beyond the end of the log ({head})", position=position)
    model = PROJECTIONS[projection]()
    own: list[tuple[str, int]] | None = None
    deadline = time.monotonic() + min(wait_ms / 1000, MAX_WAIT_S)
    while True:
        reached = await run_in_threadpool(tracking.log_position, store, model)
        if reached >= position:
            return
        if own is None:
            own = [(stream, version) for stream, version, kind in
                   await run_in_threadpool(written_with, governance, position) if kind in model.types]
        if await run_in_threadpool(tracking.applied, store, model, own):
            return
        if time.monotonic() >= deadline:
            raise ReadModelBehind(f"the {projection} read model does not have position {position} yet",
                                  projection=projection, reached=reached, wanted=position)
        await asyncio.sleep(0.01)


@dataclass(frozen=True)
class Reads:
    """What the query routes are made from: the service, the read models, the
    dependency that names the caller, and the transparency log if one is kept;
    `writer`, for the routes that also send a command (Open311's POST): the
    coalescer when the app has one, else the service."""
    governance: GridGovernance
    store: ReadStore
    principal: Callable[..., Any]
    tlog: TransparencyLog | None = None
    writer: GridGovernance | Coalescer | None = None

    async def wait(self, projection: str, position: int | None, wait_ms: int) -> None:
        await wait_for(self.governance, self.store, projection, position, wait_ms)

    async def decide(self, command: Command, actor: Actor, scope: DomainScope) -> Outcome:
        return await decided(self.writer or self.governance, command, actor, scope=scope)


async def decided(writer: GridGovernance | Coalescer, command: Command, actor: Actor, *, scope: DomainScope,
                  idempotency_key: str | None = None) -> Outcome:
    """A command's outcome for a route: the coalescer's answer awaited on the event loop, holding no
    thread (the commands arriving together are written in one transaction), or, with no coalescer,
    the service's `execute` in a thread."""
    if isinstance(writer, Coalescer):
        return await writer.answer(command, actor, idempotency_key=idempotency_key, scope=scope)
    return await run_in_threadpool(writer.execute, command, actor, idempotency_key=idempotency_key, scope=scope)


def written_with(governance: GridGovernance, position: int) -> list[tuple[str, int, str]]:
    """(stream, version, type) of the events the command that answered `position` stored."""
    return [(stream, version, type_of_topic(topic))
            for _, stream, version, topic, _ in governance.transaction_at(position)]


def lags(governance: GridGovernance, store: ReadStore, kafka: KafkaLag | None) -> dict[str, int]:
    """Events (embedded) or records (Kafka) each read model has still to apply. With
    Kafka, from the end offsets its watching thread last had: never waits on the broker
    (LagUnknown when they are too old)."""
    if kafka is not None:
        return {name: kafka.of_latest(store, cls()) for name, cls in PROJECTIONS.items()}
    head = governance.head()
    return {name: max(head - position, 0) for name, position in positions(store).items()}


def relay_backlog(governance: GridGovernance, kafka: KafkaLag | None) -> int | None:
    """Stored events not yet published to Kafka (None when fed in-process: no relay)."""
    return None if kafka is None else kafka.relay_backlog(governance)


def too_far_behind(lag: dict[str, int], backlog: int | None, max_lag: int) -> dict[str, int]:
    """The read models more than `max_lag` events behind: an event the relay has not
    published is behind for every one of them."""
    behind = {name: n + (backlog or 0) for name, n in lag.items()}
    return {name: n for name, n in behind.items() if n > max_lag}


def measure(governance: GridGovernance, store: ReadStore, kafka: KafkaLag | None,
            tlog: TransparencyLog | None) -> tuple[int, dict[str, int], int | None, dict[str, int], int | None]:
    """What /readyz judges by: (head, lag per read model, relay backlog, dead letters, tree lag)."""
    head = governance.head()
    lag = lags(governance, store, kafka)
    backlog = relay_backlog(governance, kafka)
    dead, _ = dead_letters(store)
    return head, lag, backlog, dead, tlog.lag() if tlog is not None else None


class Figures:
    """One look at the stores at a time, in one pool thread, shared by every request
    that asks while it runs: a load balancer's and an orchestrator's probes arriving
    together cost one look, not a pool thread and a connection each."""

    def __init__(self, look: Any) -> None:
        self.look = look
        self.running: asyncio.Future[Any] | None = None

    async def get(self, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        if self.running is None or self.running.done() or self.running.get_loop() is not loop:
            self.running = asyncio.ensure_future(run_in_threadpool(self.look))
        # shield: a probe that gives up does not cancel the look the others wait for.
        return await asyncio.wait_for(asyncio.shield(self.running), timeout)


class Counted:
    """Counts every request by route and status. Pure ASGI: a BaseHTTPMiddleware's task
    group and streams made each request cost more than the probes it counted."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500  # what the Guard outside makes of an exception that passes here

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            route = scope.get("route")
            self.metrics.requests.labels(getattr(route, "path", "unmatched"), str(status)).inc()


def install(app: FastAPI, governance: GridGovernance, store: ReadStore, metrics: Metrics,
            kafka: KafkaLag | None = None, tlog: TransparencyLog | None = None, max_lag: int = 5000) -> None:
    router = APIRouter(tags=["operations"])

    app.add_middleware(Counted, metrics=metrics)

    if kafka is not None:
        kafka.watch()  # the broker's end offsets, fetched in a thread of their own
    figures = Figures(lambda: measure(governance, store, kafka, tlog))

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process answers (nothing else is checked: for a liveness probe). On the
        event loop itself: no store, no broker, no lock, no thread to wait for."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> Response:
        """Ready to serve: the stores answer, the broker answered within the last
        10 s, no read model skipped an event and none is more than READY_MAX_LAG events
        behind; with the log's head, each projection's lag (and, with Kafka, the age of
        the end offsets it was judged from), the relay's backlog and the transparency
        log's lag. Never waits on the broker; concurrent probes share one look at the stores."""
        age = kafka.latest().age() if kafka is not None else None
        offsets_age = {"kafka_offsets_age_s": None if age is None else round(age, 3)} if kafka is not None else {}
        try:
            if kafka is not None:
                kafka.check_fresh()  # not ready whatever the stores say: no need to ask them
            head, lag, backlog, dead, tlog_lag = await figures.get(READY_WAIT_S)
        except LagUnknown as e:
            return problem(503, "not-ready", "Not ready", f"read-model lag unknown: {e}", request, **offsets_age)
        except TimeoutError:
            return problem(503, "not-ready", "Not ready", f"the stores did not answer within {READY_WAIT_S:g} s",
                           request, **offsets_age)
        except Exception as e:
            return problem(503, "not-ready", "Not ready",
                           f"a store or the broker is unreachable: {type(e).__name__}: {e}", request, **offsets_age)
        state = {"head": head, "fed_by": "kafka" if kafka else "log", "projection_lag": lag, **offsets_age,
                 "relay_backlog": backlog, "max_lag": max_lag, "dead_letters": dead, "transparency_lag": tlog_lag}
        if dead:
            # A read model that skipped events answers wrongly, however fresh it is.
            return problem(503, "not-ready", "Not ready",
                           f"{sum(dead.values())} event(s) could not be applied to a read model; "
                           "see `gridgov projections verify all`", request, **state)
        if behind := too_far_behind(lag, backlog, max_lag):
            return problem(503, "not-ready", "Not ready",
                           "read models behind by more than READY_MAX_LAG=" f"{max_lag} events: " +
                           ", ".join(f"{name} {n:,}" for name, n in sorted(behind.items())), request, **state)
        return JSONResponse({"status": "ready", **state})

    _metrics(router, governance, store, metrics, kafka, tlog)
    app.include_router(router)


def _metrics(router: APIRouter, governance: GridGovernance, store: ReadStore, metrics: Metrics,
             kafka: KafkaLag | None, tlog: TransparencyLog | None) -> None:
    @router.get("/metrics")
    def prometheus() -> Response:
        """Prometheus metrics: requests, command latency, projection lag, dead letters, the transparency log."""
        try:
            for name, lag in lags(governance, store, kafka).items():
                metrics.lag.labels(name).set(lag)
            if (backlog := relay_backlog(governance, kafka)) is not None:
                metrics.relay_backlog.set(backlog)
            if tlog is not None:
                size, position = tlog.tree.tip()
                metrics.tlog_size.set(size)
                metrics.tlog_lag.set(max(0, governance.head() - position))
        except Exception:
            pass  # /readyz says why; the other metrics still count
        for name, n in restarts(store).items():
            metrics.restarts.labels(name).set(n)
        counts, _ = dead_letters(store)
        for name in [*PROJECTIONS, *counts]:
            metrics.dead.labels(name).set(counts.get(name, 0))
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
