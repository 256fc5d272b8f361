"""Readiness never freezes the API while Kafka is away (issue 24, finding 9).

`gridgov serve` in production shape (PostgreSQL, read models fed by Kafka) whose
broker does not answer: a port on 127.0.0.1 that is bound but never listens, so
every connection is refused and no other test's broker is disturbed. A load
balancer and an orchestrator probing `/readyz` 200 times at once must not delay
`/healthz` or a query: they answer within 100 ms (3 in 4, none near 5 s: see below), and
`/readyz` says from how old figures it judges."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from api.http.auth import mint
from domain.events import Role

ROOT = Path(__file__).resolve().parents[2]
SECRET = "readiness-secret-of-at-least-32-bytes!!"
LIMIT_MS = 100

# Alone, after the parallel part: its 200 probers load the machine on purpose, and beside the other
# worker's matrix cases (CI, once) half the server's answers took over 100 ms without any waiting on
# the broker; what is timed must be the server, not the other worker.
pytestmark = pytest.mark.exclusive


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken by hand: a client costs next to
    nothing beside the server, so what is timed is the server's answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, path: str, token: str = "") -> tuple[int, float]:
        """(status, ms); status 0 when no answer came within 5 s."""
        started = time.perf_counter()
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.writer.write(f"GET {quote(path)} HTTP/1.1\r\nHost: test\r\n{auth}\r\n".encode())
        try:
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        except TimeoutError:
            return 0, (time.perf_counter() - started) * 1000
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await self.reader.readexactly(length)
        return int(head.split()[1]), (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.writer.close()


async def probe(port: int, token: str, seconds: float = 4) -> dict[str, list[tuple[int, float]]]:
    """200 probers of /readyz, all at once and then each once a second (a probe
    period is 1-10 s), while /healthz and a query are timed over and over."""
    probers = await asyncio.gather(*(Connection.open(port) for _ in range(200)))
    mine = await Connection.open(port)
    timings: dict[str, list[tuple[int, float]]] = {"healthz idle": [], "readyz burst": [], "readyz": [], "healthz": [], "budgets": []}
    for connection in [*probers, mine]:
        await connection.get("/healthz")  # connected and served once: no handshake is timed
    await mine.get("/v1/districts/温江/budgets", token)  # the read store's first connection, not timed
    for _ in range(10):  # one after another on a kept-alive connection: no ~40 ms wait for a delayed ACK
        timings["healthz idle"].append(await mine.get("/healthz"))
    burst = time.perf_counter()
    timings["readyz burst"] = list(await asyncio.gather(*(p.get("/readyz") for p in probers)))
    print(f"200 /readyz at once all answered in {(time.perf_counter() - burst) * 1000:.0f} ms")
    stop = time.monotonic() + seconds

    async def keep_probing(prober: Connection, n: int) -> None:
        await asyncio.sleep(n / 200)  # spread over the first second
        while time.monotonic() < stop:
            timings["readyz"].append(await prober.get("/readyz"))
            await asyncio.sleep(1)

    probing = asyncio.gather(*(keep_probing(p, n) for n, p in enumerate(probers)))
    await asyncio.sleep(1.1)  # every prober at it
    while time.monotonic() < stop - 0.2:
        timings["healthz"].append(await mine.get("/healthz"))
        timings["budgets"].append(await mine.get("/v1/districts/温江/budgets", token))
        await asyncio.sleep(0.05)
    await probing
    for connection in [*probers, mine]:
        connection.close()
    return timings


def test_healthz_and_queries_answer_at_once_while_200_readyz_probe_a_broker_that_is_away(
        postgres_schema: dict[str, str]) -> None:
    with socket.socket() as nobody, socket.socket() as free:
        nobody.bind(("127.0.0.1", 0))  # bound, never listening: the broker is away
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
        free.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_"))}
        env.update(postgres_schema, PERSISTENCE_MODULE="eventsourcing.postgres",
                   READMODEL_SCHEMA=postgres_schema["POSTGRES_SCHEMA"], GRIDGOV_JWT_SECRET=SECRET,
                   KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{nobody.getsockname()[1]}")
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--dev", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, server.stdout.read()  # type: ignore[union-attr]
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
            token = mint(SECRET, "admin", Role.DISTRICT_ADMIN, ["温江"])
            timings = asyncio.run(probe(port, token))
            try:
                ready: httpx.Response | None = httpx.get(f"{base}/readyz", timeout=5)
            except httpx.TimeoutException:
                ready = None
        finally:
            server.terminate()
            server.wait(30)
    for name, answers in timings.items():
        ms = [t for _, t in answers]
        print(f"{name}: {len(ms)} answers, statuses {sorted({s for s, _ in answers})}, "
              f"median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms")
    assert statistics.median(t for _, t in timings["healthz idle"]) < 20, "Nagle's algorithm is on"
    assert {s for s, _ in timings["healthz"]} == {200} and {s for s, _ in timings["budgets"]} == {200}, timings
    assert {s for name in ("readyz", "readyz burst") for s, _ in timings[name]} == {503}, "the broker is away"
    # A burst of 200 requests of any kind keeps the server's one event loop busy for
    # a while on two busy cores; what matters is that none waits out the broker's 5 s.
    assert max(t for _, t in timings["readyz burst"]) < 2000, "a /readyz waited on the broker"
    # Within LIMIT_MS, but for the scheduler: on a machine running other suites (load 8
    # on two cores, PostgreSQL shared) a few answers in a row now and then wait a few
    # hundred ms, whatever they do. So 3 in 4 within LIMIT_MS, and none near the broker's 5 s.
    for name in ("readyz", "healthz", "budgets"):
        ms = sorted(t for _, t in timings[name])
        assert ms[len(ms) * 3 // 4] <= LIMIT_MS, f"{name}: more than 1 in 4 slower than {LIMIT_MS} ms: {ms}"
        assert ms[-1] < 1000, f"{name}: an answer took {ms[-1]:.0f} ms while 200 probers probe /readyz"
    assert ready is not None, "a lone /readyz did not answer within 5 s"
    body = ready.json()
    assert ready.status_code == 503 and "Kafka" in body["detail"], body
    assert "kafka_offsets_age_s" in body, "readiness says how old its lag figures are"
