"""Any number of processes may start at once on a fresh PostgreSQL database
(issue 24, finding 10).

Ten times: the relay, a consumer of every read model, the sequencer and the API
are started together, as `gridgov` commands, on schemas that do not exist yet
(POSTGRES_SCHEMA and READMODEL_SCHEMA named, never created). Each must come up —
make what it needs, print the line it prints when it runs — and stop on SIGTERM
without a traceback. Before, a schema that did not exist ended `gridgov serve` in
a traceback, and two processes making the same table at once could die of a
UniqueViolation on pg_type_typname_nsp_index.

The commands are forked, not exec'ed: thirteen interpreters importing the engine ten
times over would take minutes on two cores. They are forked from a fork server that
imported the engine once, not from this test's worker: a fork copies the locks other
threads hold at that moment and none of those threads, and a worker that has run other
tests has threads of theirs (clients, pools). In the full run a consumer forked from it
once ran, printed its line, and never ended on SIGTERM. Each child is a process of its own,
with its own connections, running the command's own code from `api.cli.main`."""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from projections.registry import PROJECTIONS
from tests.fixtures.kafka import require_kafka
from tests.fixtures.stores import postgres_settings

ROUNDS = int(os.environ.get("START_TOGETHER_ROUNDS", "10"))
# How long a round may go without one more command coming up: on a loaded machine thirteen starts
# share two cores (serve was 60 s late beside four busy workers), so the wait is on progress.
STALL_S = 120
# How long the stopping may go without one more command ending: each finishes its batch and closes.
STOP_S = 60
SECRET = "start-together-secret-of-32-bytes-or-more"


def run_command(argv: list[str], env: dict[str, str], output: str) -> None:
    """In the forked child: the command as `gridgov` runs it, its output to a file."""
    log = open(output, "w", buffering=1)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)  # the command installs its own
    # A round that stalls asks the late commands where they are (SIGUSR1): every thread's stack to its log.
    faulthandler.register(signal.SIGUSR1, file=log, all_threads=True)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["gridgov", *argv]
    from api.cli import main

    try:
        main()
    except SystemExit as e:
        log.flush()
        os._exit(e.code if isinstance(e.code, int) else 1)
    log.flush()
    os._exit(0)


# What the fork server imports once, before any command is forked from it: the commands' own imports.
PRELOAD = ["api.cli", "gridgov.bootstrap", "api.http.app", "uvicorn", "projections.registry", "consumers.runner",
           "consumers.relay", "transparency.sequencer", "psycopg", "kafka", __name__]

# The line each command prints once it has made what it needs and runs.
def commands(port: int) -> dict[str, tuple[list[str], str]]:
    started = {f"consume {name}": (["consume", name, "--wait-for-kafka", "0"], f"consume {name}: group")
               for name in PROJECTIONS}
    return {**started, "relay": (["relay", "--wait-for-kafka", "0"], "relay: from position"),
            "sequencer": (["audit", "sequence"], "sequencer: the tree has"),
            "serve": (["serve", "--dev", "--port", str(port)], "serving on http://")}


