"""Rebuild of every read model from a log of N events (made by the demo
simulator), beside a bare read of the same notification log in the same run.

    python bench/rebuild.py [--events 1000000] [--backends sqlite,postgres] [--rounds 2]

The log is generated once (demo days on an in-memory SQLite store, saved to
GRIDGOV_CACHE/bench) and copied into PostgreSQL for the PostgreSQL rows. Each
measurement runs in a fresh process, so its peak memory is its own (with its
helper processes': a rebuild fills projections in one per core). "bare read"
pages through the notification log with the library's recorder and decodes
nothing; "rebuild" decodes, applies and tracks into shadow tables and swaps.
Memory is sampled at each quarter of the rebuild: flat means streaming.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CACHE, POSTGRES, PeakSampler, dsn, new_schema, rss_mib  # noqa: E402
from projections.registry import PROJECTIONS  # noqa: E402

PG_TABLE = "gridgov_events"  # the library names it after the application
SQLITE_TABLE = "stored_events"


def ensure_log(events: int, seed: int) -> str:
    """A SQLite event store with at least `events` events from the demo simulator."""
    path = os.path.join(CACHE, f"log-{events}-{seed}.sqlite")
    if os.path.exists(path):
        return path
    os.makedirs(CACHE, exist_ok=True)
    from gridgov.demo import DAY_START, TICKS, Demo
    from domain.clock import ManualClock
    from domain.ids import SeededIds
    from gridgov.bootstrap import application
    from gridgov.settings import load_settings

    memory = f"file:benchlog{os.getpid()}?mode=memory&cache=shared"
    clock = ManualClock(DAY_START)
    app = application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": memory}),
                         clock=clock, ids=SeededIds(seed))
    keep = sqlite3.connect(memory, uri=True)  # holds the shared in-memory database open
    started = time.perf_counter()
    demo = Demo(app, clock, seed, riders=3000)
    days = 0
    demo.clock.set(DAY_START.replace(hour=6))
    demo.set_up_city()
    from datetime import timedelta

    from domain.clock import local_month
    while app.head() < events:
        morning = DAY_START + timedelta(days=days)
        if days and local_month(morning) != local_month(morning - timedelta(days=1)):
            demo.new_month_budgets(local_month(morning))
        clock.set(morning)
        for tick in range(TICKS):
            demo.one_tick(tick)
            for _ in range(9):  # a city of 3,000 riders reports ten times what 300 do
                demo.report_clues(demo.clues_this_tick(tick))
            clock.advance(300)
        demo.end_of_day()
        days += 1
        rate = app.head() / (time.perf_counter() - started)
        print(f"\r  generating: day {days}, {app.head():,} events, {rate:,.0f} ev/s", end="", file=sys.stderr)
    print(file=sys.stderr)
    partial = path + ".partial"
    with sqlite3.connect(partial) as target:
        keep.backup(target)
    os.replace(partial, path)
    keep.close()
    app.close()
    return path


def ensure_postgres_log(sqlite_path: str, events: int, seed: int) -> str:
    """The same log in PostgreSQL, in a schema kept for later runs."""
    import psycopg

    from gridgov.bootstrap import application
    from gridgov.settings import load_settings

    schema = f"bench_log_{events}_{seed}"
    with psycopg.connect(dsn(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = %s",
                              (schema, PG_TABLE)).fetchone()
        if exists:
            return schema
        conn.execute(f"DROP SCHEMA IF EXISTS {schema}_loading CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}_loading")
    application(load_settings({**POSTGRES, "POSTGRES_SCHEMA": f"{schema}_loading"})).close()  # creates the tables
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(dsn()) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {schema}_loading.{PG_TABLE} (originator_id, originator_version, topic, state) "
                      "FROM STDIN") as copy:
            for n, row in enumerate(source.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {SQLITE_TABLE} ORDER BY rowid")):
                copy.write_row(row)
                if n % 100_000 == 0:
                    print(f"\r  copying to PostgreSQL: {n:,}", end="", file=sys.stderr)
        conn.execute(f"ALTER SCHEMA {schema}_loading RENAME TO {schema}")
    print(file=sys.stderr)
    return schema


def event_env(backend: str, sqlite_path: str, pg_schema: str | None) -> dict[str, str]:
    if backend == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": sqlite_path, "CREATE_TABLE": "n"}
    return {**POSTGRES, "POSTGRES_SCHEMA": pg_schema or "", "CREATE_TABLE": "n"}


def read_log(env: dict[str, str], decode: bool, out: mp.Queue) -> None:
    """Page through the notification log; with `decode`, turn each into a domain
    event with the application's mapper too."""
    from gridgov.bootstrap import application
    from gridgov.settings import load_settings

    app = application(load_settings(env))
    sampler = PeakSampler()
    started = time.perf_counter()
    position, count = 0, 0
    while True:
        page = app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
        if not page:
            break
        if decode:
            for notification in page:
                app.mapper.to_domain_event(notification)
        count += len(page)
        position = page[-1].id
    out.put({"events": count, "seconds": time.perf_counter() - started, "peak_mib": sampler.stop(), "rss": []})


