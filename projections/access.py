"""Who looked: the auditors' requests and exports (domain/access.py), one row per
access and district it concerns, for that district's auditors to read. A row's
`parameters` are `{"path": {…}, "query": {…}}`, each as recorded."""

from __future__ import annotations

from typing import Any

import orjson

from domain.access import AuditAccessed
from projections.base import Projection
from projections.facts import Fact
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE = "TEXT NOT NULL", "TEXT"
COLUMNS = {"stream_id": TEXT, "district": TEXT, "actor_id": TEXT, "actor_role": TEXT, "at": TEXT, "what": TEXT,
           "parameters": TEXT, "status": "BIGINT NOT NULL", "checkpoint_size": "BIGINT",
           "checkpoint_root": NULLABLE}


class AccessLog(Projection):
    name = "access"
    weight = 0.02
    by_stream = True  # an access is a stream of one event
    handles = (AuditAccessed,)
    tables = {"accesses": Table(COLUMNS, key=("stream_id", "district"), append_only=True)}
    indexes = {"accesses": ("district, at",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return []

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        actor = d["meta"]["actor"]
        for district in d["districts"]:
            rows.add("accesses", {"stream_id": fact.stream, "district": district, "actor_id": actor["id"],
                                  "actor_role": actor["role"], "at": fact.at, "what": d["what"],
                                  "parameters": orjson.dumps({"path": d["path_parameters"],
                                                              "query": d["query_parameters"]},
                                                             option=orjson.OPT_SORT_KEYS).decode(),
                                  "status": d["status"], "checkpoint_size": d.get("checkpoint_size"),
                                  "checkpoint_root": d.get("checkpoint_root")})


# --- queries -------------------------------------------------------------------------

def district_accesses(store: ReadStore, district: str, after: tuple[str, str] | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
    """A district's accesses, newest first, paged by (at, stream)."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM {AccessLog().table_names['accesses']} WHERE district = ?"
    params: list[Any] = [district]
    if after is not None:
        sql += " AND (at < ? OR (at = ? AND stream_id < ?))"
        params += [after[0], after[0], after[1]]
    rows = store.read(sql + " ORDER BY at DESC, stream_id DESC LIMIT ?", (*params, limit))
    accesses = [dict(zip(COLUMNS, row)) for row in rows]
    for access in accesses:
        access["parameters"] = orjson.loads(access["parameters"])
    return accesses
