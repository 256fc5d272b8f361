"""The demo speaks as its people would: reports, task names and notes in words, never the engine's codes
(a page shows what the demo wrote)."""

from __future__ import annotations

import re

from domain.clock import ManualClock
from domain.clues import Category, ClueReported
from domain.ids import SeededIds
from domain.rates import RateScheduleIssued
from domain.tasks import TaskCompleted, TaskPublished
from gridgov import bootstrap
from gridgov.demo import DAY_START, RATES, Demo
from gridgov.settings import load_settings

CODES = {c.value for c in Category} | set(RATES)
CHINESE = re.compile("[\u4e00-\u9fff]")


def test_the_demo_writes_in_words_not_codes() -> None:
    clock = ManualClock(DAY_START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}),
                                clock=clock, ids=SeededIds(7))
    Demo(app, clock, 7, riders=40).run()
    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=1_000_000)]
    written = [(type(e).__name__, text) for e in events for text in (
        [e.text] if isinstance(e, ClueReported) else [e.kind] if isinstance(e, TaskPublished)
        else [e.note] if isinstance(e, TaskCompleted) else [])]
    assert len({kind for kind, _ in written}) == 3
    for kind, text in written:
        assert CHINESE.search(text) and not any(code in text for code in CODES) and "#" not in text, (kind, text)
    schedules = [e for e in events if isinstance(e, RateScheduleIssued)]
    assert schedules and all(r.name_zh and r.name_en for s in schedules for r in s.rates.values())
    reports = {text for kind, text in written if kind == "ClueReported"}
    assert len(reports) >= 10  # not one sentence for every report