@pytest.fixture
def fresh_schemas() -> Iterator[list[str]]:
    """Names for schemas nobody has made; whatever the round made is dropped after."""
    settings = postgres_settings()
    try:
        conn = psycopg.connect(psycopg.conninfo.make_conninfo(
            host=settings["POSTGRES_HOST"], port=settings["POSTGRES_PORT"], dbname=settings["POSTGRES_DBNAME"],
            user=settings["POSTGRES_USER"], password=settings["POSTGRES_PASSWORD"]), autocommit=True)
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {e}")
        pytest.skip(f"PostgreSQL not reachable (start it with scripts/postgres.sh start): {e}")
    made: list[str] = []
    try:
        yield made
    finally:
        for schema in made:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    """The API serves (its signal handlers are in place: SIGTERM is a stop, not a kill)."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def where_they_wait(late: dict[str, tuple[multiprocessing.process.BaseProcess, Path]], env: dict[str, str]) -> str:
    """The late commands' stacks (faulthandler, on SIGUSR1) and what their database sessions wait on."""
    for child, _ in late.values():
        if child.pid is not None and child.exitcode is None:
            os.kill(child.pid, signal.SIGUSR1)
    asked = time.monotonic()
    while time.monotonic() - asked < 10 and not all(
            "most recent call first" in (output.read_text() if output.exists() else "") for _, output in late.values()):
        time.sleep(0.05)  # a hung command's stacks come from its signal handler; a dead one's never do
    stacks = "\n".join(f"--- {name} (pid {child.pid}):\n{output.read_text()[:6000] if output.exists() else ''}"
                       for name, (child, output) in late.items())
    try:
        with psycopg.connect(psycopg.conninfo.make_conninfo(
                host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], dbname=env["POSTGRES_DBNAME"],
                user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"]), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid), left(query, 160)"
                " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
        sessions = "\n".join(" | ".join(str(c) for c in row) for row in rows)
    except psycopg.Error as e:
        sessions = f"(pg_stat_activity not read: {e})"
    return f"{stacks}\n--- database sessions:\n{sessions}"


def stop_all(children: dict[str, tuple[multiprocessing.process.BaseProcess, Path, str]], env: dict[str, str]) -> str:
    """SIGTERM to every command still running; those still running STOP_S after the last one
    stopped are asked where they are (where_they_wait), then killed: what they said, or ''."""
    running = {name: child for name, (child, _, _) in children.items() if child.pid is not None and
               child.exitcode is None}
    for child in running.values():
        os.kill(child.pid, signal.SIGTERM)  # type: ignore[arg-type]
    deadline = time.monotonic() + STOP_S
    while running and time.monotonic() < deadline:
        for name, child in list(running.items()):
            if child.exitcode is not None:
                del running[name]
                deadline = time.monotonic() + STOP_S
        time.sleep(0.05)
    stuck = where_they_wait({name: children[name][:2] for name in running}, env) if running else ""
    for child in running.values():
        child.kill()
        child.join(10)
    return stuck


def start_round(env: dict[str, str], folder: Path) -> tuple[float, dict[str, str]]:
    """(seconds until every command ran, each command's output)."""
    fork = multiprocessing.get_context("forkserver")
    fork.set_forkserver_preload(PRELOAD)  # read once, when the first round starts the server
    children: dict[str, tuple[multiprocessing.process.BaseProcess, Path, str]] = {}
    began = time.monotonic()
    port = free_port()
    for name, (argv, ready) in commands(port).items():
        output = folder / f"{name.replace(' ', '-')}.log"
        child = fork.Process(target=run_command, args=(argv, env, str(output)), daemon=True)
        child.start()
        children[name] = (child, output, ready)
    try:
        deadline = time.monotonic() + STALL_S
        waiting = set(children)
        while waiting:
            for name in sorted(waiting):
                child, output, ready = children[name]
                text = output.read_text() if output.exists() else ""
                if ready in text and (name != "serve" or answers(port)):
                    waiting.discard(name)
                    deadline = time.monotonic() + STALL_S
                else:
                    assert child.exitcode is None, f"{name} ended ({child.exitcode}) before it ran:\n{text}"
            if time.monotonic() > deadline:
                pytest.fail(f"nothing more came up for {STALL_S} s; not running: {sorted(waiting)}\n"
                            + where_they_wait({name: children[name][:2] for name in waiting}, env))
            time.sleep(0.05)
        took = time.monotonic() - began
    finally:
        stuck = stop_all(children, env)
    outputs = {name: output.read_text() for name, (_, output, _) in children.items()}
    assert not stuck, f"still running {STOP_S} s after SIGTERM (then killed):\n{stuck}"
    for name, (child, _, _) in children.items():
        # uvicorn stops on SIGTERM, then raises it again for the handler before its own: the default, an exit by it.
        stopped = (0, -signal.SIGTERM) if name == "serve" else (0,)
        assert child.exitcode in stopped, f"{name} exited {child.exitcode}:\n{outputs[name]}"
    return took, outputs


@pytest.mark.postgres
def test_relay_consumers_sequencer_and_api_start_together_on_schemas_that_do_not_exist(
        fresh_schemas: list[str], tmp_path: Path) -> None:
    kafka = require_kafka()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_",
                                                                       "READMODEL_", "AUDIT_", "GRIDGOV_"))}
    times = []
    for n in range(ROUNDS):
        started = time.monotonic()
        events, readmodels = f"t_{uuid.uuid4().hex[:12]}", f"t_{uuid.uuid4().hex[:12]}"
        fresh_schemas += [events, readmodels]
        env = {**base, **postgres_settings(), "PERSISTENCE_MODULE": "eventsourcing.postgres",
               "POSTGRES_SCHEMA": events, "READMODEL_SCHEMA": readmodels, "POSTGRES_POOL_SIZE": "2",
               "POSTGRES_MAX_OVERFLOW": "4", "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
               "KAFKA_TOPIC_PREFIX": kafka.prefix, "GRIDGOV_JWT_SECRET": SECRET}
        folder = tmp_path / f"round-{n}"
        folder.mkdir()
        took, outputs = start_round(env, folder)
        times.append(took)
        print(f"round {n}: all running after {took:.1f} s, stopped after {time.monotonic() - started:.1f} s")
        for name, text in outputs.items():
            assert "Traceback" not in text and "UniqueViolation" not in text, f"{name}:\n{text}"
    print(f"{len(commands(0))} commands started together {ROUNDS} times, each round running after "
          f"{min(times):.1f}-{max(times):.1f} s")
