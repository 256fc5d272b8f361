"""README command one, as a user runs it: `gridgov serve --demo` on a bare
machine loads the demo's day, prints tokens and the dashboard's address, and
answers with them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_serve_demo_prints_working_tokens_and_the_dashboard(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POSTGRES_", "KAFKA_", "READMODEL_", "PERSISTENCE_", "GRIDGOV_JWT"))}
    env.update(SQLITE_DBNAME=str(tmp_path / "events.sqlite"), READMODEL_SQLITE_DBNAME=str(tmp_path / "rm.sqlite"))
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        printed = ""
        deadline = time.monotonic() + 180
        while "dashboard:" not in printed:
            line = server.stdout.readline()  # type: ignore[union-attr]
            assert line or server.poll() is None, printed
            printed += line
            assert time.monotonic() < deadline, printed
        dashboard = re.search(r"dashboard: (http://\S+)", printed).group(1)  # type: ignore[union-attr]
        auditor = re.search(r"auditor\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                page = httpx.get(dashboard.split("#")[0], timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, printed
                time.sleep(0.2)
        assert page.status_code == 200 and "gridgov" in page.text
        assert dashboard.endswith(f"#token={auditor}")
        headers = {"Authorization": f"Bearer {auditor}"}
        while not httpx.get(f"{base}/v1/board", headers=headers).json()["counts"]:  # the follower is catching up
            assert time.monotonic() < deadline, printed
            time.sleep(0.2)
        assert httpx.get(f"{base}/v1/stats", headers=headers).json()["clues"] > 0
    finally:
        server.terminate()
        server.wait(timeout=30)
