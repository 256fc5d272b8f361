"""README command one, as a user runs it: `gridgov serve --demo` on a bare
machine loads the demo's day, prints tokens (for programs) and one link, where
each page's 登录 offers the demo's people, and answers with both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.cli import printed_until


def test_serve_demo_prints_working_tokens_and_one_link_to_sign_in_at(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POSTGRES_", "KAFKA_", "READMODEL_", "PERSISTENCE_", "GRIDGOV_JWT", "OIDC_"))}
    env.update(SQLITE_DBNAME=str(tmp_path / "events.sqlite"), READMODEL_SQLITE_DBNAME=str(tmp_path / "rm.sqlite"))
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 180
        printed = printed_until(server, "pages:", 180)
        base = f"http://127.0.0.1:{port}"
        assert re.search(r"pages: (http://\S+)", printed).group(1) == f"{base}/"  # type: ignore[union-attr]
        assert "#token=" not in printed, "no token in a link"
        auditor = re.search(r"auditor\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
        while True:
            try:
                page = httpx.get(f"{base}/", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, printed
                time.sleep(0.2)
        assert page.status_code == 200 and "网格治理" in page.text
        # 登录: the demo's people to choose from; the auditor chosen, a session back at the page asked for.
        chooser = httpx.get(f"{base}/auth/login", params={"next": "/audit"}, headers={"Accept": "text/html"})
        assert chooser.status_code == 200 and "审计员" in chooser.text and "eyJ" not in chooser.text
        csrf = re.search(r"name='csrf' value='([^']+)'", chooser.text).group(1)  # type: ignore[union-attr]
        chosen = httpx.post(f"{base}/auth/demo-session", data={"person": "auditor", "csrf": csrf, "next": "/audit"},
                            headers={"Cookie": f"gridgov_signin_csrf={csrf}"})
        assert chosen.status_code == 303 and chosen.headers["location"] == "/audit"
        session = chosen.headers["set-cookie"].split(";")[0]
        assert httpx.get(f"{base}/auth/session", headers={"Cookie": session}).json()["role"] == "auditor"
        headers = {"Authorization": f"Bearer {auditor}"}  # the printed tokens, for programs
        while not httpx.get(f"{base}/v1/board", headers=headers).json()["counts"]:  # the follower is catching up
            assert time.monotonic() < deadline, printed
            time.sleep(0.2)
        assert httpx.get(f"{base}/v1/stats", headers={"Cookie": session}).json()["clues"] > 0
    finally:
        server.terminate()
        server.wait(timeout=30)


DEBIAN_PYTHON = Path("/usr/bin/python3")


def readme_command_one() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    return re.search(r"Run it .*?```bash\n(.+?)\n```", readme, re.S).group(1).strip()  # type: ignore[union-attr]


@pytest.mark.skipif(not DEBIAN_PYTHON.exists(), reason="no /usr/bin/python3 (not a Debian machine)")
def test_readme_command_one_runs_on_a_fresh_clone_under_debians_own_python(tmp_path: Path) -> None:
    """The command as the README gives it, in a fresh clone, with /usr/bin first on PATH:
    Debian's Python, which refuses `pip install` outside a virtual environment (PEP 668).
    Only `--port` is added, so that the test needs no fixed port."""
    command = readme_command_one()
    assert command.endswith("gridgov serve --demo"), command
    root = Path(__file__).resolve().parents[2]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POSTGRES_", "KAFKA_", "READMODEL_", "PERSISTENCE_", "GRIDGOV_JWT", "SQLITE_",
                                "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = "/usr/bin:/bin:" + env.get("PATH", "")
    server = subprocess.Popen(["bash", "-c", f"{command} --port {port}"], cwd=clone, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 900  # a virtual environment and the engine's packages first
        printed = printed_until(server, "pages:", 900)
        # The environment was made from Debian's interpreter, not another python3 on PATH.
        assert (clone / ".venv" / "bin" / "python").resolve().is_relative_to(Path("/usr"))
        auditor = re.search(r"auditor\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
        while True:
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/v1/stats", headers={"Authorization": f"Bearer {auditor}"},
                                  timeout=5)
                if stats.status_code == 200 and stats.json()["clues"] > 0:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, printed
            time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


def test_a_taken_port_is_one_clear_line_before_any_work(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_"))}
        env.update(SQLITE_DBNAME=str(tmp_path / "events.sqlite"), READMODEL_SQLITE_DBNAME=str(tmp_path / "rm.sqlite"))
        result = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)], env=env,
                                capture_output=True, text=True, timeout=120,
                                cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 2, result.stderr
    assert "serving on" not in result.stdout and "demo tokens" not in result.stdout  # said nothing it could not do
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 2 and f"cannot listen on 127.0.0.1:{port}" in " ".join(lines), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "events.sqlite").exists()
