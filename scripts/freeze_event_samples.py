"""Write a stored sample of every event type at its current schema version.

    python scripts/freeze_event_samples.py

Samples are history: an existing file is never overwritten. Run this when an
event type is added or its schema_version bumped (with an upcaster), commit the
new file, and tests/unit/test_persistence.py keeps it readable forever.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.clock import CHINA, ManualClock  # noqa: E402
from domain.ids import SeededIds  # noqa: E402
from gridgov import bootstrap  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from tests.fixtures.world import World, tour_of_every_event_type  # noqa: E402

SAMPLES = ROOT / "tests" / "samples"


def main() -> None:
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=CHINA))
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}),
                         clock=clock, ids=SeededIds(7))
    tour_of_every_event_type(World(app, clock))
    written = 0
    for notification in app.recorder.select_notifications(start=1, limit=100_000):
        event = app.mapper.to_domain_event(notification)
        path = SAMPLES / f"{type(event).__name__}.v{event.schema_version}.json"
        if path.exists():
            continue
        sample = {"topic": notification.topic, "originator_id": str(notification.originator_id),
                  "originator_version": notification.originator_version,
                  "state": app.mapper.decode_state(notification.state)}
        path.write_bytes(orjson.dumps(sample, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        written += 1
        print(f"wrote {path.relative_to(ROOT)}")
    print(f"{written} new samples")


if __name__ == "__main__":
    main()
