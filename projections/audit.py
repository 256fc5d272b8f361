"""The audit trail: every step of every award's story, with who did it, in what
role, when, and under which rate version — for district political-legal
committees (区委政法委).

Each row is written only by events of its own stream, and the chain of an award
is joined when it is read; so the trail converges whatever order streams arrive
in (Kafka keeps each stream's order, nothing more).
"""

from __future__ import annotations

from typing import Any

import orjson

from domain.appeals import AppealAssigned, AppealDecided, AppealFiled, AppealNoted
from domain.clues import ClueAccepted, ClueClosed, ClueMarkedDuplicate, ClueRejected, ClueReported, DuplicateLinked
from domain.events import Event
from domain.rates import RateScheduleIssued
from domain.subsidies import PayoutSettled, SubsidyAwarded, SubsidyCapped, SubsidyReversed
from domain.tasks import (ClaimReleased, CompletionRejected, CompletionVerified, TaskCancelled, TaskClaimed,
                          TaskCompleted, TaskPublished)
from projections.base import Projection, detail, ts
from projections.store import ReadStore, Tx

CLUE_EVENTS = (ClueReported, ClueMarkedDuplicate, DuplicateLinked, ClueAccepted, ClueRejected, ClueClosed)
TASK_EVENTS = (TaskPublished, TaskClaimed, ClaimReleased, TaskCompleted, CompletionVerified, CompletionRejected,
               TaskCancelled)
LEDGER_EVENTS = (SubsidyAwarded, SubsidyCapped, SubsidyReversed, PayoutSettled)
APPEAL_EVENTS = (AppealFiled, AppealAssigned, AppealNoted, AppealDecided)


class Audit(Projection):
    name = "audit"
    handles = (*CLUE_EVENTS, *TASK_EVENTS, *LEDGER_EVENTS, *APPEAL_EVENTS, RateScheduleIssued)
    tables = {
        "steps": "stream_id TEXT NOT NULL, version BIGINT NOT NULL, subject_id TEXT NOT NULL, kind TEXT NOT NULL, "
                 "district TEXT, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, at TEXT NOT NULL, "
                 "correlation_id TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (stream_id, version)",
        # The first event of a stream names its district; later ones inherit it.
        "districts": "stream_id TEXT PRIMARY KEY, district TEXT NOT NULL",
        "links": "task_id TEXT PRIMARY KEY, clue_id TEXT NOT NULL",
    }
    keys = {"steps": "stream_id, version", "districts": "stream_id", "links": "task_id"}
    indexes = {"steps": ("subject_id", "district, at")}

    def apply(self, tx: Tx, e: Any) -> None:
        stream = str(e.originator_id)
        district = getattr(e, "district", None)
        if district is not None:
            tx.execute(self.sql("INSERT INTO {districts} VALUES (?, ?) ON CONFLICT (stream_id) DO NOTHING"),
                       (stream, district))
        else:
            row = tx.fetchone(self.sql("SELECT district FROM {districts} WHERE stream_id = ?"), (stream,))
            district = row[0] if row else None
        if isinstance(e, TaskPublished) and e.source_clue_id is not None:
            tx.execute(self.sql("INSERT INTO {links} VALUES (?, ?) ON CONFLICT (task_id) DO NOTHING"),
                       (stream, str(e.source_clue_id)))
        tx.execute(self.sql("INSERT INTO {steps} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                   (stream, e.originator_version, subject_of(e), type(e).__name__, district, e.meta.actor.id,
                    e.meta.actor.role.value, ts(e.timestamp), str(e.meta.correlation_id),
                    orjson.dumps(detail(e), option=orjson.OPT_SORT_KEYS).decode()))


def subject_of(e: Event) -> str:
    """What a step is about: the piece for ledger events (a task, or an appeal for a
    remedy), the account for payouts, else the event's own stream."""
    if isinstance(e, (SubsidyAwarded, SubsidyCapped, SubsidyReversed)):
        return str(e.piece_id)
    return str(e.originator_id)


# --- queries -------------------------------------------------------------------------

STEP_COLUMNS = ("stream_id", "version", "subject_id", "kind", "district", "actor_id", "actor_role", "at",
                "correlation_id", "detail")


def _steps(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    steps = [dict(zip(STEP_COLUMNS, row)) for row in rows]
    for step in steps:
        step["detail"] = orjson.loads(step["detail"])
    return steps


def award_chain(store: ReadStore, piece_id: str, districts: set[str] | None = None) -> dict[str, Any] | None:
    """clue → task → claim → completion → verification → award → payout or reversal,
    each step with actor, role and time; None if the piece is unknown (or outside
    `districts`, for an auditor scoped to some)."""
    a = Audit()
    cols = ", ".join(STEP_COLUMNS)
    awards = _steps(store.read(f"SELECT {cols} FROM {a.t['steps']} WHERE subject_id = ? AND kind = 'SubsidyAwarded'",
                               (piece_id,)))
    if not awards:
        return None
    award = awards[0]
    if districts is not None and award["district"] not in districts:
        return None
    link = store.read(f"SELECT clue_id FROM {a.t['links']} WHERE task_id = ?", (piece_id,))
    clue_id = link[0][0] if link else None
    appeal_id = award["detail"].get("appeal_id")
    subjects = [s for s in (piece_id, clue_id, appeal_id) if s]
    marks = ", ".join("?" * len(subjects))
    steps = _steps(store.read(f"SELECT {cols} FROM {a.t['steps']} WHERE subject_id IN ({marks}) "
                              "ORDER BY at, stream_id, version", subjects))
    payouts = _steps(store.read(f"SELECT {cols} FROM {a.t['steps']} WHERE stream_id = ? AND kind = 'PayoutSettled' "
                                "AND at >= ? ORDER BY at, version", (award["stream_id"], award["at"])))
    return {"piece_id": piece_id, "clue_id": clue_id, "district": award["district"],
            "rate_version": award["detail"].get("rate_version"), "steps": steps, "payouts": payouts}


def district_history(store: ReadStore, district: str, after: tuple[str, str, int] | None = None,
                     limit: int = 100) -> list[dict[str, Any]]:
    """Every step in a district, oldest first, paged by (at, stream, version)."""
    a = Audit()
    sql = f"SELECT {', '.join(STEP_COLUMNS)} FROM {a.t['steps']} WHERE district = ?"
    params: list[Any] = [district]
    if after is not None:
        sql += " AND (at > ? OR (at = ? AND (stream_id > ? OR (stream_id = ? AND version > ?))))"
        params += [after[0], after[0], after[1], after[1], after[2]]
    return _steps(store.read(sql + " ORDER BY at, stream_id, version LIMIT ?", (*params, limit)))
