"""The grid-task board: what is open, claimed and awaiting verification, per grid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

import orjson

from domain.grids import GridRegistered, GridRetired
from domain.places import DistrictBoundarySet, GridBoundaryCleared, GridBoundarySet
from domain.tasks import (ClaimReleased, CompletionRejected, CompletionVerified, TaskCancelled, TaskClaimed,
                          TaskCompleted, TaskPublished)
from projections.base import Projection
from projections.facts import Fact, ts, ts_text
from projections.filters import conditions
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE, INT = "TEXT NOT NULL", "TEXT", "INTEGER NOT NULL"
PLACES = frozenset({"DistrictBoundarySet", "GridBoundarySet", "GridBoundaryCleared"})


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class Board(Projection):
    name = "board"
    weight = 0.5
    by_stream = True  # a grid's row by its own events, a task's by its own
    handles = (GridRegistered, GridRetired, DistrictBoundarySet, GridBoundarySet, GridBoundaryCleared, TaskPublished, TaskClaimed, ClaimReleased, TaskCompleted,
               CompletionVerified, CompletionRejected, TaskCancelled)
    tables = {
        "grids": Table({"grid_id": TEXT, "district": TEXT, "street": TEXT, "community": TEXT, "name": TEXT,
                        "retired": INT}, key=("grid_id",)),
        # Where grids and districts lie (GeoJSON Polygons as text), written by the district map's stream alone;
        # a cleared grid's boundary is NULL.
        "boundaries": Table({"grid_id": TEXT, "district": TEXT, "boundary": NULLABLE}, key=("grid_id",)),
        "district_boundaries": Table({"district": TEXT, "boundary": TEXT}, key=("district",)),
        "tasks": Table({"task_id": TEXT, "grid_id": TEXT, "district": TEXT, "kind": TEXT, "rate_code": TEXT,
                        "source_clue_id": NULLABLE, "status": TEXT, "claimant": NULLABLE, "claimed_at": NULLABLE,
                        "expires_at": NULLABLE, "published_at": TEXT, "completed_at": NULLABLE,
                        "updated_at": TEXT}, key=("task_id",)),
        # What the rider said and showed when it said the work was done (the latest time): the officer verifies from
        # it. A table of its own, so a read model made before it only lacks it (made empty, refilled by a rebuild).
        "completions": Table({"task_id": TEXT, "note": TEXT, "evidence": TEXT}, key=("task_id",)),
        # When a task is due, for the tasks given a due time (Open311's expected_datetime); its own table for the
        # same reason as completions.
        "dues": Table({"task_id": TEXT, "due": TEXT}, key=("task_id",)),
    }
    indexes = {"tasks": ("district, status", "grid_id, status", "claimant")}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        if fact.type in PLACES:
            return []  # whole rows put, none read
        table = "grids" if fact.type.startswith("Grid") else "tasks"
        if fact.type == "TaskCompleted":
            return [(table, (fact.stream,)), ("completions", (fact.stream,))]
        return [(table, (fact.stream,))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d, task, at = fact.data, (fact.stream,), fact.at
        match fact.type:
            case "GridRegistered":
                rows.put("grids", {"grid_id": fact.stream, "district": d["district"], "street": d["street"],
                                   "community": d["community"], "name": d["name"], "retired": 0})
            case "GridRetired":
                rows.update("grids", task, retired=1)
            case "DistrictBoundarySet":
                rows.put("district_boundaries", {"district": d["district"], "boundary": _json(d["boundary"])})
            case "GridBoundarySet" | "GridBoundaryCleared":
                boundary = _json(d["boundary"]) if fact.type == "GridBoundarySet" else None
                rows.put("boundaries", {"grid_id": d["grid_id"], "district": d["district"], "boundary": boundary})
            case "TaskPublished":
                rows.put("tasks", {"task_id": fact.stream, "grid_id": d["grid_id"], "district": d["district"],
                                   "kind": d["kind"], "rate_code": d["rate_code"],
                                   "source_clue_id": d["source_clue_id"], "status": "open", "claimant": None,
                                   "claimed_at": None, "expires_at": None, "published_at": at,
                                   "completed_at": None, "updated_at": at})
                if d.get("due") is not None:
                    rows.put("dues", {"task_id": fact.stream, "due": ts_text(d["due"])})
            case "TaskClaimed":
                rows.update("tasks", task, status="claimed", claimant=d["rider_id"], claimed_at=at,
                            expires_at=ts_text(d["expires_at"]), updated_at=at)
            case "ClaimReleased":
                rows.update("tasks", task, status="open", claimant=None, claimed_at=None, expires_at=None,
                            updated_at=at)
            case "TaskCompleted":
                rows.update("tasks", task, status="awaiting_verification", expires_at=None, completed_at=at,
                            updated_at=at)
                rows.put("completions", {"task_id": fact.stream, "note": d.get("note", ""),
                                         "evidence": orjson.dumps(d.get("evidence_hashes", [])).decode()})
            case "CompletionVerified":
                rows.update("tasks", task, status="verified", updated_at=at)
            case "CompletionRejected":
                rows.update("tasks", task, status="claimed", expires_at=ts_text(d["expires_at"]),
                            completed_at=None, updated_at=at)
            case "TaskCancelled":
                rows.update("tasks", task, status="cancelled", claimant=None, expires_at=None, updated_at=at)


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
    names = Board().table_names
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
        where.append("t.task_id > ?")
        params.append(query.after)
    rows = store.read(
        f"SELECT t.task_id, grid_id, district, kind, rate_code, source_clue_id, {EFFECTIVE_STATUS}, claimant, "
        f"expires_at, published_at, c.note, c.evidence FROM {names['tasks']} t "
        f"LEFT JOIN {names['completions']} c ON c.task_id = t.task_id "
        f"WHERE {' AND '.join(where)} ORDER BY t.task_id LIMIT ?",
        (ts(now), *params, query.limit))
    counts = store.read(f"SELECT {EFFECTIVE_STATUS} AS s, COUNT(*) FROM {names['tasks']} "
                        f"WHERE {' AND '.join(status_where)} GROUP BY s ORDER BY s", (ts(now), *status_params))
    tasks = [_with_completion(dict(zip(("task_id", "grid_id", "district", "kind", "rate_code", "source_clue_id",
                                        "status", "claimant", "expires_at", "published_at"), row)), *row[-2:])
             for row in rows]
    for task in tasks:
        if task["status"] == "open":
            task["claimant"] = task["expires_at"] = None
        task["age_s"] = int((now - datetime.fromisoformat(task["published_at"])).total_seconds())
    return {"tasks": tasks, "counts": {status: count for status, count in counts},
            "next": tasks[-1]["task_id"] if len(tasks) == query.limit else None}


def _with_completion(task: dict[str, Any], note: str | None, evidence: str | None) -> dict[str, Any]:
    """The task with what its rider said and showed when done — while that is what stands (awaiting verification,
    or verified); a rejected completion no longer does."""
    standing = task["status"] in ("awaiting_verification", "verified") and evidence is not None
    task["completion_note"] = note if standing else None
    task["completion_evidence"] = orjson.loads(evidence) if standing else []
    return task


def rider_tasks(store: ReadStore, rider_id: str, now: datetime, districts: set[str] | None = None,
                grids: set[str] | None = None) -> dict[str, Any]:
    """The tasks a rider holds or did (its claim lapsed: no longer its), within `districts`/`grids` when named."""
    names = Board().table_names
    sql, params = conditions({"claimant": rider_id}, {"district": districts, "grid_id": grids})
    rows = store.read(f"SELECT t.task_id, grid_id, district, kind, rate_code, source_clue_id, {EFFECTIVE_STATUS}, "
                      f"expires_at, published_at, completed_at, c.note, c.evidence FROM {names['tasks']} t "
                      f"LEFT JOIN {names['completions']} c ON c.task_id = t.task_id WHERE {sql} "
                      "ORDER BY published_at, t.task_id", (ts(now), *params))
    tasks = [_with_completion(dict(zip(("task_id", "grid_id", "district", "kind", "rate_code", "source_clue_id",
                                        "status", "expires_at", "published_at", "completed_at"), row)), *row[-2:])
             for row in rows]
    return {"rider_id": rider_id, "tasks": [task for task in tasks if task["status"] != "open"]}


def district_grids(store: ReadStore, district: str, grids: set[str] | None = None) -> list[dict[str, Any]]:
    """A district's grids by name (only `grids` when named: an officer's own)."""
    sql, params = conditions({"district": district}, {"grid_id": grids})
    rows = store.read(f"SELECT grid_id, district, street, community, name, retired FROM {Board().table_names['grids']} "
                      f"WHERE {sql} ORDER BY street, community, name", params)
    return [{"grid_id": g, "district": d, "street": s, "community": c, "name": n, "retired": bool(r)}
            for g, d, s, c, n, r in rows]


def open_tasks(store: ReadStore, grids: set[str], now: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """The tasks open in `grids` now (a lapsed claim is open again), newest first."""
    sql, params = conditions({}, {"grid_id": grids})
    rows = store.read(f"SELECT task_id, grid_id, district, kind, rate_code, source_clue_id, published_at "
                      f"FROM {Board().table_names['tasks']} WHERE {sql} AND {EFFECTIVE_STATUS} = 'open' "
                      "ORDER BY published_at DESC LIMIT ?", (*params, ts(now), limit))
    return [dict(zip(("task_id", "grid_id", "district", "kind", "rate_code", "source_clue_id", "published_at"), row))
            for row in rows]


def district_places(store: ReadStore, district: str, grids: set[str] | None = None) -> dict[str, Any]:
    """The district's boundary (None if undrawn) and its active grids (only `grids` when named: an officer's
    own), each with its boundary or None."""
    names = Board().table_names
    drawn = store.read(f"SELECT boundary FROM {names['district_boundaries']} WHERE district = ?", (district,))
    sql, params = conditions({"g.district": district, "g.retired": 0}, {"g.grid_id": grids})
    rows = store.read(f"SELECT g.grid_id, g.street, g.community, g.name, b.boundary FROM {names['grids']} g "
                      f"LEFT JOIN {names['boundaries']} b ON b.grid_id = g.grid_id WHERE {sql} "
                      "ORDER BY g.street, g.community, g.name, g.grid_id", params)
    return {"district": district, "boundary": orjson.loads(drawn[0][0]) if drawn else None,
            "grids": [{"grid_id": g, "street": s, "community": c, "name": n,
                       "boundary": orjson.loads(b) if b else None} for g, s, c, n, b in rows]}


def grid_district(store: ReadStore, grid_id: str) -> str | None:
    """The district a grid is in (None: no such grid): what a grid's reads are scoped by."""
    rows = store.read(f"SELECT district FROM {Board().table_names['grids']} WHERE grid_id = ?", (grid_id,))
    return rows[0][0] if rows else None


def lapsed_claims(store: ReadStore, now: datetime) -> list[str]:
    """The tasks still claimed whose claim ran out by `now`, by id: the sweep releases them."""
    rows = store.read(f"SELECT task_id FROM {Board().table_names['tasks']} WHERE status = 'claimed' AND expires_at <= ? "
                      "ORDER BY task_id", (ts(now),))
    return [task for task, in rows]
