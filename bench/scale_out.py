"""One read model's consumer group, scaled out: 1, 2 and 4 partitions per topic,
1 or 2 instances of `gridgov consume board` sharing them, beside a bare
kafka-python consumer reading the same topics in the same run.

    python bench/scale_out.py [--log-events 50000] [--partitions 1,2,4] [--instances 1,2]

For each partition count the demo's log is relayed to topics of their own; for
each instance count a fresh PostgreSQL read-model schema is filled by that many
consumer processes in one group. The rate is records over the time from the first
offset stored to the last (a process's start and its join are left out: they are
the same for every row). Needs scripts/postgres.sh and scripts/kafka.sh.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer, TopicPartition  # noqa: E402

from bench.common import POSTGRES, dsn, new_schema  # noqa: E402
from bench.pipeline import bare_consume_rate, copy_of, settings  # noqa: E402
from bench.rebuild import ensure_log  # noqa: E402
from consumers.relay import Relay  # noqa: E402
from consumers.topics import projection_topics  # noqa: E402
from gridgov.bootstrap import application  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from projections.board import Board  # noqa: E402
from projections.stores.postgres import PostgresStore  # noqa: E402


def relayed(log: str, partitions: int):  # type: ignore[no-untyped-def]
    """The log on topics with `partitions` partitions each; their settings."""
    s = dataclasses.replace(settings(), partitions=partitions)
    app = application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": copy_of(log)}))
    relay = Relay(app, s, page=2000)
    while relay.publish_once():
        pass
    relay.close()
    app.close()
    return s


def ends(s) -> dict[str, int]:  # type: ignore[no-untyped-def]
    consumer = KafkaConsumer(bootstrap_servers=s.bootstrap)
    topics = projection_topics(Board(), s.prefix)
    partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    found = {f"{tp.topic}/{tp.partition}": end for tp, end in consumer.end_offsets(partitions).items()}
    consumer.close()
    return found


def bare_rate(s, total: int) -> float:  # type: ignore[no-untyped-def]
    consumer = KafkaConsumer(bootstrap_servers=s.bootstrap)
    partitions = [TopicPartition(t, p) for t in projection_topics(Board(), s.prefix)
                  for p in sorted(consumer.partitions_for_topic(t) or ())]
    consumer.close()
    return bare_consume_rate(s, partitions, total)


def ours_rate(s, instances: int, wanted: dict[str, int]) -> float:  # type: ignore[no-untyped-def]
    schema, drop = new_schema("scale")
    env = {**os.environ, **POSTGRES, "PERSISTENCE_MODULE": "eventsourcing.postgres", "READMODEL_STORE": "postgres",
           "READMODEL_SCHEMA": schema, "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap, "KAFKA_TOPIC_PREFIX": s.prefix,
           "KAFKA_PARTITIONS": str(s.partitions)}
    logs = open(os.path.join(tempfile.mkdtemp(prefix="gridgov-scale-"), "consumers.log"), "ab")
    procs = [subprocess.Popen([sys.executable, "-m", "api.cli", "consume", "board"], cwd=ROOT, env=env,
                              stdout=logs, stderr=logs) for _ in range(instances)]
    store = PostgresStore(dsn(), schema)
    first = None
    try:
        while True:
            try:
                stored = dict(store.read("SELECT source, position FROM board_positions"))
            except Exception:  # not made yet
                stored = {}
            if stored and first is None:
                first = (time.perf_counter(), sum(p + 1 for p in stored.values()))
            if all(stored.get(source, -1) >= end - 1 for source, end in wanted.items()):
                done = time.perf_counter()
                break
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a consumer died; see {logs.name}")
            time.sleep(0.02)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        store.close()
        drop()
    assert first is not None
    return (sum(wanted.values()) - first[1]) / (done - first[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-events", type=int, default=50_000)
    parser.add_argument("--partitions", default="1,2,4")
    parser.add_argument("--instances", default="1,2")
    args = parser.parse_args()
    log = ensure_log(args.log_events, seed=7)
    print(f"bench/scale_out.py: the board's consumer group, {os.cpu_count()} cores, read models on PostgreSQL\n")
    print("| partitions per topic | instances | records | gridgov board ev/s | bare consumer msg/s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for partitions in map(int, args.partitions.split(",")):
        s = relayed(log, partitions)
        wanted = ends(s)
        total = sum(wanted.values())
        bare = bare_rate(s, total)
        for instances in map(int, args.instances.split(",")):
            ours = ours_rate(s, instances, wanted)
            print(f"| {partitions} | {instances} | {total:,} | {ours:,.0f} | {bare:,.0f} | {ours / bare:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
