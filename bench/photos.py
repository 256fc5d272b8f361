"""Photo uploads per second and their latency, beside a bare FastAPI upload of the same bytes, in one run.

    python bench/photos.py [--seconds 10] [--concurrency 4] [--rounds 3] [--photos 300] [--side 2400]

Every server is a process of its own (uvicorn, one worker, 127.0.0.1); the load
comes from this process: `--concurrency` httpx clients on one asyncio loop, each
posting as soon as its last answer came back, for `--seconds`. Rounds alternate
between the servers, so drift on a noisy machine hits them alike; the table
gives medians over rounds. The photos are made first: `--photos` distinct JPEGs of
`--side` × 3/4 px (noise over a gradient, so they weigh what a phone's do), each
always sent by the same rider, so every upload is new until the pool comes round.

  bare   POST /bare: FastAPI parses the same multipart body, reads the file and
         answers its length and SHA-256. The ceiling: HTTP, multipart, hashing.
  file   POST /v1/photos on the embedded default: the streamed body under its own
         limit, the type decided from the bytes, re-encoded (≤ 1,600 px, q82) with a
         thumbnail, sealed with a key of its own, two blobs under var/photos-like
         files, PhotoUploaded appended to SQLite (the projections following in-process).
  pillow photos/images.reencode alone, on `--concurrency` threads of this process (Pillow
         lets go of the GIL while it decodes and encodes): the floor under every upload,
         the part that no server can skip, so the second ratio says what the rest costs.
  s3     the same with the S3 store (GRIDGOV_BLOBS=s3 and GRIDGOV_S3_* set in the
         environment, e.g. `bash scripts/seaweedfs.sh start` and its env); skipped without.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
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

from bench.api import percentile, start  # noqa: E402

RIDERS = 50


# --- the servers ------------------------------------------------------------------


def bare_app():  # type: ignore[no-untyped-def]
    import hashlib

    from fastapi import FastAPI, File, UploadFile

    app = FastAPI()

    async def bare(photo: UploadFile = File(...)) -> dict[str, object]:
        data = await photo.read()
        return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    bare.__annotations__["photo"] = UploadFile  # a class, not the string `from __future__` makes of it
    app.post("/bare", status_code=201)(bare)
    return app


def gridgov_app(kind: str, folder: Path):  # type: ignore[no-untyped-def]
    """The real app on SQLite, the photos in files under `folder` or in S3; RIDERS riders, their tokens to tokens.json."""
    from api.http.app import app_of
    from api.http.auth import mint
    from domain import commands as c
    from domain.events import Actor, Role
    from gridgov.bootstrap import bootstrap
    from gridgov.settings import load_settings

    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite"),
           "READMODEL_SQLITE_DBNAME": str(folder / "readmodels.sqlite"), "GRIDGOV_BLOBS_DIR": str(folder / "photos")}
    if kind == "s3":
        env.update({name: value for name, value in os.environ.items() if name.startswith("GRIDGOV_S3_")})
        env.update({"GRIDGOV_BLOBS": "s3", "GRIDGOV_S3_BUCKET": f"bench-photos-{uuid.uuid4().hex[:8]}"})
    engine = bootstrap(load_settings(env))
    secret = "bench-secret-of-at-least-32-bytes-long"
    riders = []
    for _ in range(RIDERS):
        rider_id = str(uuid.uuid4())
        engine.app.execute(c.RegisterRider(rider_id=rider_id, platform="p", station="s", name="n",
                                           phone="13800000000"), Actor(id=rider_id, role=Role.RIDER))
        riders.append({"rider_id": rider_id, "token": mint(secret, rider_id, Role.RIDER)})
    (folder / "tokens.json").write_text(json.dumps({"riders": riders}))
    return app_of(engine.follow(), secret)


def serve(kind: str, port: int, folder: Path) -> None:
    import uvicorn

    app = bare_app() if kind == "bare" else gridgov_app(kind, folder)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the photos and the load ------------------------------------------------------------


def photos(count: int, side: int) -> list[bytes]:
    """`count` distinct JPEGs of side × 3/4 side: noise over a gradient, q88, as a phone's camera gives."""
    from PIL import Image

    made = []
    size = (side, side * 3 // 4)
    gradient = Image.linear_gradient("L").resize(size)
    for n in range(count):
        noise = [Image.effect_noise(size, 24 + n % 16) for _ in range(2)]
        image = Image.merge("RGB", (gradient, *noise))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=88)
        made.append(out.getvalue())
    return made


