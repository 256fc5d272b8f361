"""The Kafka pipeline against the bare kafka-python clients, in one run.

    python bench/pipeline.py [--log-events 50000] [--rate 500[,2000]] [--seconds 10] [--group] [--end-to-end-only]

  relay        events/s from the store to Kafka (acks=all, idempotent)
               beside a bare KafkaProducer sending the same bytes with the same settings
  consume      events/s from Kafka into the board read model (one consumer group)
               beside a bare KafkaConsumer reading the same topics and doing nothing
  end to end   latency from "command accepted" to "row in the read model", p50/p99,
               with commands arriving at --rate per second for --seconds, relay and
               consumer running as their own processes (gridgov relay, gridgov consume);
               one row per rate. One command a transaction, or with --group the
               commands due together in one (group commit, as the API's coalescer
               writes them): the writer alone takes ~1,400 a second one at a time

Needs the broker of scripts/kafka.sh (KAFKA_BOOTSTRAP_SERVERS, default 127.0.0.1:9092).
The log for the throughput rows comes from bench/rebuild.py's cache (made if missing).
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer, TopicPartition  # noqa: E402

from bench.rebuild import ensure_log  # noqa: E402
from consumers.envelope import to_message, topic_for  # noqa: E402
from consumers.relay import Relay, producer_for  # noqa: E402
from consumers.runner import ConsumerRunner  # noqa: E402
from consumers.settings import KafkaSettings  # noqa: E402
from consumers.topics import NOT_PUBLISHED, delete_topics  # noqa: E402
from domain import commands as c  # noqa: E402
from domain.events import Actor, Role  # noqa: E402
from gridgov.bootstrap import application  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from projections.board import Board  # noqa: E402
from domain.events import type_of_topic
from projections.facts import from_stored  # noqa: E402
from projections.stores.sqlite import SQLiteStore  # noqa: E402

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def settings() -> KafkaSettings:
    """Topics of a run's own (and "bare" ones beside them), deleted when the run ends:
    every partition kept slows the broker's next start."""
    s = KafkaSettings(bootstrap=BOOTSTRAP, prefix=f"bench{uuid.uuid4().hex[:8]}")
    atexit.register(delete_topics, s)
    atexit.register(delete_topics, dataclasses.replace(s, prefix=f"bare{s.prefix}"))
    return s


def copy_of(path: str) -> str:
    target = os.path.join(tempfile.mkdtemp(prefix="gridgov-pipe-"), "events.sqlite")
    shutil.copy(path, target)
    return target


def relay_rows(log: str) -> tuple[float, float, int]:
    """Relay events/s, bare producer msgs/s, events."""
    app = application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": copy_of(log)}))
    s = settings()
    relay = Relay(app, s, page=2000)
    started = time.perf_counter()
    while relay.publish_once():
        pass
    relay_rate = relay.stats.published / (time.perf_counter() - started)
    relay.close()
    # The same bytes, prepared beforehand, through a bare producer with the same settings.
    messages = []
    for n in app.recorder.select_notifications(start=1, limit=10**7):
        if type_of_topic(n.topic) in NOT_PUBLISHED:
            continue
        fact = from_stored(n)
        m = to_message(fact, n.id)
        messages.append(("bare" + topic_for(fact.type, s.prefix), m.key.encode(), m.value, list(m.headers.items())))
    producer = producer_for(s)
    started = time.perf_counter()
    for topic, key, value, headers in messages:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    bare_rate = len(messages) / (time.perf_counter() - started)
    producer.close()
    app.close()
    return relay_rate, bare_rate, len(messages)


def consume_rows(log: str) -> tuple[float, float, int]:
    """Board projection events/s from Kafka, bare consumer records/s, records."""
    app = application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": copy_of(log)}))
    s = settings()
    relay = Relay(app, s, page=2000)
    while relay.publish_once():
        pass
    relay.close()
    store = SQLiteStore(os.path.join(tempfile.mkdtemp(prefix="gridgov-pipe-"), "rm.sqlite"))
    runner = ConsumerRunner(Board(), store, s)
    partitions = [TopicPartition(t, p) for t in runner.topics for p in sorted(runner.consumer.partitions_for_topic(t))]
    total = sum(runner.consumer.end_offsets(partitions).values())
    seen = runner.poll_once(timeout_ms=1000)  # join the group before the clock starts
    started = time.perf_counter()
    count = 0
    while seen + count < total:
        count += runner.poll_once(timeout_ms=500)
    ours = count / (time.perf_counter() - started)
    runner.close()
    app.close()
    return ours, bare_consume_rate(s, partitions, total), total


def bare_consume_rate(s: KafkaSettings, partitions: list[TopicPartition], total: int) -> float:
    """Records/s of a bare kafka-python consumer reading `partitions` from the start, doing nothing."""
    bare = KafkaConsumer(bootstrap_servers=s.bootstrap, enable_auto_commit=False, max_poll_records=2000)
    bare.assign(partitions)
    bare.seek_to_beginning(*partitions)
    bare.poll(timeout_ms=1000, max_records=1)  # connected and fetching before the clock starts
    bare.seek_to_beginning(*partitions)
    count, started = 0, time.perf_counter()
    while count < total:
        count += sum(len(rs) for rs in bare.poll(timeout_ms=500).values())
    rate = count / (time.perf_counter() - started)
    bare.close()
    return rate


