"""The consumer's watchdog against the real broker: a client that stops
delivering is replaced and the read model still equals a fold of the store; and
topics created at the very moment consumers join (where a consumer once sat on
an assignment it never read, `applied 0`) end with every read model caught up.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from pathlib import Path

import pytest

from consumers.relay import Relay
from consumers.runner import ConsumerRunner
from consumers.settings import KafkaSettings
from consumers.watchdog import restarts
from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from application.service import GridGovernance
from projections.balances import Balances
from projections.board import Board
from projections.engine.rebuild import verify
from projections.stores.sqlite import SQLiteStore
from tests.fixtures.kafka import require_kafka
from tests.fixtures.world import START, World


@pytest.fixture
def settings() -> KafkaSettings:
    return dataclasses.replace(require_kafka(), stall_after_s=2.0)


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = ManualClock(START)
    application = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                                       "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}),
                                        clock=clock)
    world = World(application, clock)
    grid, rider = world.scene()
    for _ in range(40):
        world.piece(grid, rider)
    yield application
    application.close()


class Running:
    """A runner's loop in a thread, as `gridgov consume` runs it."""

    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner
        self.stop = threading.Event()
        self.thread = threading.Thread(target=runner.run, args=(self.stop,), kwargs={"check_every_s": 0.2})

    def __enter__(self) -> ConsumerRunner:
        self.thread.start()
        return self.runner

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the runner did not stop"
        self.runner.close()


def wait_caught_up(runner: ConsumerRunner, deadline_s: float = 120) -> None:
    """Until the read model has every record: the deadline is generous (a loaded machine),
    and each look is of progress, not of time."""
    deadline = time.monotonic() + deadline_s
    while (behind := runner.lag.of(runner.projector.store, runner.projection)) > 0:
        assert time.monotonic() < deadline, f"{runner.group}: still {behind} behind; restarts {runner.stats.restarts}"
        time.sleep(0.1)


def test_a_client_that_stops_delivering_is_replaced_and_nothing_is_lost(
        app: GridGovernance, settings: KafkaSettings, tmp_path: Path) -> None:
    relay = Relay(app, settings)
    half = app.head() // 2
    relay.publish_after(0, record=False)  # a first page only; the rest comes once the client is stuck
    store = SQLiteStore(str(tmp_path / "readmodels.sqlite"))
    runner = ConsumerRunner(Board(), store, settings)
    stuck = runner.consumer
    stuck.poll = lambda *a, **k: {}  # type: ignore[method-assign]  # alive, joined, delivering nothing
    try:
        with Running(runner):
            while relay.publish_once():
                pass
            wait_caught_up(runner)
        assert runner.stats.restarts >= 1 and runner.consumer is not stuck
        assert restarts(store)["board"] == runner.stats.restarts, "each restart is recorded for /metrics"
        assert verify(app, store, [Board]) == []
        assert app.head() > half
    finally:
        relay.close()
        store.close()


def test_an_idle_consumer_is_left_alone(app: GridGovernance, settings: KafkaSettings, tmp_path: Path) -> None:
    relay = Relay(app, settings)
    while relay.publish_once():
        pass
    store = SQLiteStore(str(tmp_path / "readmodels.sqlite"))
    try:
        with Running(ConsumerRunner(Balances(), store, settings)) as runner:
            wait_caught_up(runner)
            time.sleep(3 * settings.stall_after_s)  # idle for longer than the stall time, on purpose
            assert runner.stats.restarts == 0, "no lag, no stall"
    finally:
        relay.close()
        store.close()


@pytest.mark.parametrize("round_", range(6))
def test_topics_created_while_consumers_join_end_caught_up(
        round_: int, app: GridGovernance, settings: KafkaSettings, tmp_path: Path) -> None:
    """The relay makes the topics and publishes while two consumer groups join them,
    all at once: the moment `bench/pipeline.py` once lost a consumer in."""
    settings = dataclasses.replace(settings, prefix=f"t{uuid.uuid4().hex[:10]}")
    store = SQLiteStore(str(tmp_path / f"readmodels{round_}.sqlite"))
    start = threading.Barrier(3)
    runners: dict[str, ConsumerRunner] = {}
    errors: list[BaseException] = []

    def relay() -> None:
        try:
            start.wait()
            r = Relay(app, settings)
            while r.publish_once():
                pass
            r.close()
        except BaseException as e:  # the test says it, not the thread
            errors.append(e)

    def join(projection) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait()
            runners[projection.name] = ConsumerRunner(projection, store, settings)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=relay), threading.Thread(target=join, args=(Board(),)),
               threading.Thread(target=join, args=(Balances(),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    try:
        running = [Running(r) for r in runners.values()]
        for r in running:
            r.__enter__()
        try:
            for runner in runners.values():
                wait_caught_up(runner)
        finally:
            for r in running:
                r.__exit__()
        assert verify(app, store, [Board, Balances]) == []
        print(f"round {round_}: restarts {({n: r.stats.restarts for n, r in runners.items()})}")
    finally:
        store.close()


def test_kafka_stall_s_reaches_the_watchdog_through_the_composition_root(app: GridGovernance, tmp_path: Path) -> None:
    """Settings -> gridgov.bootstrap -> the runner's watchdog: the workers `gridgov relay`
    and `gridgov consume` run are the ones bootstrap builds, on the topics the settings name."""
    kafka = require_kafka()
    settings = load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                              "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
                              "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"),
                              "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap, "KAFKA_TOPIC_PREFIX": kafka.prefix,
                              "KAFKA_STALL_S": "42"})
    store = bootstrap.read_store(settings)
    relay = bootstrap.relay(settings, app)
    runner = bootstrap.consumer_runner(settings, store, "board")
    try:
        assert runner.watchdog.stall_after_s == 42
        assert runner.group == f"{kafka.prefix}.projection.board" and relay.settings.prefix == kafka.prefix
    finally:
        runner.close()
        relay.close()
        store.close()