async def load(base: str, scene: dict[str, object] | None, pool: list[bytes], seconds: float,
               concurrency: int) -> tuple[float, list[float]]:
    """(uploads per second, latencies in ms) of `concurrency` clients for `seconds`."""
    latencies: list[float] = []
    failures: list[str] = []
    sent = iter(range(10**9))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def worker(until: float) -> None:
            while time.perf_counter() < until:
                n = next(sent) % len(pool)
                if scene is None:
                    path, headers = "/bare", {}
                else:
                    riders = scene["riders"]  # type: ignore[index]
                    path = "/v1/photos"
                    headers = {"Authorization": f"Bearer {riders[n % len(riders)]['token']}"}
                started = time.perf_counter()
                response = await client.post(path, files={"photo": (f"IMG_{n:04}.jpg", pool[n], "image/jpeg")},
                                             headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(worker(warm) for _ in range(concurrency)))
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} uploads failed, e.g. {failures[0]}")
    return len(latencies) / elapsed, latencies


def reencode_only(pool: list[bytes], seconds: float, concurrency: int) -> tuple[float, list[float]]:
    """Photos re-encoded per second by Pillow alone (decide, turn upright, resize, two JPEG encodes)."""
    import threading

    from photos import images

    latencies: list[float] = []
    taken = iter(range(10**9))
    lock = threading.Lock()

    def worker(until: float) -> None:
        while time.perf_counter() < until:
            with lock:
                data = pool[next(taken) % len(pool)]
            began = time.perf_counter()
            images.reencode(data)
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(began + seconds,)) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - began), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--side", type=int, default=2400)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port, Path(args.dir))

    kinds = ["bare", "file", *(["s3"] if os.environ.get("GRIDGOV_S3_ENDPOINT") else [])]
    pool = photos(args.photos, args.side)
    random.Random(7).shuffle(pool)
    print(f"{len(pool)} photos, {statistics.median(map(len, pool)) / 1e6:.2f} MB median", file=sys.stderr)
    servers: dict[str, tuple[subprocess.Popen[bytes], str, dict[str, object] | None]] = {}
    results: dict[str, list[tuple[float, list[float]]]] = {kind: [] for kind in ("pillow", *kinds)}
    try:
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-photos-") as tmp:
            for kind in kinds:
                folder = Path(tmp) / kind
                folder.mkdir()
                process, base = start(kind, folder, __file__)
                scene = None if kind == "bare" else json.loads((folder / "tokens.json").read_text())
                servers[kind] = (process, base, scene)
            for round_ in range(args.rounds):
                for kind in ("pillow", *kinds):
                    if kind == "pillow":
                        rate, latencies = reencode_only(pool, args.seconds, args.concurrency)
                        results["pillow"].append((rate, latencies))
                        continue
                    _, base, scene = servers[kind]
                    rate, latencies = asyncio.run(load(base, scene, pool, args.seconds, args.concurrency))
                    results[kind].append((rate, latencies))
                    print(f"round {round_ + 1} {kind:5} {rate:8,.1f} uploads/s  p50 {percentile(latencies, 0.5):7.1f} "
                          f"ms  p99 {percentile(latencies, 0.99):7.1f} ms", file=sys.stderr)
    finally:
        for process, _, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    report(results, args, pool)


def report(results: dict[str, list[tuple[float, list[float]]]], args: argparse.Namespace, pool: list[bytes]) -> None:
    bare = statistics.median(rate for rate, _ in results["bare"])
    print(f"\nbench/photos.py: {args.concurrency} concurrent clients, {args.rounds} rounds of {args.seconds:g} s, "
          f"{len(pool)} JPEGs of {args.side}×{args.side * 3 // 4} ({statistics.median(map(len, pool)) / 1e6:.2f} MB "
          f"median); uvicorn (1 worker) and the load on the same {os.cpu_count()} cores; medians over rounds\n")
    pillow = statistics.median(rate for rate, _ in results["pillow"])
    print("| endpoint | uploads/s | p50 ms | p99 ms | rate / bare | rate / Pillow alone |")
    print("|---|---:|---:|---:|---:|---:|")
    names = {"pillow": "Pillow alone: photos/images.reencode, no HTTP (the floor)",
             "bare": "bare FastAPI upload (multipart, read, SHA-256)",
             "file": "POST /v1/photos, SQLite + file store", "s3": "POST /v1/photos, SQLite + S3 store"}
    for kind, rounds in results.items():
        rate = statistics.median(r for r, _ in rounds)
        p50 = statistics.median(percentile(lat, 0.5) for _, lat in rounds)
        p99 = statistics.median(percentile(lat, 0.99) for _, lat in rounds)
        print(f"| {names[kind]} | {rate:,.1f} | {p50:.1f} | {p99:.1f} | {rate / bare:.2f} | {rate / pillow:.2f} |")


if __name__ == "__main__":
    main()
