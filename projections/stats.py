"""Statistics for dashboards: clues per category, district and day; how long
clues wait for a task and claims for verification; duplicates; appeals."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from domain.appeals import AppealDecided, AppealFiled
from domain.clues import ClueAccepted, ClueMarkedDuplicate, ClueReported
from domain.tasks import CompletionVerified, TaskClaimed, TaskPublished
from projections.base import Projection
from projections.facts import Fact, china_day
from projections.rows import BatchRows, Table
from projections.stores import ReadStore


TEXT, NULLABLE, FLAG = "TEXT NOT NULL", "TEXT", "INTEGER NOT NULL"
TABLE_OF = {"ClueReported": "clues", "ClueAccepted": "clues", "ClueMarkedDuplicate": "clues",
            "TaskPublished": "tasks", "TaskClaimed": "tasks", "CompletionVerified": "tasks",
            "AppealFiled": "appeals", "AppealDecided": "appeals"}


class Stats(Projection):
    name = "stats"
    weight = 0.8
    by_stream = True  # a clue's, a task's, an appeal's row, each by its own stream's events
    handles = (ClueReported, ClueAccepted, ClueMarkedDuplicate, TaskPublished, TaskClaimed, CompletionVerified,
               AppealFiled, AppealDecided)
    tables = {
        "clues": Table({"clue_id": TEXT, "district": TEXT, "category": TEXT, "day": TEXT, "reported_at": TEXT,
                        "accepted_at": NULLABLE, "flagged": FLAG, "duplicate": FLAG}, key=("clue_id",)),
        "tasks": Table({"task_id": TEXT, "district": TEXT, "claimed_at": NULLABLE, "verified_at": NULLABLE},
                       key=("task_id",)),
        "appeals": Table({"appeal_id": TEXT, "district": TEXT, "filed_at": TEXT, "decided_at": NULLABLE,
                          "outcome": NULLABLE}, key=("appeal_id",)),
    }
    indexes = {"clues": ("district, day",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [(TABLE_OF[fact.type], (fact.stream,))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d, key, at = fact.data, (fact.stream,), fact.at
        match fact.type:
            case "ClueReported":
                rows.put("clues", {"clue_id": fact.stream, "district": d["district"], "category": d["category"],
                                   "day": china_day(d["timestamp"]), "reported_at": at, "accepted_at": None,
                                   "flagged": int(bool(d["duplicate_candidates"])), "duplicate": 0})
            case "ClueAccepted":
                rows.update("clues", key, accepted_at=at)
            case "ClueMarkedDuplicate":
                rows.update("clues", key, duplicate=1)
            case "TaskPublished":
                rows.put("tasks", {"task_id": fact.stream, "district": d["district"], "claimed_at": None,
                                   "verified_at": None})
            case "TaskClaimed":
                # The claim that is verified is the last one before it.
                rows.update("tasks", key, claimed_at=at)
            case "CompletionVerified":
                rows.update("tasks", key, verified_at=at)
            case "AppealFiled":
                rows.put("appeals", {"appeal_id": fact.stream, "district": d["district"], "filed_at": at,
                                     "decided_at": None, "outcome": None})
            case "AppealDecided":
                rows.update("appeals", key, decided_at=at, outcome=d["outcome"])


def _median_seconds(pairs: list[tuple[str, str]]) -> float | None:
    spans = [(datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() for start, end in pairs]
    return statistics.median(spans) if spans else None


def statistics_for(store: ReadStore, district: str | None = None) -> dict[str, Any]:
    names = Stats().table_names
    where, params = ("WHERE district = ?", (district,)) if district else ("", ())
    and_ = "AND" if district else "WHERE"
    per_day = store.read(f"SELECT district, category, day, COUNT(*) FROM {names['clues']} {where} "
                         "GROUP BY district, category, day ORDER BY district, category, day", params)
    clue_waits = store.read(f"SELECT reported_at, accepted_at FROM {names['clues']} {where} {and_} accepted_at IS NOT NULL",
                            params)
    claim_waits = store.read(f"SELECT claimed_at, verified_at FROM {names['tasks']} {where} {and_} verified_at IS NOT NULL",
                             params)
    totals = store.read(f"SELECT COUNT(*), COALESCE(SUM(duplicate), 0), COALESCE(SUM(flagged), 0) "
                        f"FROM {names['clues']} {where}", params)[0]
    appeals = store.read(f"SELECT COUNT(*), COUNT(decided_at) FROM {names['appeals']} {where}", params)[0]
    clues, duplicates, flagged = (int(x) for x in totals)
    return {
        "clues_per_day": [{"district": d, "category": c, "day": day, "clues": n} for d, c, day, n in per_day],
        "median_clue_to_task_s": _median_seconds(clue_waits),
        "median_claim_to_verified_s": _median_seconds(claim_waits),
        "clues": clues,
        "duplicates": duplicates,
        "flagged_as_likely_duplicates": flagged,
        "duplicates_rate": duplicates / clues if clues else 0.0,
        "appeals_open": int(appeals[0]) - int(appeals[1]),
        "appeals_decided": int(appeals[1]),
    }