def end_to_end(rate: int, seconds: int, group: bool = False) -> tuple[float, float, float, int]:
    """p50, p99, max latency in ms, and commands, from accept to board row."""
    folder = tempfile.mkdtemp(prefix="gridgov-e2e-")
    s = settings()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "READMODEL_"))},
           "SQLITE_DBNAME": f"{folder}/events.sqlite", "READMODEL_SQLITE_DBNAME": f"{folder}/rm.sqlite",
           "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap, "KAFKA_TOPIC_PREFIX": s.prefix}
    env.pop("PERSISTENCE_MODULE", None)
    app = application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": env["SQLITE_DBNAME"]}))
    admin = Actor(id="admin", role=Role.DISTRICT_ADMIN)
    grid = app.execute(c.RegisterGrid(district="温江", street="s", community="c", name="g"), admin).result["grid_id"]
    app.execute(c.AssignOfficer(grid_id=grid, officer_id="o"), admin)
    from datetime import datetime, timezone

    app.execute(c.IssueRateSchedule(district="温江", effective_from=datetime(2026, 1, 1, tzinfo=timezone.utc),
                                    rates={"patrol": {"fen": 500}}, cap_day_fen=10_000, cap_month_fen=100_000), admin)
    logs = open(f"{folder}/workers.log", "ab")
    workers = [subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, stdout=logs,
                                stderr=logs) for args in (["relay"], ["consume", "board"])]
    officer = Actor(id="o", role=Role.GRID_OFFICER)
    accepted: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        conn = None
        last = 0
        while not done.is_set() or len(seen) < len(accepted):
            try:
                conn = conn or sqlite3.connect(env["READMODEL_SQLITE_DBNAME"])
                rows = conn.execute("SELECT rowid, task_id FROM board_tasks WHERE rowid > ? ORDER BY rowid",
                                    (last,)).fetchall()
            except sqlite3.OperationalError:
                rows = []
            now = time.perf_counter()
            for rowid, task in rows:
                seen.setdefault(task, now)
                last = rowid
            time.sleep(0.002)
            if done.is_set() and time.perf_counter() - finished > 30:
                return

    time.sleep(3)  # the consumer joins its group
    watcher = threading.Thread(target=watch)
    watcher.start()
    interval = 1 / rate
    publish = c.PublishTask(grid_id=grid, kind="patrol", rate_code="patrol")
    start = time.perf_counter()
    total, sent = rate * seconds, 0
    while sent < total:
        due = start + sent * interval
        while (lag := due - time.perf_counter()) > 0:
            time.sleep(lag)
        if group:  # every command due by now, in one transaction
            arrived = min(total, int((time.perf_counter() - start) / interval) + 1)
            with app.batch() as batch:
                tasks = [batch.execute(publish, officer)["task_id"] for _ in range(sent, arrived)]
        else:
            arrived = sent + 1
            tasks = [app.execute(publish, officer).result["task_id"]]
        now = time.perf_counter()
        accepted.update((task, now) for task in tasks)
        sent = arrived
    achieved = len(accepted) / (time.perf_counter() - start)
    finished = time.perf_counter()
    done.set()
    watcher.join()
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        w.wait(timeout=30)
    latencies = sorted((seen[t] - accepted[t]) * 1000 for t in accepted if t in seen)
    missing = len(accepted) - len(latencies)
    if missing:
        raise SystemExit(f"{missing} commands never reached the read model; see {folder}/workers.log")
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    app.close()
    return statistics.median(latencies), p99, achieved, len(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-events", type=int, default=50_000)
    parser.add_argument("--rate", default="500", help="commands a second, end to end; several: 500,2000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--group", action="store_true", help="end to end, the commands due together in one transaction")
    parser.add_argument("--end-to-end-only", action="store_true", help="not the relay and consume rows")
    args = parser.parse_args()
    print(f"bench/pipeline.py: broker {BOOTSTRAP} (scripts/kafka.sh, 1 node, -Xmx512m), SQLite store and read "
          f"model, {os.cpu_count()} cores\n")
    if not args.end_to_end_only:
        log = ensure_log(args.log_events, 7)
        print("| stage | gridgov | bare kafka-python | ratio | events |")
        print("|---|---:|---:|---:|---:|")
        ours, bare, n = relay_rows(log)
        print(f"| relay (store → Kafka) | {ours:,.0f} ev/s | {bare:,.0f} msg/s producer | {ours / bare:.2f} | {n:,} |",
              flush=True)
        ours, bare, n = consume_rows(log)
        print(f"| consume (Kafka → board) | {ours:,.0f} ev/s | {bare:,.0f} msg/s consumer | {ours / bare:.2f} | {n:,} |",
              flush=True)
    print("\nend to end, command accepted → row in the board read model"
          f" ({'commands due together in one transaction' if args.group else 'one command a transaction'}):\n")
    print("| asked /s | achieved /s | p50 ms | p99 ms | commands |")
    print("|---:|---:|---:|---:|---:|")
    for rate in (int(r) for r in args.rate.split(",")):
        p50, p99, achieved, n = end_to_end(rate, args.seconds, args.group)
        print(f"| {rate:,} | {achieved:,.0f} | {p50:.0f} | {p99:.0f} | {n:,} |", flush=True)


if __name__ == "__main__":
    main()
