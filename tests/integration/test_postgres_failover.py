"""The PostgreSQL primary dies mid-stream of commands; its synchronous standby is
promoted; the engine's processes carry on against it without a restart.

Real processes: the pair of `scripts/postgres.sh pair` and `gridgov audit sequence`,
with the API in either of its shapes, every process given the two servers as libpq's
host list (`--dev`: tokens of a secret, not a provider's):
- `in-process`: `gridgov serve`, its read models followed from the log;
- `kafka`, production's: `gridgov serve`, `gridgov relay` (reads the log and records how
  far it published, both in PostgreSQL) and `gridgov consume riders` (stores the read
  model and its offsets in PostgreSQL), through the real broker.
A writer registers riders through HTTP without pause and keeps every rider answered
200. The primary is SIGKILLed, the standby promoted, and the writer goes on. Then:
every rider answered 200 is in the promoted server's log (a commit answered is on
both), every other answer was a 503 in problem+json (never a 500), the serving process
reads its own writes on the new primary (in the Kafka shape: relayed, consumed and
stored there), and `gridgov audit verify` and `gridgov projections verify` are clean
(none missing, none applied twice). All waiting is on progress, with deadlines.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import httpx
import pytest

from api.http.auth import mint
from domain.events import Role
from gridgov import bootstrap
from gridgov.settings import Settings, load_settings
from tests.fixtures.kafka import require_kafka
from tests.fixtures.pg_pair import Pair

ROOT = Path(__file__).resolve().parents[2]
SECRET = "failover-secret-of-at-least-thirty-two-bytes"
BEFORE, AFTER = 40, 40  # riders answered 200 before the kill, and after the promotion
DEADLINE_S = 120.0  # for any one piece of progress: a loaded 2-core machine

pytestmark = pytest.mark.postgres


class Writer(threading.Thread):
    """Registers riders one after another, as a district's admin would, until stopped."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.token = mint(SECRET, "admin-温江", Role.DISTRICT_ADMIN, ["温江"])
        self.ok: list[tuple[str, int]] = []  # (rider id, position answered)
        self.names: dict[str, str] = {}  # rider id: the name it was registered with
        self.refused: list[tuple[int, str, str]] = []  # (status, content type, body)
        self.seconds: list[float] = []  # each command's, answered or not
        self.stop = threading.Event()

    def run(self) -> None:
        # Longer than the library's retries of one write (10 tries of a 5 s pool wait).
        with httpx.Client(base_url=self.base, timeout=90,
                          headers={"Authorization": f"Bearer {self.token}"}) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                rider = str(uuid.uuid4())
                self.names[rider] = f"骑手{n}"
                began = time.monotonic()
                try:
                    r = client.post("/v1/commands/register-rider", json={
                        "rider_id": rider, "platform": "meituan", "station": "温江站", "name": self.names[rider],
                        "phone": f"1380000{n % 10_000:04d}"})
                except httpx.HTTPError as e:  # no answer: neither answered nor refused
                    self.refused.append((0, "", repr(e)))
                    continue
                finally:
                    self.seconds.append(time.monotonic() - began)
                if r.status_code == 200:
                    self.ok.append((rider, r.json()["position"]))
                else:
                    self.refused.append((r.status_code, r.headers.get("content-type", ""), r.text))
                    time.sleep(0.05)


