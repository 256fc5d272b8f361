"""`gridgov simulate` does not leave its workers behind: stopped by SIGTERM it stops
them and says so; SIGKILLed, they find it gone and stop by themselves. Before, a
killed run left fifteen consumers sharing the cores with every later test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from consumers.settings import KafkaSettings
from consumers.topics import delete_topics
from tests.fixtures.kafka import require_kafka
from tests.fixtures.processes import children_of, running

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 240  # a loaded machine: workers busy starting, the broker slow to answer


def wait_for(what: str, done: Callable[[], object], deadline_s: float = DEADLINE_S) -> object:
    deadline = time.monotonic() + deadline_s
    while not (result := done()):
        assert time.monotonic() < deadline, f"{what}: not after {deadline_s} s"
        time.sleep(0.2)
    return result


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[KafkaSettings]:
    """The broker; the topics an interrupted run leaves (named in its stores.txt) deleted after."""
    settings = require_kafka()
    yield settings
    for named in tmp_path.glob("*/stores.txt"):
        prefix = re.search(r"topics (\w+)\.\*", named.read_text())
        if prefix:
            delete_topics(KafkaSettings(bootstrap=settings.bootstrap, prefix=prefix[1]))


def started_simulate(tmp_path: Path, kafka: KafkaSettings) -> tuple[subprocess.Popen, set[int]]:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_",
                                                                       "READMODEL_", "GRIDGOV_", "SQLITE_"))}
    env.update(KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap, KAFKA_PARTITIONS="1", COLUMNS="400")  # one line a message
    sim = subprocess.Popen([sys.executable, "-m", "api.cli", "simulate", "--riders", "3000", "--speed", "1",
                            "--logs", str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    # The relay and one consumer a read model; each has made its Kafka client once its log says so.
    workers = wait_for("the workers started", lambda: len(children_of(sim.pid)) >= 5 and children_of(sim.pid))
    wait_for("a worker at work", lambda: any("group" in log.read_text() for log in tmp_path.glob("*/*.log")))
    return sim, set(workers)  # type: ignore[arg-type]


def test_sigterm_ends_the_run_and_its_workers(tmp_path: Path, kafka: KafkaSettings) -> None:
    sim, workers = started_simulate(tmp_path, kafka)
    sim.send_signal(signal.SIGTERM)
    _, err = sim.communicate(timeout=DEADLINE_S)
    assert sim.returncode == 130, err
    assert "interrupted; its workers are stopped" in err and "stores.txt" in err
    assert [pid for pid in workers if running(pid)] == []
    assert "sim_" in next(tmp_path.glob("*/stores.txt")).read_text()


def test_workers_of_a_killed_run_stop_by_themselves(tmp_path: Path, kafka: KafkaSettings) -> None:
    sim, workers = started_simulate(tmp_path, kafka)
    sim.kill()
    sim.communicate()
    try:
        wait_for("every worker stopped", lambda: not any(running(pid) for pid in workers))
    finally:
        for pid in workers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
    logs = "\n".join(log.read_text() for log in tmp_path.glob("*/*.log"))
    assert f"the supervisor (pid {sim.pid}) is gone: stopping" in logs
    assert "Traceback" not in logs, logs
