"""Appeals (申诉) as the district handles them: one row per appeal with its
subject, status, assignee, notes and decision."""

from __future__ import annotations

from typing import Any

import orjson

from domain.appeals import AppealAssigned, AppealDecided, AppealFiled, AppealNoted
from projections.base import Projection
from projections.facts import Fact
from projections.filters import conditions
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE = "TEXT NOT NULL", "TEXT"
COLUMNS = {"appeal_id": TEXT, "rider_id": TEXT, "district": TEXT, "subject": TEXT, "text": TEXT, "status": TEXT,
           "assignee": NULLABLE, "notes": "BIGINT NOT NULL", "outcome": NULLABLE, "remedy": NULLABLE,
           "reason": NULLABLE, "filed_at": TEXT, "decided_at": NULLABLE, "updated_at": TEXT}
NOTE_COLUMNS = {"appeal_id": TEXT, "version": "BIGINT NOT NULL", "district": TEXT, "author_id": TEXT,
                "author_role": TEXT, "text": TEXT, "at": TEXT}
STATUSES = ("filed", "assigned", "decided")


class Appeals(Projection):
    name = "appeals"
    weight = 0.05
    by_stream = True  # an appeal's row by its own events
    handles = (AppealFiled, AppealAssigned, AppealNoted, AppealDecided)
    # The notes of an appeal's file, each with its author and time (a table of its own: a read model made
    # before it gets it empty, and a rebuild fills it).
    tables = {"appeals": Table(COLUMNS, key=("appeal_id",)),
              "notes": Table(NOTE_COLUMNS, key=("appeal_id", "version"), append_only=True)}
    indexes = {"appeals": ("district, status", "rider_id")}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [] if fact.type == "AppealFiled" else [("appeals", (fact.stream,))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d, key, at = fact.data, (fact.stream,), fact.at
        match fact.type:
            case "AppealFiled":
                rows.put("appeals", {
                    "appeal_id": fact.stream, "rider_id": d["rider_id"], "district": d["district"],
                    "subject": orjson.dumps(d["subject"]).decode(), "text": d["text"], "status": "filed",
                    "assignee": None, "notes": 0, "outcome": None, "remedy": None, "reason": None,
                    "filed_at": at, "decided_at": None, "updated_at": at})
            case "AppealAssigned":
                rows.update("appeals", key, status="assigned", assignee=d["assignee_id"], updated_at=at)
            case "AppealNoted":
                appeal = rows.get("appeals", *key)
                assert appeal is not None
                rows.update("appeals", key, notes=appeal["notes"] + 1, updated_at=at)
                rows.add("notes", {"appeal_id": fact.stream, "version": fact.version, "district": appeal["district"],
                                   "author_id": fact.actor["id"], "author_role": fact.actor["role"],
                                   "text": d["text"], "at": at})
            case "AppealDecided":
                rows.update("appeals", key, status="decided", outcome=d["outcome"],
                            remedy=orjson.dumps(d["remedy"]).decode(), reason=d["reason"], decided_at=at,
                            updated_at=at)


# --- queries -------------------------------------------------------------------------

def _appeals(rows: list[tuple[Any, ...]], store: ReadStore | None = None) -> list[dict[str, Any]]:
    """The appeals of `rows`; with `store`, each with the notes of its file (for the district's staff)."""
    appeals = [dict(zip(COLUMNS, row)) for row in rows]
    for appeal in appeals:
        appeal["subject"] = orjson.loads(appeal["subject"])
        appeal["remedy"] = orjson.loads(appeal["remedy"]) if appeal["remedy"] else None
        appeal["note_entries"] = []
    if store is not None and appeals:
        by_id = {a["appeal_id"]: a for a in appeals}
        marks = ", ".join("?" * len(by_id))
        for appeal_id, author_id, author_role, text, at in store.read(
                f"SELECT appeal_id, author_id, author_role, text, at FROM {Appeals().table_names['notes']} "
                f"WHERE appeal_id IN ({marks}) ORDER BY appeal_id, version", tuple(by_id)):
            by_id[appeal_id]["note_entries"].append({"text": text, "author_id": author_id,
                                                     "author_role": author_role, "at": at})
    return appeals


def appeal(store: ReadStore, appeal_id: str, notes: bool = True) -> dict[str, Any] | None:
    """One appeal; with the notes of its file unless `notes` is false (they are the staff's working notes)."""
    found = _appeals(store.read(f"SELECT {', '.join(COLUMNS)} FROM {Appeals().table_names['appeals']} WHERE appeal_id = ?",
                                (appeal_id,)), store if notes else None)
    return found[0] if found else None


def appeals_where(store: ReadStore, *, district: str | None = None, rider_id: str | None = None,
                  status: str | None = None, districts: set[str] | None = None, after: str | None = None,
                  limit: int = 100, notes: bool = False) -> dict[str, Any]:
    sql, params = conditions({"district": district, "rider_id": rider_id, "status": status}, {"district": districts})
    if after is not None:
        sql, params = sql + " AND appeal_id > ?", [*params, after]
    found = _appeals(store.read(f"SELECT {', '.join(COLUMNS)} FROM {Appeals().table_names['appeals']} "
                                f"WHERE {sql} ORDER BY appeal_id LIMIT ?", (*params, limit)), store if notes else None)
    return {"appeals": found, "next": found[-1]["appeal_id"] if len(found) == limit else None}
