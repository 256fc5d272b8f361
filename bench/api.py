"""HTTP command rate and latency, beside a bare FastAPI endpoint, in one run.

    python bench/api.py [--seconds 10] [--concurrency 16] [--rounds 3] [--backends sqlite,postgres]

Every server is a process of its own (uvicorn, one worker, 127.0.0.1); the load
comes from this process: `--concurrency` httpx clients on one asyncio loop, each
posting as soon as its last answer came back, for `--seconds`. Rounds alternate
between the servers, so drift on a noisy machine hits them alike; the table
gives medians over rounds.

  bare      POST /bare: FastAPI validates a body of the report-clue shape and
            returns a constant. The ceiling: HTTP, routing, pydantic, JSON.
  sqlite    POST /v1/commands/report-clue on the embedded default: JWT, scope
            check, idempotency key, the duplicate-clue rule, an append to SQLite,
            and the in-process projections following the log in the same process.
  postgres  the same on PostgreSQL; the read models are left to the Kafka
            consumers (not running here), as in production.
  open311   sqlite's server, each rider's app posting through the Open311 facade instead:
            POST /open311/v2/requests.json, a form with the rider's api_key (its key
            looked up from the event store by the secret's digest, then the same
            report-clue). Its rounds alternate with sqlite's, on twin stores.
  rs256     sqlite's, each rider's token signed RS256 by an identity provider (a local
            one, tests/fixtures/jwks.py: its JWKS over HTTP) and verified against its keys.
  sqlite-uncached, rs256-uncached
            the same without the verified tokens' cache (every request checks the signature).
  sqlite-single, postgres-single
            sqlite's and postgres's with GRIDGOV_COALESCE_WRITES=false: each command its own
            transaction, as before the coalescer (application/coalescer.py) wrote the commands that
            arrive together in one.

    python bench/api.py --verify 2000

times the verification of one token alone (HS256, RS256, ES256; cached and not), no server.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

RIDERS = 200
CENTRE = (30.68, 103.85)  # 温江
# 温江 and its one grid drawn around the 20 km square the clues fall in: an Open311 report names no grid, so
# every report (/v1's too, for a fair ratio) is placed by its location.
SQUARE = {"type": "Polygon", "coordinates": [[[103.74, 30.57], [103.96, 30.57], [103.96, 30.79], [103.74, 30.79],
                                              [103.74, 30.57]]]}


# --- the servers ------------------------------------------------------------------


def bare_app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI

    from domain.commands import ReportClue

    app = FastAPI()

    def bare(body: ReportClue) -> dict[str, object]:
        return {"position": 0, "result": {}, "replayed": False}

    bare.__annotations__["body"] = ReportClue  # a class, not the string `from __future__` makes of it
    app.post("/bare")(bare)
    return app


def gridgov_app(kind: str, folder: Path):  # type: ignore[no-untyped-def]
    """The real app on a store with a grid, rates, a budget and RIDERS riders; their tokens go to tokens.json."""
    from api.http.app import app_of
    from domain import commands as c
    from domain.clock import local_month
    from domain.events import Actor, Role
    from gridgov.bootstrap import bootstrap
    from gridgov.settings import load_settings

    postgres = kind.startswith("postgres")
    if not postgres:
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite"),
               "READMODEL_SQLITE_DBNAME": str(folder / "readmodels.sqlite")}
    else:
        env = {**json.loads(os.environ[postgres_variable(kind)]), "PERSISTENCE_MODULE": "eventsourcing.postgres"}
    # "-single": each command its own transaction, as before the coalescer (application/coalescer.py).
    env["GRIDGOV_COALESCE_WRITES"] = "false" if kind.endswith("-single") else "true"
    engine = bootstrap(load_settings(env), feed=not postgres)  # PostgreSQL: no one feeds the read models
    app = engine.app
    admin = Actor(id="admin", role=Role.DISTRICT_ADMIN)
    grid = app.execute(c.RegisterGrid(district="温江", street="s", community="c", name="g"), admin).result["grid_id"]
    app.execute(c.SetDistrictBoundary(district="温江", boundary=SQUARE), admin)
    app.execute(c.SetGridBoundary(grid_id=grid, boundary=SQUARE), admin)
    app.execute(c.IssueRateSchedule(district="温江", effective_from="2026-01-01T00:00:00+08:00",
                                    rates={"fire-lane": {"fen": 800, "points": 8}}, cap_day_fen=5000,
                                    cap_month_fen=50000), admin)
    app.execute(c.AllocateBudget(district="温江", period=local_month(app.clock.now()), fen=10**9), admin)
    secret = "bench-secret-of-at-least-32-bytes-long"
    authenticator, sign = verifier(kind, secret)
    riders = []
    for _ in range(RIDERS):
        rider_id = str(uuid.uuid4())
        rider = Actor(id=rider_id, role=Role.RIDER)
        app.execute(c.RegisterRider(rider_id=rider_id, platform="p", station="s", name="n", phone="13800000000"),
                    rider)
        app.execute(c.JoinGrid(rider_id=rider_id, grid_id=grid), rider)
        api_key = f"g311_bench-{rider_id}"  # the route would make a random one; only its digest is kept
        app.execute(c.IssueOpen311Key(key_sha256=hashlib.sha256(api_key.encode()).hexdigest(), district="温江",
                                      rider_id=rider_id, label="bench"), admin)
        riders.append({"rider_id": rider_id, "token": sign(rider_id), "api_key": api_key})
    (folder / "tokens.json").write_text(json.dumps({"grid": grid, "riders": riders}))
    return app_of(engine.follow(), authenticator)


def postgres_variable(kind: str) -> str:
    """Where the benchmark hands a PostgreSQL server of `kind` its store (a schema of its own)."""
    return "BENCH_POSTGRES_" + kind.upper().replace("-", "_")


def verifier(kind: str, secret: str, alg: str = "RS256"):  # type: ignore[no-untyped-def]
    """(the app's Authenticator, a rider's token by id) for `kind`: HS256 of `secret`, or a local
    identity provider's `alg` tokens verified against its JWKS; "-uncached" without the verified cache."""
    from api.http.auth import ClaimMap, SharedSecret, Verified, mint
    from api.http.provider_tokens import ProviderTokens
    from domain.events import Role
    from tests.fixtures.jwks import AUDIENCE, LocalProvider

    if kind.startswith("rs256") or alg == "ES256":
        provider = LocalProvider()
        provider.new_key(alg)
        authenticator = ProviderTokens(provider.issuer, AUDIENCE, ClaimMap("gridgov_role", "gridgov_districts",
                                                                           "gridgov_grids", "gridgov_id"))

        def sign(rider_id: str) -> str:
            return provider.token(gridgov_role="rider", gridgov_id=rider_id, gridgov_districts=None,
                                  gridgov_grids=None, exp=int(time.time()) + 3600)
    else:
        authenticator = SharedSecret(secret)

        def sign(rider_id: str) -> str:
            return mint(secret, rider_id, Role.RIDER)
    if kind.endswith("-uncached"):
        authenticator.verified = Verified(size=0)
    return authenticator, sign


