"""A subscriber that arrives after 100,000 events reads every one of them from offset 0,
each once after de-duplication on ce_id, every stream in order — with the example of
docs/subscribers.md itself (plain kafka-python), read from the page, against the shared
broker and topics of the test's own. Some pages are published twice, as a relay that
crashed between the broker's acknowledgement and recording its position does."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from application.service import GridGovernance
from consumers.relay import TRACKING_NAME, Relay
from consumers.settings import KafkaSettings
from consumers.topics import NOT_PUBLISHED, described_configs, event_topics
from domain import commands as c
from domain.clock import ManualClock
from domain.events import type_of_topic
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.kafka import require_kafka
from tests.fixtures.world import START, World, rider_actor, tour_of_every_event_type

EVENTS = 100_000
PAGE = 2000
REPLAYED_PAGES = (0, 20)  # relay pages published a second time, as after a crash before recording
ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "subscribers.md"


def write_history(app: GridGovernance, clock: ManualClock, events: int) -> None:
    """Every event type once, then pieces of work by group commit (the fastest real path
    of commands into the store), a verified one now and then so subsidy, points and
    budget streams grow long too."""
    world = World(app, clock)
    tour_of_every_event_type(world)
    grid, first = world.scene()
    riders = [first, *(world.rider(grid) for _ in range(20))]
    n = 0
    while app.head() < events:
        with app.batch() as batch:
            for _ in range(100):
                n += 1
                rider = riders[n % len(riders)]
                task = batch.execute(c.PublishTask(grid_id=grid, kind="patrol", rate_code="patrol",
                                                   claim_ttl_s=3600), world.officer)["task_id"]
                batch.execute(c.ClaimTask(task_id=task, rider_id=rider), rider_actor(rider))
                batch.execute(c.CompleteTask(task_id=task, rider_id=rider, note="done"), rider_actor(rider))
                if n % 25 == 0:
                    batch.execute(c.VerifyCompletion(task_id=task), world.officer)
        clock.advance(60)


def relay_process(settings: KafkaSettings, db: Path, log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    """`gridgov relay`, as production runs it, beside the writer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "READMODEL_"))}
    env.update(PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=str(db),
               KAFKA_BOOTSTRAP_SERVERS=settings.bootstrap, KAFKA_TOPIC_PREFIX=settings.prefix)
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "relay"], cwd=ROOT, env=env, stdout=out,
                                stderr=out)


def relayed_all(app: GridGovernance, relay: subprocess.Popen, log: Path, stall_s: float = 120) -> None:  # type: ignore[type-arg]
    """Until the relay's tracked position is the store's head; fails only when it stops moving."""
    tracking = app.factory.tracking_recorder()
    last, moved = -1, time.monotonic()
    while (position := tracking.max_tracking_id(TRACKING_NAME) or 0) < app.head():
        assert relay.poll() is None, f"gridgov relay exited {relay.returncode}:\n{log.read_text()[-3000:]}"
        if position != last:
            last, moved = position, time.monotonic()
        assert time.monotonic() - moved < stall_s, f"the relay stood at {position:,} for {stall_s:.0f} s"
        time.sleep(0.2)


def replay(app: GridGovernance, settings: KafkaSettings) -> int:
    """REPLAYED_PAGES published a second time, as by a relay that crashed after the broker's
    acknowledgement and before recording its position; how many records that was."""
    relay = Relay(app, settings, page=PAGE)
    try:
        for page in REPLAYED_PAGES:
            relay.publish_after(page * PAGE, record=False)
        return relay.stats.published
    finally:
        relay.close()


def the_guides_example(tmp_path: Path) -> ModuleType:
    found = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert found, "docs/subscribers.md has no python example"
    path = tmp_path / "subscriber.py"
    path.write_text(found.group(1))
    spec = importlib.util.spec_from_file_location("guides_subscriber", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def records_on(settings: KafkaSettings) -> int:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap)
    try:
        partitions = [TopicPartition(t, p) for t in event_topics(settings)
                      for p in consumer.partitions_for_topic(t) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def retention_of(settings: KafkaSettings) -> dict[str, str | None]:
    """Each event topic's and the checkpoint topic's retention.ms, as the broker has it."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap)
    try:
        topics = [*event_topics(settings), settings.checkpoints_topic]
        described = described_configs(admin, topics)
    finally:
        admin.close()
    return {name: configs.get("retention.ms") for name, configs in described.items()}


def test_a_subscriber_started_after_100k_events_reads_each_once_in_stream_order(tmp_path: Path) -> None:
    settings = require_kafka()
    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                               "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}), clock=clock)
    try:
        started = time.monotonic()
        relay = relay_process(settings, tmp_path / "events.sqlite", tmp_path / "relay.log")
        try:
            write_history(app, clock, EVENTS)
            written = time.monotonic()
            relayed_all(app, relay, tmp_path / "relay.log")
        finally:
            relay.send_signal(signal.SIGTERM)
            relay.wait(timeout=60)
        replayed = replay(app, settings)
        relayed = time.monotonic()
        stored = [(n.id, str(n.originator_id), n.originator_version, type_of_topic(n.topic))
                  for n in app.recorder.select_notifications(start=1, limit=10**7)]
    finally:
        app.close()
    published = {f"{stream}:{version}": (position, kind) for position, stream, version, kind in stored
                 if kind not in NOT_PUBLISHED}
    assert len(published) >= EVENTS - 500
    assert replayed > 0 and records_on(settings) == len(published) + replayed, "every record, repeats included"

    # Now the late subscriber: a new group, from the beginning, as the guide writes it.
    handled: list[tuple[str, dict[str, str]]] = []
    deadline = time.monotonic() + 240  # generous: two busy cores shared with other work
    the_guides_example(tmp_path).subscribe(
        settings.bootstrap, settings.prefix, "late-subscriber", lambda kind, headers, data: handled.append(
            (kind, headers)), until=lambda: len(handled) >= len(published) or time.monotonic() > deadline)
    read = time.monotonic()
    print(f"\n{len(published):,} events written in {written - started:.1f} s while relayed, the rest relayed and "
          f"{replayed:,} replayed in {relayed - written:.1f} s, read by the late subscriber in {read - relayed:.1f} s")

    ids = [headers["ce_id"] for _, headers in handled]
    assert len(ids) == len(set(ids)), "an event handled twice after de-duplication on ce_id"
    assert set(ids) == set(published), f"{len(set(published) - set(ids)):,} events never read"
    assert Counter(kind for kind, _ in handled) == Counter(kind for _, kind in published.values())
    by_stream: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for kind, headers in handled:
        assert int(headers["ce_position"]) == published[headers["ce_id"]][0], "ce_position is the store's"
        by_stream[headers["ce_subject"]].append((int(headers["ce_position"]), int(headers["ce_streamversion"])))
    for stream, seen in by_stream.items():
        assert seen == sorted(seen), f"stream {stream} read out of order: {seen[:10]}…"

    # The contract that lets a subscriber start this late at all: nothing is ever deleted.
    retention = retention_of(settings)
    assert set(retention) == {*event_topics(settings), settings.checkpoints_topic}
    assert all(value == "-1" for value in retention.values()), (
        "event and checkpoint topics must keep every record (retention.ms=-1, set by "
        f"consumers.topics.ensure_topics; engineer K's part of #28): {retention}")