class Processes:
    def __init__(self, tmp_path: Path, pair: Pair, kafka: dict[str, str]) -> None:
        self.logs = tmp_path
        self.settings = load_settings(pair.env, GRIDGOV_JWT_SECRET=SECRET,
                                      GRIDGOV_BLOBS_DIR=str(tmp_path / "photos"), **kafka)
        self.env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
        self.env.update(self.settings.as_env(), PYTHONUNBUFFERED="1")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, *args: str) -> None:
        with open(self.logs / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=self.env,
                                                stdout=log, stderr=log)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=DEADLINE_S)

    def wait_for(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not done():
            self.alive(f"waiting for {what}")
            assert time.monotonic() < deadline, f"no {what} in {DEADLINE_S:.0f} s\n{self.tails()}"
            time.sleep(0.05)

    def alive(self, when: str) -> None:
        for name, proc in self.procs.items():
            assert proc.poll() is None, f"{when}: {name} exited ({proc.returncode})\n{self.tails()}"

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def tails(self, lines: int = 25) -> str:
        return "\n".join(f"--- {path.name} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                         for path in sorted(self.logs.glob("*.log")))

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("shape", ["in-process", "kafka"])
def test_the_primary_dies_mid_stream_and_every_answered_command_is_on_the_promoted_standby(
        tmp_path: Path, pg_pair: Pair, shape: str) -> None:
    kafka: dict[str, str] = {}
    if shape == "kafka":
        broker = require_kafka()
        kafka = {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "KAFKA_TOPIC_PREFIX": broker.prefix}
    run = Processes(tmp_path, pg_pair, kafka)
    started = time.monotonic()
    try:
        if kafka:  # then serve follows no log itself: relay and consumers feed its read models
            run.spawn("relay", "relay")
            run.spawn("riders", "consume", "riders")
        run.spawn("serve", "serve", "--dev", "--port", str(run.port))
        run.wait_for("gridgov serve ready", run.ready)
        run.spawn("sequencer", "audit", "sequence")
        # Running, not starting: a process that cannot reach a primary at its start exits (its supervisor's to
        # restart); one that runs must carry on.
        run.wait_for("the sequencer running", lambda: "sequencer: the tree has" in run.log("sequencer"))
        writer = Writer(run.base)
        writer.start()
        run.wait_for(f"{BEFORE} riders answered", lambda: len(writer.ok) >= BEFORE)

        pg_pair.kill_primary()
        killed_at = len(writer.ok)
        # At once, as a failover manager would: a command caught in between waits through the library's
        # retries (10 × POSTGRES_CONNECT_TIMEOUT at most) and is answered by the promoted standby, or a 503.
        pg_pair.promote()
        promoted = time.monotonic()
        run.wait_for(f"{AFTER} riders answered after the promotion", lambda: len(writer.ok) >= killed_at + AFTER)
        resumed_s = time.monotonic() - promoted
        writer.stop.set()
        writer.join(timeout=DEADLINE_S)
        run.alive("after the failover")

        # Never a 500: each refusal a 503 the caller can retry, in problem+json.
        unclear = [r for r in writer.refused if r[0] != 503 or "application/problem+json" not in r[1]]
        assert not unclear, f"{len(unclear)} unclear answers, e.g. {unclear[:3]}\n{run.tails()}"

        # Every command answered 200 is on the promoted standby, at the position it was answered with.
        app = bootstrap.application(load_settings(pg_pair.primary_only()))
        try:
            kept = app.eventlog.positions_of((uuid.UUID(rider), 1) for rider, _ in writer.ok)
        finally:
            app.close()
        lost = [rider for rider, position in writer.ok if kept.get((uuid.UUID(rider), 1)) != position]
        assert not lost, f"{len(lost)} of {len(writer.ok)} riders answered 200 are not in the new primary's log"

        # The same serving process's read models follow the new primary's log past the last answer: the last
        # rider answered, read at its position, is there (fed by Kafka: relayed, consumed and stored since).
        rider, position = writer.ok[-1]
        reads: list[httpx.Response] = []
        as_the_rider = mint(SECRET, rider, Role.RIDER)  # in no grid yet: no officer's scope holds it

        def read_own_write() -> bool:
            reads.append(httpx.get(f"{run.base}/v1/riders/{rider}", timeout=60,
                                   params={"position": position, "wait_ms": 10_000},
                                   headers={"Authorization": f"Bearer {as_the_rider}"}))
            assert reads[-1].status_code in (200, 503), reads[-1].text  # 503: not caught up within wait_ms
            return reads[-1].status_code == 200

        run.wait_for("the last rider answered, read at its position", read_own_write)
        assert reads[-1].json()["rider_id"] == rider, reads[-1].text
        assert reads[-1].json()["personal"]["name"] == writer.names[rider], reads[-1].text

        # The sequencer carried on too: the tree reaches the log's head.
        head = max(position for _, position in writer.ok)
        run.wait_for("the tree over every answered event", lambda: sequenced(run) >= head)
        run.close()
        audit = run.cli("audit", "verify")
        assert audit.returncode == 0, audit.stdout + audit.stderr
        # Fed by Kafka, only the riders' read model has a consumer here.
        projections = run.cli("projections", "verify", "riders" if kafka else "all")
        assert projections.returncode == 0, projections.stdout + projections.stderr
        print(f"\nfailover ({shape}): {len(writer.ok)} answered 200, {len(writer.refused)} refused (503), slowest "
              f"{max(writer.seconds):.1f} s; "
              f"{AFTER} answered {resumed_s:.1f} s after the promotion; {time.monotonic() - started:.0f} s in all")
    finally:
        run.close()


def sequenced(run: Processes) -> int:
    """The log position of the tree's last leaf, as the promoted server holds it."""
    from transparency.store import open_tree_store

    app = bootstrap.application(run.settings)
    try:
        return open_tree_store(app.eventlog).tip()[1]
    finally:
        app.close()