def verify_alone(count: int) -> None:
    """Microseconds to verify one token, each way, `count` times over 50 riders' tokens."""
    print(f"\nbench/api.py --verify {count}: one token's verification alone, in this process\n")
    print("| token | verified cache | µs per verification |")
    print("|---|---|---:|")
    for label, kind, alg in (("HS256 (demo, tests)", "sqlite", "HS256"), ("RS256 (provider)", "rs256", "RS256"),
                             ("ES256 (provider)", "es256", "ES256")):
        for cached in (False, True):
            authenticator, sign = verifier(kind + ("" if cached else "-uncached"), "bench-secret-" + "x" * 32, alg)
            tokens = [sign(str(uuid.uuid4())) for _ in range(50)]
            for token in tokens:
                authenticator.verify(token)  # the keys fetched, the cache warm
            started = time.perf_counter()
            for i in range(count):
                authenticator.verify(tokens[i % len(tokens)])
            took = (time.perf_counter() - started) / count * 1e6
            print(f"| {label} | {'yes' if cached else 'no'} | {took:,.1f} |")


def serve(kind: str, port: int, folder: Path) -> None:
    import uvicorn

    app = bare_app() if kind == "bare" else gridgov_app(kind, folder)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start(kind: str, folder: Path, script: str = __file__) -> tuple[subprocess.Popen[bytes], str]:
    """`script --serve kind` in a process of its own on a free port, once it answers: (process, base URL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, script, "--serve", kind, "--port", str(port),
                                "--dir", str(folder)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the {kind} server did not start") from None
            time.sleep(0.2)


# --- the load -----------------------------------------------------------------------


def clue_request(scene: dict[str, object] | None, rng: random.Random,
                 open311: bool = False) -> tuple[str, dict[str, object]]:
    """(path, httpx's arguments) of one report-clue, somewhere in a 20 km square; `open311`: the same report
    as an Open311 client posts it (a form, the rider's key in it)."""
    lat, lon = CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.1, 0.1)
    if open311:
        rider = rng.choice(scene["riders"])  # type: ignore[index]
        return "/open311/v2/requests.json", {"data": {
            "api_key": rider["api_key"], "service_code": "blocked_fire_lane", "lat": str(lat), "long": str(lon),
            "description": "消防通道被堵"}}
    if scene is None:
        body = {"rider_id": str(uuid.uuid4()), "grid_id": str(uuid.uuid4())}
        path, headers = "/bare", {}
    else:
        rider = rng.choice(scene["riders"])  # type: ignore[index]
        body = {"rider_id": rider["rider_id"], "grid_id": scene["grid"]}
        path = "/v1/commands/report-clue"
        headers = {"Authorization": f"Bearer {rider['token']}", "Idempotency-Key": str(uuid.uuid4())}
    body.update({"category": "blocked_fire_lane", "text": "消防通道被堵", "location": {"lat": lat, "lon": lon}})
    return path, {"json": body, "headers": headers}


async def load(base: str, scene: dict[str, object] | None, seconds: float, concurrency: int,
               open311: bool = False) -> tuple[float, list[float]]:
    """(requests per second, latencies in ms) of `concurrency` clients for `seconds`."""
    latencies: list[float] = []
    failures: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        async def worker(seed: int, until: float) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < until:
                path, arguments = clue_request(scene, rng, open311)
                started = time.perf_counter()
                response = await client.post(path, **arguments)  # type: ignore[arg-type]
                latencies.append((time.perf_counter() - started) * 1000)
                if not 200 <= response.status_code < 300:
                    failures.append(f"{response.status_code} {response.text[:200]}")

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(worker(-i, warm) for i in range(concurrency)))
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker(i, started + seconds) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return len(latencies) / elapsed, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,open311,postgres")
    parser.add_argument("--verify", type=int, help="time one token's verification alone, this many times")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port, Path(args.dir))
    if args.verify:
        return verify_alone(args.verify)

    kinds = ["bare", *[b for b in args.backends.split(",") if b]]
    drops = []
    for kind in (k for k in kinds if k.startswith("postgres")):  # each server a store of its own
        from bench.common import POSTGRES, new_schema

        schema, drop = new_schema("bench_api", "_rm")
        drops.append(drop)
        os.environ[postgres_variable(kind)] = json.dumps({**POSTGRES, "POSTGRES_SCHEMA": schema,
                                                          "READMODEL_SCHEMA": f"{schema}_rm"})
    servers: dict[str, tuple[subprocess.Popen[bytes], str, dict[str, object] | None]] = {}
    results: dict[str, list[tuple[float, list[float]]]] = {kind: [] for kind in kinds}
    try:
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-api-") as tmp:
            for kind in kinds:
                folder = Path(tmp) / kind
                folder.mkdir()
                process, base = start(kind, folder)
                scene = None if kind == "bare" else json.loads((folder / "tokens.json").read_text())
                servers[kind] = (process, base, scene)
            for round_ in range(args.rounds):
                for kind in kinds:
                    _, base, scene = servers[kind]
                    rate, latencies = asyncio.run(load(base, scene, args.seconds, args.concurrency,
                                                       open311=kind == "open311"))
                    results[kind].append((rate, latencies))
                    print(f"round {round_ + 1} {kind:8} {rate:8,.0f} req/s  p50 {percentile(latencies, 0.5):6.1f} ms"
                          f"  p99 {percentile(latencies, 0.99):6.1f} ms", file=sys.stderr)
    finally:
        for process, _, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
        for drop in drops:
            drop()
    report(results, args)


