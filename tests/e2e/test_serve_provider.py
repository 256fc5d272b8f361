"""`gridgov serve` with OIDC_ISSUER set trusts the identity provider alone: it starts
without GRIDGOV_JWT_SECRET, takes the provider's tokens, and refuses HS256 ones even
signed with a GRIDGOV_JWT_SECRET it was given; without it, it refuses to start (but --demo, or --dev
with a secret: development and tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.http.auth import mint
from domain.events import Role
from tests.fixtures.jwks import LocalProvider

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-secret-of-at-least-thirty-two-bytes-long"


def environment(tmp_path: Path, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_", "OIDC_", "GRIDGOV_"))}
    env.update(SQLITE_DBNAME=str(tmp_path / "events.sqlite"), READMODEL_SQLITE_DBNAME=str(tmp_path / "rm.sqlite"),
               GRIDGOV_BLOBS_DIR=str(tmp_path / "photos"), **changes)
    return env


def test_serve_with_a_provider_takes_its_tokens_alone(tmp_path: Path, provider: LocalProvider) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = environment(tmp_path, OIDC_ISSUER=provider.issuer, GRIDGOV_JWT_SECRET=SECRET)
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                # Its output is read only once it has ended: a read of a live server's pipe never returns.
                assert server.poll() is None, server.stdout.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "no /healthz within the deadline"
                time.sleep(0.2)
        admin = provider.token(gridgov_role="district_admin", gridgov_grids=None, gridgov_id="admin-温江")
        staff = f"{base}/v1/districts/温江/staff"
        assert httpx.get(staff, headers={"Authorization": f"Bearer {admin}"}).status_code == 200
        hs256 = mint(SECRET, "admin-温江", Role.DISTRICT_ADMIN, ["温江"])
        refused = httpx.get(staff, headers={"Authorization": f"Bearer {hs256}", "Accept-Language": "zh-CN"})
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["title"] == "未登录或令牌无效"
    finally:
        server.terminate()
        server.wait(30)


def test_serve_without_a_provider_or_a_secret_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", "0"], env=environment(tmp_path),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "OIDC_ISSUER" in done.stdout + done.stderr
    # A secret alone is not enough: HS256 tokens are the demo's and the tests' (--dev).
    done = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", "0"],
                          env=environment(tmp_path, GRIDGOV_JWT_SECRET=SECRET), cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "--dev" in done.stdout + done.stderr
    done = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--oidc", "--port", "0"],
                          env=environment(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "OIDC_ISSUER" in done.stdout + done.stderr


def test_gridgov_token_says_a_provider_will_not_take_its_token(tmp_path: Path) -> None:
    env = environment(tmp_path, GRIDGOV_JWT_SECRET=SECRET, OIDC_ISSUER="https://sso.city.example/realms/city")
    done = subprocess.run([sys.executable, "-m", "api.cli", "token", "--role", "service", "--sub", "svc"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.count(".") == 2
    assert "OIDC_ISSUER is set" in done.stderr
