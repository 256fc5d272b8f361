"""Statistics for dashboards: clues per category, district and day; how long
clues wait for a task and claims for verification; duplicates; appeals."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from domain.appeals import AppealDecided, AppealFiled
from domain.clock import local_day
from domain.clues import ClueAccepted, ClueMarkedDuplicate, ClueReported
from domain.tasks import CompletionVerified, TaskClaimed, TaskPublished
from projections.base import Projection, ts
from projections.store import ReadStore, Tx


class Stats(Projection):
    name = "stats"
    handles = (ClueReported, ClueAccepted, ClueMarkedDuplicate, TaskPublished, TaskClaimed, CompletionVerified,
               AppealFiled, AppealDecided)
    tables = {
        "clues": "clue_id TEXT PRIMARY KEY, district TEXT NOT NULL, category TEXT NOT NULL, day TEXT NOT NULL, "
                 "reported_at TEXT NOT NULL, accepted_at TEXT, flagged INTEGER NOT NULL, duplicate INTEGER NOT NULL",
        "tasks": "task_id TEXT PRIMARY KEY, district TEXT NOT NULL, claimed_at TEXT, verified_at TEXT",
        "appeals": "appeal_id TEXT PRIMARY KEY, district TEXT NOT NULL, filed_at TEXT NOT NULL, decided_at TEXT, "
                   "outcome TEXT",
    }
    keys = {"clues": "clue_id", "tasks": "task_id", "appeals": "appeal_id"}
    indexes = {"clues": ("district, day",)}

    def apply(self, tx: Tx, e: Any) -> None:
        stream, at = str(e.originator_id), ts(e.timestamp)
        match e:
            case ClueReported():
                tx.execute(self.sql("INSERT INTO {clues} VALUES (?, ?, ?, ?, ?, NULL, ?, 0)"),
                           (stream, e.district, e.category.value, local_day(e.timestamp), at,
                            int(bool(e.duplicate_candidates))))
            case ClueAccepted():
                tx.execute(self.sql("UPDATE {clues} SET accepted_at = ? WHERE clue_id = ?"), (at, stream))
            case ClueMarkedDuplicate():
                tx.execute(self.sql("UPDATE {clues} SET duplicate = 1 WHERE clue_id = ?"), (stream,))
            case TaskPublished():
                tx.execute(self.sql("INSERT INTO {tasks} VALUES (?, ?, NULL, NULL)"), (stream, e.district))
            case TaskClaimed():
                # The claim that is verified is the last one before it.
                tx.execute(self.sql("UPDATE {tasks} SET claimed_at = ? WHERE task_id = ?"), (at, stream))
            case CompletionVerified():
                tx.execute(self.sql("UPDATE {tasks} SET verified_at = ? WHERE task_id = ?"), (at, stream))
            case AppealFiled():
                tx.execute(self.sql("INSERT INTO {appeals} VALUES (?, ?, ?, NULL, NULL)"), (stream, e.district, at))
            case AppealDecided():
                tx.execute(self.sql("UPDATE {appeals} SET decided_at = ?, outcome = ? WHERE appeal_id = ?"),
                           (at, e.outcome.value, stream))


def _median_seconds(pairs: list[tuple[str, str]]) -> float | None:
    spans = [(datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() for start, end in pairs]
    return statistics.median(spans) if spans else None


def statistics_for(store: ReadStore, district: str | None = None) -> dict[str, Any]:
    t = Stats().t
    where, params = ("WHERE district = ?", (district,)) if district else ("", ())
    and_ = "AND" if district else "WHERE"
    per_day = store.read(f"SELECT district, category, day, COUNT(*) FROM {t['clues']} {where} "
                         "GROUP BY district, category, day ORDER BY district, category, day", params)
    clue_waits = store.read(f"SELECT reported_at, accepted_at FROM {t['clues']} {where} {and_} accepted_at IS NOT NULL",
                            params)
    claim_waits = store.read(f"SELECT claimed_at, verified_at FROM {t['tasks']} {where} {and_} verified_at IS NOT NULL",
                             params)
    totals = store.read(f"SELECT COUNT(*), COALESCE(SUM(duplicate), 0), COALESCE(SUM(flagged), 0) "
                        f"FROM {t['clues']} {where}", params)[0]
    appeals = store.read(f"SELECT COUNT(*), COUNT(decided_at) FROM {t['appeals']} {where}", params)[0]
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
