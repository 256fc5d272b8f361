"""The CPU one request costs inside the app — its middleware, routing, token, scope and answer — beside a
bare FastAPI app answering the same paths, in one process with no network.

    python bench/request_path.py [--calls 2000] [--rounds 3]

Each request goes through httpx's ASGI transport on one event loop (no server, no socket), so what is
timed is the app's own work. CPU (`time.process_time`) per call, median of `--rounds` rounds of `--calls`
calls each, the bare app's and ours alternating:

  /healthz                   the bare endpoint and ours; ours with a bearer token and in Chinese too
  a 404                      a path no route has, with a token and without
  GET /v1/board              a read with a token (the board of the embedded default, SQLite, empty)
  POST a command, 422        a body the command's model refuses: validation and the problem's words

The ratio is the bare app's CPU over ours for the same kind of request (1.0: nothing added).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.http.app import app_of  # noqa: E402
from api.http.auth import mint  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from domain.events import Role  # noqa: E402
from gridgov import bootstrap  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402

SECRET = "bench-request-path-secret-of-32-bytes!"
START = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)  # the engine's clock; nothing is written


def bare_app() -> FastAPI:
    bare = FastAPI()

    @bare.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    return bare


def per_call_ms(loop: asyncio.AbstractEventLoop, app: Any, method: str, path: str, calls: int,
                **request: Any) -> tuple[float, int]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")

    async def run() -> httpx.Response:
        response = None
        for _ in range(calls):
            response = await client.request(method, path, **request)
        assert response is not None
        return response

    loop.run_until_complete(run())  # warm: the first calls build caches (token, validators)
    started = time.process_time()
    response = loop.run_until_complete(run())
    return (time.process_time() - started) / calls * 1000, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="gridgov-bench-"))
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(folder / "readmodels.sqlite")}), clock=ManualClock(START))
    ours, bare = app_of(engine, SECRET), bare_app()
    token = {"Authorization": f"Bearer {mint(SECRET, 'admin-温江', Role.DISTRICT_ADMIN, ['温江'])}"}
    # (label, bare app's request or None, our request): (method, path, request arguments)
    rows = [
        ("/healthz", ("GET", "/healthz", {}), ("GET", "/healthz", {})),
        ("/healthz, a token", ("GET", "/healthz", {}), ("GET", "/healthz", {"headers": token})),
        ("/healthz, in Chinese", ("GET", "/healthz", {}), ("GET", "/healthz", {"headers": {"Accept-Language": "zh-CN"}})),
        ("a 404", ("GET", "/nothing", {}), ("GET", "/v1/nothing", {})),
        ("a 404, a token", ("GET", "/nothing", {}), ("GET", "/v1/nothing", {"headers": token})),
        ("GET /v1/board, a token", None, ("GET", "/v1/board", {"headers": token})),
        ("POST a command, 422", None, ("POST", "/v1/commands/register-station", {"headers": token, "json": {"x": 1}})),
    ]
    loop = asyncio.new_event_loop()
    print(f"CPU per call, ms (median of {args.rounds} x {args.calls:,} calls), {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"| request | bare FastAPI | gridgov | status | bare / gridgov |\n|---|---:|---:|---:|---:|")
    try:
        for label, bare_request, our_request in rows:
            bare_ms, ours_ms, status = [], [], 0
            for _ in range(args.rounds):
                if bare_request is not None:
                    method, path, request = bare_request
                    bare_ms.append(per_call_ms(loop, bare, method, path, args.calls, **request)[0])
                method, path, request = our_request
                ms, status = per_call_ms(loop, ours, method, path, args.calls, **request)
                ours_ms.append(ms)
            ours_median = statistics.median(ours_ms)
            if bare_ms:
                bare_median = statistics.median(bare_ms)
                print(f"| {label} | {bare_median:.3f} | {ours_median:.3f} | {status} | {bare_median / ours_median:.2f} |")
            else:
                print(f"| {label} | — | {ours_median:.3f} | {status} | — |")
    finally:
        loop.close()
        engine.close()


if __name__ == "__main__":
    main()
