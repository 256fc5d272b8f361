"""The relay's records written and read by the CloudEvents SDK and without it, in one run.

    python bench/envelope.py [--log-events 50000] [--runs 3]

  write, read   µs a record: `to_message` / `from_message` (ours) beside
                `to_message_by_the_sdk` / `from_message_by_the_sdk`, over the log's facts
  relay         events/s of the relay alone publishing the whole log to fresh topics,
                with the SDK's writer and ours, alternating, `--runs` times each

Needs the broker of scripts/kafka.sh for the relay rows (KAFKA_BOOTSTRAP_SERVERS,
default 127.0.0.1:9092). The log comes from bench/rebuild.py's cache (made if missing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import consumers.relay  # noqa: E402
from bench.pipeline import copy_of, settings  # noqa: E402
from bench.rebuild import ensure_log  # noqa: E402
from consumers import envelope  # noqa: E402
from consumers.relay import Relay  # noqa: E402
from consumers.topics import NOT_PUBLISHED  # noqa: E402
from domain.events import type_of_topic  # noqa: E402
from gridgov.bootstrap import application  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from projections.facts import from_raw  # noqa: E402

WRITERS = {"the SDK": envelope.to_message_by_the_sdk, "ours": envelope.to_message}


def app_on(log: str):  # type: ignore[no-untyped-def]
    return application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": copy_of(log)}))


def per_record(log: str) -> list[tuple[str, float, float]]:
    """(step, µs the SDK's way, µs ours) over every published fact of the log."""
    app = app_on(log)
    rows = app.eventlog.page(0, 10**9)
    facts = [(from_raw(topic, stream, version, state, app.mapper.decode_state), position)
             for position, stream, version, topic, state in rows if type_of_topic(topic) not in NOT_PUBLISHED]
    app.close()
    messages = [envelope.to_message(fact, position) for fact, position in facts]
    records = [(list(m.headers.items()), m.key.encode(), m.value) for m in messages]

    def timed(step, items) -> float:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        for item in items:
            step(*item)
        return (time.perf_counter() - started) / len(items) * 1e6

    return [("write", timed(envelope.to_message_by_the_sdk, facts), timed(envelope.to_message, facts)),
            ("read", timed(lambda h, k, v: envelope.from_message_by_the_sdk(dict(h), k, v), records),
             timed(envelope.from_message, records))]


def relay_rate(log: str, writer: str) -> float:
    """Events/s of the relay publishing the whole log, with `writer`'s records."""
    consumers.relay.to_message = WRITERS[writer]
    app = app_on(log)
    relay = Relay(app, settings(), page=2000)
    try:
        relay.publish_once()  # the topics made and the producer connected before the clock starts
        count, started = 0, time.perf_counter()
        while published := relay.publish_once():
            count += published
        return count / (time.perf_counter() - started)
    finally:
        consumers.relay.to_message = envelope.to_message
        relay.close()
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    log = ensure_log(args.log_events, 7)
    print("| step | the SDK | ours | ratio |\n|---|---:|---:|---:|")
    for step, sdk, ours in per_record(log):
        print(f"| {step}, µs a record | {sdk:.1f} | {ours:.1f} | {sdk / ours:.1f}× |", flush=True)
    rates: dict[str, list[float]] = {name: [] for name in WRITERS}
    for _ in range(args.runs):
        for name in WRITERS:
            rates[name].append(relay_rate(log, name))
            print(f"relay, {name} writing: {rates[name][-1]:,.0f} ev/s", flush=True)
    sdk, ours = (statistics.median(rates[name]) for name in WRITERS)
    print(f"| relay alone, ev/s, median of {args.runs} | {sdk:,.0f} | {ours:,.0f} | {ours / sdk:.2f}× |")


if __name__ == "__main__":
    main()
