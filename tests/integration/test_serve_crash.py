"""`gridgov serve` SIGKILLed while its coalescer writes batches of concurrent commands
(application/coalescer.py): every command answered 200 is in the log, at the position it was
answered with, and the log holds only whole commands (a batch is one transaction: it is all
there, or none of it).

Real process, embedded store: eight clients each take riders through a piece of work (registered,
in the grid, a task published, claimed, completed, verified: the verification writes the task, the
rider's subsidy and points and the budget) as fast as they are answered; the server is SIGKILLed
mid-stream, then the log is read."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from api.http.auth import mint
from domain.events import Role
from gridgov import bootstrap
from gridgov.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
SECRET = "serve-crash-secret-of-at-least-32-bytes"
CLIENTS = 8
ANSWERED_BEFORE_KILL = 60
DEADLINE_S = 120.0  # for any one piece of progress: a loaded 2-core machine


def test_a_server_killed_mid_batch_loses_no_answered_command_and_half_writes_none(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "READMODEL_", "KAFKA_",
                                                                    "PERSISTENCE_", "GRIDGOV_"))}
    env.update(SQLITE_DBNAME=str(tmp_path / "events.sqlite"), READMODEL_SQLITE_DBNAME=str(tmp_path / "rm.sqlite"),
               GRIDGOV_BLOBS_DIR=str(tmp_path / "photos"), GRIDGOV_ERASURES_DIR=str(tmp_path / "erasures"),
               GRIDGOV_JWT_SECRET=SECRET, GRIDGOV_COALESCE_WRITES="true")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "serve.log", "ab") as log:
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--dev", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        admin = {"Authorization": f"Bearer {mint(SECRET, 'admin-温江', Role.DISTRICT_ADMIN, ['温江'])}"}
        wait_for(lambda: up(base), "the server", tmp_path)
        grid = scene(base, admin)
        officer = {"Authorization": f"Bearer {mint(SECRET, 'officer-1', Role.GRID_OFFICER, ['温江'], [grid])}"}
        answered: list[tuple[str, int]] = []  # (task id, position) of each verification answered 200
        refused: list[str] = []  # what a client was refused, which ends it (none should be)
        stop = threading.Event()

        def client() -> None:
            """A rider's piece of work from its registration to its verification, again and again."""
            with httpx.Client(base_url=base, timeout=60) as http:
                while not stop.is_set():
                    rider = str(uuid.uuid4())
                    me = {"Authorization": f"Bearer {mint(SECRET, rider, Role.RIDER)}"}
                    try:
                        steps = [("register-rider", admin, {"rider_id": rider, "platform": "meituan", "station": "温江站",
                                                            "name": "骑手", "phone": "13800000000"}),
                                 ("join-grid", me, {"rider_id": rider, "grid_id": grid}),
                                 ("publish-task", officer, {"grid_id": grid, "kind": "patrol", "rate_code": "patrol"})]
                        task = None
                        for name, who, body in steps:
                            done = http.post(f"/v1/commands/{name}", json=body, headers=who)
                            if done.status_code != 200:
                                return refused.append(f"{name}: {done.text}")
                            task = done.json()["result"].get("task_id", task)
                        for name, extra in (("claim-task", {}), ("complete-task", {"note": "巡查完毕"})):
                            done = http.post(f"/v1/commands/{name}", json={"task_id": task, "rider_id": rider,
                                                                           **extra}, headers=me)
                            if done.status_code != 200:
                                return refused.append(f"{name}: {done.text}")
                        verified = http.post("/v1/commands/verify-completion", json={"task_id": task},
                                             headers=officer)
                    except httpx.HTTPError:  # the server is gone: no answer, so nothing promised
                        return
                    if verified.status_code != 200:
                        return refused.append(f"verify-completion: {verified.text}")
                    answered.append((task, verified.json()["position"]))

        clients = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        wait_for(lambda: len(answered) >= ANSWERED_BEFORE_KILL or refused, f"{ANSWERED_BEFORE_KILL} pieces verified",
                 tmp_path)
        assert not refused, refused
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        stop.set()
        for thread in clients:
            thread.join(DEADLINE_S)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)

    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                               "SQLITE_DBNAME": env["SQLITE_DBNAME"],
                                               "GRIDGOV_ERASURES_DIR": env["GRIDGOV_ERASURES_DIR"]}))
    try:
        events = {n.id: app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=10**7)}
    finally:
        app.close()
    by_command: dict[object, list[tuple[int, str]]] = defaultdict(list)
    for position, event in sorted(events.items()):
        by_command[event.meta.causation_id].append((position, type(event).__name__))
    # Every answered verification is in the log, at the position it was answered with: its last event.
    for task, position in answered:
        assert position in events, (task, position)
        assert by_command[events[position].meta.causation_id][-1][0] == position, (task, position)
    # Whole commands only: every verification in the log wrote what every other one did (the task, the
    # rider's subsidy and points, the budget), none a part of it.
    shapes = Counter(tuple(kind for _, kind in written) for written in by_command.values())
    verifications = [shape for shape in shapes if "SubsidyAwarded" in shape]
    assert len(verifications) == 1 and len(verifications[0]) >= 3, shapes
    print(f"{len(answered)} pieces verified before the kill; the log's commands by their events: {dict(shapes)}")


def scene(base: str, admin: dict[str, str]) -> str:
    """A grid with its officer, a rate for patrols and a budget: the grid's id."""
    def command(name: str, body: dict[str, object]) -> dict[str, object]:
        done = httpx.post(f"{base}/v1/commands/{name}", headers=admin, json=body, timeout=30)
        assert done.status_code == 200, done.text
        return done.json()["result"]  # type: ignore[no-any-return]

    grid = str(command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区",
                                         "name": "柳城-1"})["grid_id"])
    command("assign-officer", {"grid_id": grid, "officer_id": "officer-1"})
    command("issue-rate-schedule", {"district": "温江", "effective_from": "2026-01-01T00:00:00+08:00",
                                    "rates": {"patrol": {"fen": 500, "points": 5}}, "cap_day_fen": 10**9,
                                    "cap_month_fen": 10**9})
    command("allocate-budget", {"district": "温江", "period": time.strftime("%Y-%m"), "fen": 10**11})
    return grid


def up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(done, what: str, logs: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        assert time.monotonic() < deadline, f"{what}: not within {DEADLINE_S:g} s\n" + (
            (logs / "serve.log").read_text(errors="replace")[-3000:])
        time.sleep(0.1)
