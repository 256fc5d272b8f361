"""The transparency log at city scale, beside the parts underneath, in one run:

    python bench/audit.py [--events 1000000] [--commands 1500] [--rounds 3] [--proofs 2000]

- sequence: the sequencer building the tree of the whole log (a first start on an old store);
- verify: `audit verify` over the same log, beside a bare read of it through the same
  adapter (target: verify ≥ 0.5 of the bare read); as the command runs it (a helper
  process hashes the later half: two cores against the bare read's one), and in one process;
- commands: claim-task commands/s on SQLite with the sequencer running beside, as the
  embedded server runs it (a round every 0.2 s), against without it (target ≥ 0.9);
- proofs: inclusion-proof latency through HTTP (a uvicorn server, one client, random
  positions) at the log's size, beside /healthz on the same server (target p99 < 10 ms);
  asked by an auditor (each request then also appends its access to the log) and by a
  service token (nothing recorded);
- export: one district's export of every month of the log (chains, positions, the
  checkpoint, the check against balances) and its XLSX, in chain rows/s, beside a bare
  SELECT of the same district's audit steps from the same read-model store;
- signed: seconds from a command's answer to a signed checkpoint holding its event
  (`--only signed` measures it alone), and to one cosigned by two `gridgov witness serve`
  processes on this machine (`--only witnessed`);
- witness: a witness's add-checkpoint round trip (as bench/witness.py: one `gridgov witness
  serve`, a log of `--leaves` growing by 50 a checkpoint) beside its monitoring GET (`--only witness`);
- tiles: the log's tiles (/tlog/) mirrored by `gridgov audit mirror` (seconds, MB; `--only mirror`),
  then the same tile paths fetched by one client from gridgov and from a static file server
  serving the mirror's folder (Python's http.server, and nginx when installed), in tiles/s
  (`--only tiles` does both on the `--events` log).

The log is the demo's city (bench/rebuild.py makes it once, in GRIDGOV_CACHE/bench);
each measurement works on a copy. Medians of the rounds; ratios are in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bench.append import ours_update, store_env  # noqa: E402
from bench.rebuild import ensure_log  # noqa: E402
from domain.clock import ManualClock  # noqa: E402
from gridgov.bootstrap import application, log_hasher  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from projections.engine.feed import plain_decoder  # noqa: E402
from transparency.checkpoints import Signer  # noqa: E402
from transparency.log import TransparencyLog  # noqa: E402
from transparency.sequencer import Sequencer, SequencerThread  # noqa: E402
from transparency.store import open_tree_store  # noqa: E402
from transparency.verify import verify  # noqa: E402

ORIGIN = "gridgov.bench/audit"
ROOT = Path(__file__).resolve().parents[1]


def env_of(path: str) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "CREATE_TABLE": "n"}


def bare_read(path: str) -> float:
    app = application(load_settings(env_of(path)))
    started, after, count = time.perf_counter(), 0, 0
    while page := app.eventlog.page(after, 5000):
        count += len(page)
        after = page[-1][0]
    app.close()
    return count / (time.perf_counter() - started)


def sequence(path: str, key: Signer) -> tuple[float, int]:
    app = application(load_settings(env_of(path)))
    tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), ORIGIN, key, plain_decoder(app.mapper))
    started = time.perf_counter()
    added = Sequencer(app.eventlog, tlog.tree, tlog.decode).catch_up()
    seconds = time.perf_counter() - started
    tlog.checkpoint()
    app.close()
    return added / seconds, added


def verify_rate(path: str, key: Signer, split: bool = True) -> float:
    """`split`: as `gridgov audit verify` runs, the later half hashed by a helper process."""
    settings = load_settings(env_of(path))
    app = application(settings)
    started = time.perf_counter()
    report = verify(app.eventlog, open_tree_store(app.eventlog), plain_decoder(app.mapper), key.verifier(),
                    origin=ORIGIN, helper=log_hasher(settings, env_of(path)) if split else None)
    seconds = time.perf_counter() - started
    app.close()
    assert report.clean, report.problems
    return report.events / seconds


def command_rate(n: int, with_sequencer: bool) -> float:
    env, cleanup = store_env("sqlite")
    clock = ManualClock(datetime(2026, 11, 2, 1, tzinfo=timezone.utc))
    app = application(load_settings(env), clock=clock)
    beside = None
    if with_sequencer:
        tree = open_tree_store(app.eventlog)
        beside = SequencerThread(Sequencer(app.eventlog, tree, plain_decoder(app.mapper))).start()
    try:
        return ours_update(app, clock, n)
    finally:
        if beside is not None:
            beside.stop()
        app.close()
        cleanup()


def signed_latency(n: int, witnesses: int = 0) -> list[float]:
    """Seconds from a command's answer to a signed checkpoint holding its event, as the
    embedded server runs it (default AUDIT_CHECKPOINT_INTERVAL_S, a round every 0.2 s),
    with commands arriving at random moments, as they do; with `witnesses`, to one
    cosigned by that many `gridgov witness serve` processes (all of them the policy)."""
    from gridgov.bootstrap import bootstrap
    from tests.fixtures.witnesses import ORIGIN as WITNESSED, Log, WitnessProcess
    from tests.fixtures.world import World

    env, cleanup = store_env("sqlite")
    folder = tempfile.mkdtemp(prefix="gridgov-bench-signed-")
    key = os.path.join(folder, "audit.key")
    signer = Signer.generate(WITNESSED)
    Path(key).write_text(signer.text())
    served = [WitnessProcess(Path(folder) / f"w{i}", f"witness-{i}", [Log(signer=signer)]).start()
              for i in range(witnesses)]
    clock = ManualClock(datetime(2026, 11, 2, 1, tzinfo=timezone.utc))
    engine = bootstrap(load_settings({**env, "AUDIT_KEY_FILE": key, "AUDIT_ORIGIN": WITNESSED,
                                      "READMODEL_SQLITE_DBNAME": os.path.join(folder, "r.db"),
                                      "AUDIT_WITNESSES": ",".join(f"{w.url}={w.vkey}" for w in served),
                                      "AUDIT_WITNESS_POLICY": str(witnesses)}),
                       clock=clock).follow()
    waits: list[float] = []
    try:
        world = World(engine.app, clock)
        grid, _ = world.scene()
        rng = random.Random(7)
        for _ in range(n):
            time.sleep(rng.uniform(0, 3))
            world.task(grid)
            head, written = engine.app.head(), time.perf_counter()
            while not ((latest := engine.tlog.tree.checkpoint()) is not None
                       and engine.tlog.tree.tip()[1] >= head and latest.size >= engine.tlog.size()
                       and len(latest.cosignatures) >= witnesses):
                time.sleep(0.005)
            waits.append(time.perf_counter() - written)
    finally:
        engine.close()
        for witness in served:
            witness.stop()
        cleanup()
        shutil.rmtree(folder, ignore_errors=True)
    return waits


SERVER = """
import sys, uvicorn
from api.http.app import app_of
from gridgov.bootstrap import bootstrap
from gridgov.settings import load_settings
engine = bootstrap(load_settings(), feed=False)
uvicorn.run(app_of(engine, sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def proof_latency(path: str, key_file: str, size: int, n: int) -> dict[str, list[float]]:
    from api.http.auth import mint
    from domain.events import Role

    secret = "bench-secret-of-at-least-thirty-two-bytes"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="gridgov-bench-")
    env = {**os.environ, **env_of(path), "AUDIT_KEY_FILE": key_file, "AUDIT_ORIGIN": ORIGIN,
           "READMODEL_SQLITE_DBNAME": f"{folder}/readmodels.sqlite"}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), secret], cwd=ROOT, env=env)
    auditor = {"Authorization": f"Bearer {mint(secret, 'auditor-bench', Role.AUDITOR, ['温江'])}"}
    service = {"Authorization": f"Bearer {mint(secret, 'service-bench', Role.SERVICE, ['温江'])}"}
    timings: dict[str, list[float]] = {"proof": [], "proof-service": [], "healthz": []}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auditor, timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)
            rng = random.Random(7)
            for i in range(n + 50):
                at = rng.randint(1, size)
                for name, call in (("proof", lambda: client.get("/v1/audit/proofs/inclusion",
                                                                 params={"position": at})),
                                   ("proof-service", lambda: client.get("/v1/audit/proofs/inclusion",
                                                                         params={"position": at}, headers=service)),
                                   ("healthz", lambda: client.get("/healthz"))):
                    started = time.perf_counter()
                    response = call()
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.text
                    if i >= 50:  # warm-up: connections, statement caches
                        timings[name].append(elapsed)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    return timings