def rebuild_all(env: dict[str, str], backend: str, out: mp.Queue) -> None:
    from gridgov.bootstrap import application
    from gridgov.settings import load_settings
    from projections.registry import named
    from projections.engine.rebuild import rebuild
    from gridgov.bootstrap import read_store

    app = application(load_settings(env))
    cleanup = None
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="gridgov-rebuild-")
        store = read_store(load_settings({"READMODEL_STORE": "sqlite", "READMODEL_SQLITE_DBNAME": f"{folder}/rm.sqlite"}))
        cleanup = partial(shutil.rmtree, folder)  # half a GiB a round at a million events
    else:
        schema, cleanup = new_schema("bench_rm")
        store = read_store(load_settings({**POSTGRES, "READMODEL_STORE": "postgres", "READMODEL_SCHEMA": schema}))
    head = app.head()
    samples: list[tuple[int, float]] = []

    def sample(position: int, _head: int) -> None:
        quarter = len(samples) + 1
        if quarter <= 4 and position >= head * quarter / 4:
            samples.append((quarter * 25, rss_mib()))

    sampler = PeakSampler()
    started = time.perf_counter()
    report = rebuild(app, store, named("all"), progress=sample)
    seconds = time.perf_counter() - started
    out.put({"events": head, "applied": report.events, "seconds": seconds, "peak_mib": sampler.stop(),
             "rss": samples, "dead": len(report.dead)})
    store.close()
    if cleanup:
        cleanup()


def measure(target, *args) -> dict:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    log = ensure_log(args.events, args.seed)
    print(f"bench/rebuild.py: all {len(PROJECTIONS)} read models from a log of {args.events:,}+ demo events, "
          f"{args.rounds} rounds, medians, {os.cpu_count()} cores\n")
    print("| backend | events | bare read ev/s | read + decode ev/s | rebuild ev/s | rebuild / bare read | "
          "rebuild / read + decode | peak MiB bare / rebuild | RSS MiB at 25/50/75/100% of rebuild |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for backend in args.backends.split(","):
        schema = ensure_postgres_log(log, args.events, args.seed) if backend == "postgres" else None
        env = event_env(backend, log, schema)
        bare, decoded, built = [], [], []
        for _ in range(args.rounds):
            bare.append(measure(read_log, env, False))
            decoded.append(measure(read_log, env, True))
            built.append(measure(rebuild_all, env, backend))
        bare_rate = statistics.median(r["events"] / r["seconds"] for r in bare)
        decoded_rate = statistics.median(r["events"] / r["seconds"] for r in decoded)
        rebuild_rate = statistics.median(r["events"] / r["seconds"] for r in built)
        last = built[-1]
        rss = " / ".join(f"{mib:.0f}" for _, mib in last["rss"])
        print(f"| {backend} | {last['events']:,} | {bare_rate:,.0f} | {decoded_rate:,.0f} | {rebuild_rate:,.0f} | "
              f"{rebuild_rate / bare_rate:.2f} | {rebuild_rate / decoded_rate:.2f} | "
              f"{statistics.median(r['peak_mib'] for r in bare):.0f} / "
              f"{statistics.median(r['peak_mib'] for r in built):.0f} | {rss} |", flush=True)


if __name__ == "__main__":
    main()
