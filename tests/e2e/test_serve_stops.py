"""`gridgov serve` stops on SIGTERM within seconds, even with event-stream clients
connected (they never hang up by themselves; the server cuts them after GRACE_S)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from api.cli import GRACE_S
from tests.fixtures.cli import printed_until


def test_sigterm_stops_the_server_with_followers_connected(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_"))}
    env.update(SQLITE_DBNAME=str(tmp_path / "events.sqlite"), READMODEL_SQLITE_DBNAME=str(tmp_path / "rm.sqlite"))
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        printed = printed_until(server, "pages:", 180)
        token = re.search(r"auditor\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
        connected = threading.Semaphore(0)

        def follow() -> None:
            try:
                with httpx.stream("GET", f"http://127.0.0.1:{port}/v1/events/stream", params={"follow": "true"},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=None) as stream:
                    connected.release()
                    for _ in stream.iter_lines():
                        pass
            except httpx.HTTPError:
                pass  # cut by the stopping server: what this test wants

        for _ in range(2):
            threading.Thread(target=follow, daemon=True).start()
        for _ in range(2):
            assert connected.acquire(timeout=60), "a follower did not connect"
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=GRACE_S + 30)  # generous: a busy machine; without the grace it never ends
        assert time.monotonic() - started < GRACE_S + 30
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)