def export_rate(path: str, key: Signer, folder: str) -> dict[str, float]:
    from exports.build import Months, build
    from exports.files import write
    from gridgov.bootstrap import log_feed, read_store
    from projections.audit import Audit
    from projections.facts import china_day

    settings = load_settings({**env_of(path), "READMODEL_SQLITE_DBNAME": f"{folder}/readmodels.sqlite"})
    app, store = application(settings), read_store(settings)
    try:
        started = time.perf_counter()
        log_feed(app, store).catch_up()
        print(f"read models of the log: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), ORIGIN, key, plain_decoder(app.mapper))
        earliest, latest = store.read(f"SELECT MIN(at), MAX(at) FROM {Audit().table_names['steps']} WHERE district = '温江'")[0]
        months = Months.parse(china_day(earliest)[:7], china_day(latest)[:7])
        started = time.perf_counter()
        rows = store.read(f"SELECT * FROM {Audit().table_names['steps']} WHERE district = '温江' AND at >= ? AND at < ?",
                          months.utc_bounds())
        bare = len(rows) / (time.perf_counter() - started)
        started = time.perf_counter()
        export = build(store, tlog, "温江", months, "bench")
        built = time.perf_counter() - started
        started = time.perf_counter()
        body = write(export, "xlsx")
        written = time.perf_counter() - started
        assert export.reconciled, export.differences[:3]
        return {"rows": len(export.steps), "awards": export.awards, "build": len(export.steps) / built,
                "with_xlsx": len(export.steps) / (built + written), "bare": bare, "mib": len(body) / 2**20,
                "seconds": built + written}
    finally:
        store.close()
        app.close()


def witness_trips(submissions: int, leaves: int, batch: int = 50) -> tuple[list[float], list[float]]:
    """Milliseconds of each add-checkpoint round trip, and of the witness's monitoring GET beside it."""
    from tests.fixtures.witnesses import Log, WitnessProcess, origin_hash
    from transparency.witness import client

    log = Log()
    log.grow(leaves)
    trips: list[float] = []
    gets: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-witness-") as folder:
        witness = WitnessProcess(Path(folder), "witness.bench/w1", [log]).start()
        try:
            client.add_checkpoint(witness.url, log.request(0), timeout_s=10)
            for _ in range(submissions):
                old = log.tree.size
                log.grow(batch)
                request = log.request(old)
                started = time.perf_counter()
                client.add_checkpoint(witness.url, request, timeout_s=10)
                trips.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                client._client().get(f"{witness.url}/{origin_hash()}/checkpoint", timeout=10).raise_for_status()
                gets.append((time.perf_counter() - started) * 1000)
        finally:
            witness.stop()
    return trips, gets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.2)