def report(results: dict[str, list[tuple[float, list[float]]]], args: argparse.Namespace) -> None:
    bare = statistics.median(rate for rate, _ in results["bare"])
    print(f"\nbench/api.py: {args.concurrency} concurrent clients, {args.rounds} rounds of {args.seconds:g} s, "
          f"uvicorn (1 worker) and the load on the same {os.cpu_count()} cores; medians over rounds\n")
    print("| endpoint | req/s | p50 ms | p99 ms | rate / bare |")
    print("|---|---:|---:|---:|---:|")
    names = {"bare": "bare FastAPI endpoint", "sqlite": "report-clue, SQLite + in-process projections",
             "postgres": "report-clue, PostgreSQL",
             "open311": "Open311 POST requests.json (form, api_key), SQLite + in-process projections",
             "sqlite-uncached": "report-clue, SQLite, HS256 not cached",
             "rs256": "report-clue, SQLite, provider's RS256 token (cached)",
             "rs256-uncached": "report-clue, SQLite, provider's RS256 token not cached",
             "sqlite-single": "report-clue, SQLite, each command its own transaction",
             "postgres-single": "report-clue, PostgreSQL, each command its own transaction"}
    for kind, rounds in results.items():
        rate, p50, p99 = summary(rounds)
        print(f"| {names[kind]} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {rate / bare:.2f} |")
    if "open311" in results and "sqlite" in results:
        open311, v1 = (summary(results[k]) for k in ("open311", "sqlite"))
        print(f"\nOpen311 POST / report-clue (SQLite, the same run): rate {open311[0] / v1[0]:.2f}, "
              f"p50 {open311[1] / v1[1]:.2f}, p99 {open311[2] / v1[2]:.2f}")


def summary(rounds: list[tuple[float, list[float]]]) -> tuple[float, float, float]:
    """(req/s, p50 ms, p99 ms), each the median over rounds."""
    return (statistics.median(r for r, _ in rounds), statistics.median(percentile(lat, 0.5) for _, lat in rounds),
            statistics.median(percentile(lat, 0.99) for _, lat in rounds))


if __name__ == "__main__":
    main()
