"""Clues as officers triage them and riders follow them: one row per clue, with
its status, the duplicates it was offered, and the links made to and from it."""

from __future__ import annotations

from typing import Any

import orjson

from domain.clues import (ClueAccepted, ClueClosed, ClueGridAssigned, ClueMarkedDuplicate, ClueRejected,
                          ClueReported, DuplicateLinked)
from projections.base import Projection
from projections.facts import Fact
from projections.filters import conditions
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE = "TEXT NOT NULL", "TEXT"
# grid_id is NULL for a clue whose location fell in no grid (its district's admins' queue) until they accept it.
COLUMNS = {"clue_id": TEXT, "district": TEXT, "grid_id": NULLABLE, "reporter_id": TEXT, "category": TEXT, "text": TEXT,
           "location": TEXT, "evidence_hashes": TEXT, "candidates": TEXT, "status": TEXT,
           "duplicate_of": NULLABLE, "duplicates": TEXT, "task_id": NULLABLE, "reason": NULLABLE,
           "reported_at": TEXT, "updated_at": TEXT}
JSON_COLUMNS = ("location", "evidence_hashes", "candidates", "duplicates")


class Clues(Projection):
    name = "clues"
    weight = 0.2
    by_stream = True  # a clue's row by its own events (the original's end of a link is on its own stream)
    handles = (ClueReported, ClueMarkedDuplicate, DuplicateLinked, ClueGridAssigned, ClueAccepted, ClueRejected,
               ClueClosed)
    tables = {"clues": Table(COLUMNS, key=("clue_id",))}
    indexes = {"clues": ("grid_id, status", "district, status", "reporter_id")}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [] if fact.type == "ClueReported" else [("clues", (fact.stream,))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d, key, at = fact.data, (fact.stream,), fact.at
        match fact.type:
            case "ClueReported":
                rows.put("clues", {
                    "clue_id": fact.stream, "district": d["district"], "grid_id": d["grid_id"],
                    "reporter_id": d["reporter_id"], "category": d["category"], "text": d["text"],
                    "location": _json(d["location"]), "evidence_hashes": _json(d.get("evidence_hashes", [])),
                    "candidates": _json(d.get("duplicate_candidates", [])), "status": "reported",
                    "duplicate_of": None, "duplicates": "[]", "task_id": None, "reason": None,
                    "reported_at": at, "updated_at": at})
            case "ClueMarkedDuplicate":
                rows.update("clues", key, status="duplicate", duplicate_of=d["of_clue_id"], updated_at=at)
            case "DuplicateLinked":
                clue = rows.get("clues", *key)
                assert clue is not None
                rows.update("clues", key, duplicates=_json([*orjson.loads(clue["duplicates"]), d["duplicate_id"]]),
                            updated_at=at)
            case "ClueGridAssigned":
                rows.update("clues", key, grid_id=d["grid_id"], updated_at=at)
            case "ClueAccepted":
                rows.update("clues", key, status="accepted", task_id=d["task_id"], updated_at=at)
            case "ClueRejected":
                rows.update("clues", key, status="rejected", reason=d["reason"], updated_at=at)
            case "ClueClosed":
                rows.update("clues", key, status="closed", reason=d["reason"], updated_at=at)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


# --- queries -------------------------------------------------------------------------

def _clues(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    clues = [dict(zip(COLUMNS, row)) for row in rows]
    for clue in clues:
        for column in JSON_COLUMNS:
            clue[column] = orjson.loads(clue[column])
    return clues


def clue(store: ReadStore, clue_id: str) -> dict[str, Any] | None:
    found = _clues(store.read(f"SELECT {', '.join(COLUMNS)} FROM {Clues().table_names['clues']} WHERE clue_id = ?",
                              (clue_id,)))
    return found[0] if found else None


def clues_where(store: ReadStore, *, grid_id: str | None = None, reporter_id: str | None = None,
                status: str | None = None, districts: set[str] | None = None, grids: set[str] | None = None,
                after: str | None = None, limit: int = 100, in_no_grid: bool = False) -> dict[str, Any]:
    """A page of clues, oldest first by id order of reporting time, within `districts`/`grids` when named;
    `in_no_grid`: only those whose location fell in no grid (a district admins' queue)."""
    sql, params = conditions({"grid_id": grid_id, "reporter_id": reporter_id, "status": status},
                        {"district": districts, "grid_id": grids})
    if in_no_grid:
        sql += " AND grid_id IS NULL"
    if after is not None:
        sql, params = sql + " AND clue_id > ?", [*params, after]
    found = _clues(store.read(f"SELECT {', '.join(COLUMNS)} FROM {Clues().table_names['clues']} WHERE {sql} "
                              "ORDER BY clue_id LIMIT ?", (*params, limit)))
    return {"clues": found, "next": found[-1]["clue_id"] if len(found) == limit else None}


def clue_points(store: ReadStore, district: str, grids: set[str] | None = None, since: str | None = None,
                limit: int = 5000) -> list[dict[str, Any]]:
    """Where a district's clues were reported (newest first, from `since`, a UTC time):
    what the clue map draws. Only `grids` when named."""
    sql, params = conditions({"district": district}, {"grid_id": grids})
    if since is not None:
        sql, params = sql + " AND reported_at >= ?", [*params, since]
    rows = store.read(f"SELECT clue_id, grid_id, category, status, location, reported_at FROM "
                      f"{Clues().table_names['clues']} WHERE {sql} ORDER BY reported_at DESC LIMIT ?", (*params, limit))
    points = []
    for clue_id, grid_id, category, status, location, reported_at in rows:
        where = orjson.loads(location)
        points.append({"clue_id": clue_id, "grid_id": grid_id, "category": category, "status": status,
                       "lat": where["lat"], "lon": where["lon"], "reported_at": reported_at})
    return points


def locations(store: ReadStore, clue_ids: list[str]) -> dict[str, dict[str, float]]:
    """Where each of these clues was reported, by clue id (a task takes its place from its clue)."""
    found: dict[str, dict[str, float]] = {}
    for start in range(0, len(clue_ids), 500):
        chunk = clue_ids[start:start + 500]
        rows = store.read(f"SELECT clue_id, location FROM {Clues().table_names['clues']} "
                          f"WHERE clue_id IN ({', '.join('?' * len(chunk))})", chunk)
        found.update({clue_id: orjson.loads(location) for clue_id, location in rows})
    return found


OPEN = ("reported", "accepted")  # not yet closed, rejected or marked a duplicate


def open_counts(store: ReadStore, district: str) -> dict[str | None, int]:
    """The district's open clues per grid; under None, those in no grid (its admins' queue)."""
    rows = store.read(f"SELECT grid_id, COUNT(*) FROM {Clues().table_names['clues']} WHERE district = ? AND status IN "
                      f"({', '.join('?' * len(OPEN))}) GROUP BY grid_id", (district, *OPEN))
    return {grid_id: count for grid_id, count in rows}