def tiles_server(path: str, key_file: str, folder: str) -> tuple[subprocess.Popen, str]:
    """gridgov serving the log (its tiles under /tlog/), as `gridgov serve` does: the URL of the prefix."""
    port = free_port()
    env = {**os.environ, **env_of(path), "AUDIT_KEY_FILE": key_file, "AUDIT_ORIGIN": ORIGIN,
           "READMODEL_SQLITE_DBNAME": f"{folder}/readmodels.sqlite"}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), "bench-secret-of-at-least-thirty-two-bytes"],
                              cwd=ROOT, env=env)
    wait_for(f"http://127.0.0.1:{port}/tlog/checkpoint", server)
    return server, f"http://127.0.0.1:{port}/tlog/"


def mirror_log(url: str, folder: str, vkey: str) -> tuple[float, float, int]:
    """`gridgov audit mirror` into `folder`: seconds, MB on disk, tiles written."""
    gridgov = Path(sys.executable).parent / "gridgov"
    started = time.perf_counter()
    subprocess.run([str(gridgov), "audit", "mirror", url, folder, "--key", vkey], cwd=ROOT, check=True)
    seconds = time.perf_counter() - started
    files = [f for f in Path(folder, "tile").rglob("*") if f.is_file()]
    return seconds, sum(f.stat().st_size for f in files) / 1e6, len(files)


