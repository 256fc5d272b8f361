"""The grid-task board: what is open, claimed and awaiting verification, per grid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.grids import GridRegistered, GridRetired
from domain.tasks import (ClaimReleased, CompletionRejected, CompletionVerified, TaskCancelled, TaskClaimed,
                          TaskCompleted, TaskPublished)
from projections.base import Projection, ts
from projections.store import ReadStore, Tx


class Board(Projection):
    name = "board"
    handles = (GridRegistered, GridRetired, TaskPublished, TaskClaimed, ClaimReleased, TaskCompleted,
               CompletionVerified, CompletionRejected, TaskCancelled)
    tables = {
        "grids": "grid_id TEXT PRIMARY KEY, district TEXT NOT NULL, street TEXT NOT NULL, community TEXT NOT NULL, "
                 "name TEXT NOT NULL, retired INTEGER NOT NULL",
        "tasks": "task_id TEXT PRIMARY KEY, grid_id TEXT NOT NULL, district TEXT NOT NULL, kind TEXT NOT NULL, "
                 "rate_code TEXT NOT NULL, source_clue_id TEXT, status TEXT NOT NULL, claimant TEXT, "
                 "claimed_at TEXT, expires_at TEXT, published_at TEXT NOT NULL, completed_at TEXT, "
                 "updated_at TEXT NOT NULL",
    }
    keys = {"grids": "grid_id", "tasks": "task_id"}
    indexes = {"tasks": ("district, status", "grid_id, status")}

    def apply(self, tx: Tx, e: Any) -> None:
        task = str(e.originator_id)
        at = ts(e.timestamp)
        match e:
            case GridRegistered():
                tx.execute(self.sql("INSERT INTO {grids} VALUES (?, ?, ?, ?, ?, 0)"),
                           (task, e.district, e.street, e.community, e.name))
            case GridRetired():
                tx.execute(self.sql("UPDATE {grids} SET retired = 1 WHERE grid_id = ?"), (task,))
            case TaskPublished():
                tx.execute(self.sql("INSERT INTO {tasks} VALUES (?, ?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, ?, NULL, ?)"),
                           (task, str(e.grid_id), e.district, e.kind, e.rate_code,
                            str(e.source_clue_id) if e.source_clue_id else None, at, at))
            case TaskClaimed():
                self._set(tx, task, at, status="claimed", claimant=str(e.rider_id), claimed_at=at,
                          expires_at=ts(e.expires_at))
            case ClaimReleased():
                self._set(tx, task, at, status="open", claimant=None, claimed_at=None, expires_at=None)
            case TaskCompleted():
                self._set(tx, task, at, status="awaiting_verification", expires_at=None, completed_at=at)
            case CompletionVerified():
                self._set(tx, task, at, status="verified")
            case CompletionRejected():
                self._set(tx, task, at, status="claimed", expires_at=ts(e.expires_at), completed_at=None)
            case TaskCancelled():
                self._set(tx, task, at, status="cancelled", claimant=None, expires_at=None)

    def _set(self, tx: Tx, task: str, at: str, **columns: Any) -> None:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        tx.execute(self.sql(f"UPDATE {{tasks}} SET {assignments}, updated_at = ? WHERE task_id = ?"),
                   (*columns.values(), at, task))


# --- queries -------------------------------------------------------------------------

@dataclass(frozen=True)
class BoardQuery:
    district: str | None = None
    grid_id: str | None = None
    status: str | None = None
    kind: str | None = None
    after: str | None = None  # cursor: the last task_id of the previous page
    limit: int = 100


# A claim past its expiry is open again, whether or not the sweep has said so yet.
EFFECTIVE_STATUS = "CASE WHEN status = 'claimed' AND expires_at <= ? THEN 'open' ELSE status END"


def board(store: ReadStore, query: BoardQuery, now: datetime) -> dict[str, Any]:
    t = Board().t
    where, params = ["1 = 1"], []
    for column, value in (("district", query.district), ("grid_id", query.grid_id), ("kind", query.kind)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    status_where = list(where)
    status_params = list(params)
    if query.status is not None:
        where.append(f"{EFFECTIVE_STATUS} = ?")
        params += [ts(now), query.status]
    if query.after is not None:
        where.append("task_id > ?")
        params.append(query.after)
    rows = store.read(
        f"SELECT task_id, grid_id, district, kind, rate_code, source_clue_id, {EFFECTIVE_STATUS}, claimant, "
        f"expires_at, published_at FROM {t['tasks']} WHERE {' AND '.join(where)} ORDER BY task_id LIMIT ?",
        (ts(now), *params, query.limit))
    counts = store.read(f"SELECT {EFFECTIVE_STATUS} AS s, COUNT(*) FROM {t['tasks']} "
                        f"WHERE {' AND '.join(status_where)} GROUP BY s ORDER BY s", (ts(now), *status_params))
    tasks = [dict(zip(("task_id", "grid_id", "district", "kind", "rate_code", "source_clue_id", "status",
                       "claimant", "expires_at", "published_at"), row)) for row in rows]
    for task in tasks:
        if task["status"] == "open":
            task["claimant"] = task["expires_at"] = None
        task["age_s"] = int((now - datetime.fromisoformat(task["published_at"])).total_seconds())
    return {"tasks": tasks, "counts": {status: count for status, count in counts},
            "next": tasks[-1]["task_id"] if len(tasks) == query.limit else None}