def static_servers(folder: str, started: list[subprocess.Popen]) -> list[tuple[str, subprocess.Popen, str]]:
    """The mirror's folder served as plain files on 127.0.0.1: Python's http.server, and nginx if installed."""
    served = []
    port = free_port()
    python = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", folder], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.append(python)
    wait_for(f"http://127.0.0.1:{port}/checkpoint", python)
    served.append(("Python http.server", python, f"http://127.0.0.1:{port}/"))
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx:
        port = free_port()
        conf = Path(folder).parent / "nginx.conf"
        conf.write_text(f"""daemon off; worker_processes 1; pid {conf.parent}/nginx.pid; error_log stderr error;
events {{ worker_connections 256; }}
http {{ access_log off; default_type application/octet-stream;
  client_body_temp_path {conf.parent}/nb; proxy_temp_path {conf.parent}/np; fastcgi_temp_path {conf.parent}/nf;
  uwsgi_temp_path {conf.parent}/nu; scgi_temp_path {conf.parent}/ns;
  server {{ listen 127.0.0.1:{port}; root {folder}; }} }}
""")
        process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(conf.parent)])
        started.append(process)
        wait_for(f"http://127.0.0.1:{port}/checkpoint", process)
        served.append(("nginx", process, f"http://127.0.0.1:{port}/"))
    return served


def tile_rate(base: str, paths: list[str]) -> float:
    """Tiles/s fetched one after another by one keep-alive client."""
    with httpx.Client(timeout=30) as client:
        for path in paths[:50]:  # warm-up
            client.get(base + path).raise_for_status()
        started = time.perf_counter()
        for path in paths:
            client.get(base + path).raise_for_status()
        return len(paths) / (time.perf_counter() - started)


def tiles_measure(events: int, seed: int, fetches: int, rounds: int, serve: bool = True) -> dict[str, object]:
    """The log sequenced, mirrored from gridgov's /tlog/, then (`serve`) its tiles fetched from gridgov and
    from static servers of the mirror's folder, the same random paths, rounds alternating."""
    log = ensure_log(events, seed)
    folder = tempfile.mkdtemp(prefix="gridgov-bench-tiles-")
    os.chmod(folder, 0o755)  # nginx's worker reads the mirror as another user
    copy = os.path.join(folder, "events.sqlite")
    shutil.copy(log, copy)
    key = Signer.generate(ORIGIN)
    key_file = os.path.join(folder, "audit.key")
    Path(key_file).write_text(key.text())
    processes: list[subprocess.Popen] = []
    try:
        _, leaves = sequence(copy, key)
        server, url = tiles_server(copy, key_file, folder)
        processes.append(server)
        mirrored = os.path.join(folder, "mirror")
        seconds, mb, tiles = mirror_log(url, mirrored, key.verifier().text())
        result: dict[str, object] = {"leaves": leaves, "mirror_s": seconds, "mirror_mb": mb, "tiles": tiles}
        if serve:
            paths = sorted(str(f.relative_to(mirrored)) for f in Path(mirrored, "tile").rglob("*") if f.is_file())
            rng = random.Random(seed)
            wanted = [rng.choice(paths) for _ in range(fetches)]
            statics = static_servers(mirrored, processes)
            rates: dict[str, list[float]] = {"gridgov": []} | {name: [] for name, _, _ in statics}
            for _ in range(rounds):
                rates["gridgov"].append(tile_rate(url, wanted))
                for name, _, base in statics:
                    rates[name].append(tile_rate(base, wanted))
            result["rates"] = {name: statistics.median(r) for name, r in rates.items()}
            result["fetches"] = fetches
        return result
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


def print_witness(trips: list[float], gets: list[float], leaves: int) -> None:
    print(f"| a witness's add-checkpoint round trip ({len(trips)} checkpoints of a {leaves:,}-leaf log), p50 / p99 "
          f"| {pct(trips, .5):.1f} / {pct(trips, .99):.1f} ms | its monitoring GET {pct(gets, .5):.1f} / "
          f"{pct(gets, .99):.1f} ms | {pct(trips, .5) / pct(gets, .5):.1f} | — |")


def print_tiles(result: dict[str, object]) -> None:
    print(f"| `gridgov audit mirror` of the {result['leaves']:,}-leaf log (every root checked) | "
          f"{result['mirror_s']:.1f} s, {result['mirror_mb']:.0f} MB, {result['tiles']:,} tiles | — | — | — |")
    rates = result.get("rates")
    if isinstance(rates, dict):
        ours = rates["gridgov"]
        for name, rate in rates.items():
            if name != "gridgov":
                print(f"| tiles served, one client, {result['fetches']:,} random tile paths | {ours:,.0f} tiles/s | "
                      f"{name} of the mirror {rate:,.0f} tiles/s | {ours / rate:.2f} | — |")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--commands", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--signed", type=int, default=60, help="commands timed to their signed checkpoint")
    parser.add_argument("--leaves", type=int, default=1_000_000, help="the witness bench's log")
    parser.add_argument("--submissions", type=int, default=500, help="checkpoints offered to the witness")
    parser.add_argument("--fetches", type=int, default=3000, help="tile paths fetched from each server a round")
    parser.add_argument("--only", choices=["signed", "witnessed", "witness", "tiles", "mirror"],
                        help="that measure alone (signed, witnessed, witness: no big log needed; "
                             "tiles, mirror: on the --events log)")
    args = parser.parse_args()
    if args.only in ("witness", "tiles", "mirror"):
        print(f"\n{datetime.now(timezone.utc):%Y-%m-%d}; medians of {args.rounds} rounds\n")
        print("| measure | gridgov | beside | ratio | target |")
        print("|---|---:|---:|---:|---|")
    if args.only == "witness":
        print_witness(*witness_trips(args.submissions, args.leaves), args.leaves)
        return
    if args.only in ("tiles", "mirror"):
        print_tiles(tiles_measure(args.events, args.seed, args.fetches, args.rounds, serve=args.only == "tiles"))
        return
    if args.only == "signed":
        print_signed(signed_latency(args.signed))
        return
    if args.only == "witnessed":
        print_signed(signed_latency(args.signed, witnesses=2), "cosigned by two witnesses")
        return

    log = ensure_log(args.events, args.seed)
    folder = tempfile.mkdtemp(prefix="gridgov-bench-audit-")
    copy = os.path.join(folder, "events.sqlite")
    shutil.copy(log, copy)
    key = Signer.generate(ORIGIN)
    key_file = os.path.join(folder, "audit.key")
    Path(key_file).write_text(key.text())
    try:
        print(f"log: {log}", file=sys.stderr)
        sequenced, events = sequence(copy, key)
        reads, verifies, one_process = [], [], []
        for _ in range(args.rounds):
            reads.append(bare_read(copy))
            verifies.append(verify_rate(copy, key))
            one_process.append(verify_rate(copy, key, split=False))
        plain, beside = [], []
        for _ in range(args.rounds):  # alternate: drift hits both alike
            plain.append(command_rate(args.commands, False))
            beside.append(command_rate(args.commands, True))
        timings = proof_latency(copy, key_file, events, args.proofs)
        exported = export_rate(copy, key, folder)
        signed = signed_latency(args.signed)
        witnessed = signed_latency(args.signed, witnesses=2)
        trips = witness_trips(args.submissions, args.leaves)
        tiled = tiles_measure(args.events, args.seed, args.fetches, args.rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    read, ver, single = statistics.median(reads), statistics.median(verifies), statistics.median(one_process)
    bare_cmd, seq_cmd = statistics.median(plain), statistics.median(beside)
    proof, service, health = timings["proof"], timings["proof-service"], timings["healthz"]
    print(f"\n{events:,} events; {args.rounds} rounds, medians; {datetime.now(timezone.utc):%Y-%m-%d}\n")
    print("| measure | gridgov | beside | ratio | target |")
    print("|---|---:|---:|---:|---|")
    print(f"| sequence the whole log (first start) | {sequenced:,.0f} ev/s | bare read {read:,.0f} ev/s | "
          f"{sequenced / read:.2f} | — |")
    print(f"| audit verify (a helper process hashes the later half) | {ver:,.0f} ev/s | bare read {read:,.0f} ev/s "
          f"| {ver / read:.2f} | ≥ 0.5 |")
    print(f"| audit verify in one process | {single:,.0f} ev/s | bare read {read:,.0f} ev/s | {single / read:.2f} | — |")
    print(f"| claim-task commands, sequencer running | {seq_cmd:,.0f} /s | without {bare_cmd:,.0f} /s | "
          f"{seq_cmd / bare_cmd:.2f} | ≥ 0.9 |")
    print(f"| inclusion proof over HTTP, p50 / p99 | {pct(proof, .5):.1f} / {pct(proof, .99):.1f} ms | /healthz "
          f"{pct(health, .5):.1f} / {pct(health, .99):.1f} ms | — | p99 < 10 ms |")
    print(f"| the same, by a service token (no access recorded) | {pct(service, .5):.1f} / {pct(service, .99):.1f} ms "
          f"| /healthz {pct(health, .5):.1f} / {pct(health, .99):.1f} ms | — | — |")
    print(f"| export of 温江, all months ({exported['awards']:,.0f} awards, {exported['rows']:,.0f} chain rows) | "
          f"{exported['build']:,.0f} rows/s | bare SELECT {exported['bare']:,.0f} rows/s | "
          f"{exported['build'] / exported['bare']:.2f} | — |")
    print(f"| the same with its XLSX ({exported['mib']:.1f} MiB, {exported['seconds']:.1f} s) | "
          f"{exported['with_xlsx']:,.0f} rows/s | bare SELECT {exported['bare']:,.0f} rows/s | "
          f"{exported['with_xlsx'] / exported['bare']:.2f} | — |")
    print_signed(signed)
    print_signed(witnessed, "cosigned by two witnesses")
    print_witness(*trips, args.leaves)
    print_tiles(tiled)


def print_signed(waits: list[float], how: str = "signed") -> None:
    print(f"| a command's event in a checkpoint {how} ({len(waits)} commands at random moments), p50 / p99 / max "
          f"| {pct(waits, .5):.2f} / {pct(waits, .99):.2f} / {max(waits):.2f} s | — | — | ≤ 5 s |")


if __name__ == "__main__":
    main()
