"""Open311's service requests, read from the clues and board read models (not a read model of its own):
each clue of a district with its task, the task's due time, and its grid, and the clues a note may name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from projections.board import Board
from projections.clues import Clues

# A request is closed when its clue was rejected, marked a duplicate or closed, or its task was verified or
# cancelled (api/open311/status.py says the same of one request; this is the same rule in SQL, for the filter).
CLOSED_CLUE = ("rejected", "duplicate", "closed")
CLOSED_TASK = ("verified", "cancelled")
CLOSED = (f"(c.status IN ({', '.join('?' * len(CLOSED_CLUE))}) "
          f"OR COALESCE(t.status, '') IN ({', '.join('?' * len(CLOSED_TASK))}))")
COLUMNS = ("clue_id", "district", "grid_id", "category", "text", "location", "evidence_hashes", "candidates",
           "status", "duplicate_of", "task_id", "reason", "reported_at", "updated_at")
TASK_COLUMNS = ("task_status", "claim_expires_at", "task_updated_at", "due", "grid_name", "street", "community")


@dataclass(frozen=True)
class RequestQuery:
    """Which of a district's requests: by id (the rest ignored, as the spec says), else by service, a UTC
    time range of reporting (fixed-width text, as the read models keep times) and open/closed."""

    district: str
    ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    statuses: tuple[str, ...] = ()
    limit: int = 1000


def service_requests(store: Any, query: RequestQuery) -> list[dict[str, Any]]:
    """The district's clues as requests, newest first: each clue's row with its task's status (None: no task),
    when the task's claim lapses, its due time, and its grid's names."""
    clues, board = Clues().table_names, Board().table_names
    where, params = ["c.district = ?"], [query.district]
    if query.ids:
        where.append(f"c.clue_id IN ({', '.join('?' * len(query.ids))})")
        params += query.ids
    else:
        if query.categories:
            where.append(f"c.category IN ({', '.join('?' * len(query.categories))})")
            params += query.categories
        if query.since is not None:
            where.append("c.reported_at >= ?")
            params.append(query.since)
        if query.until is not None:
            where.append("c.reported_at <= ?")
            params.append(query.until)
        if set(query.statuses) == {"closed"}:
            where.append(CLOSED)
            params += [*CLOSED_CLUE, *CLOSED_TASK]
        elif set(query.statuses) == {"open"}:
            where.append(f"NOT {CLOSED}")
            params += [*CLOSED_CLUE, *CLOSED_TASK]
    rows = store.read(
        f"SELECT {', '.join('c.' + column for column in COLUMNS)}, t.status, t.expires_at, t.updated_at, d.due, "
        f"g.name, g.street, g.community FROM {clues['clues']} c "
        f"LEFT JOIN {board['tasks']} t ON t.task_id = c.task_id "
        f"LEFT JOIN {board['dues']} d ON d.task_id = c.task_id "
        f"LEFT JOIN {board['grids']} g ON g.grid_id = c.grid_id "
        f"WHERE {' AND '.join(where)} ORDER BY c.reported_at DESC, c.clue_id DESC LIMIT ?", (*params, query.limit))
    found = []
    for row in rows:
        request = dict(zip(COLUMNS + TASK_COLUMNS, row))
        for column in ("location", "evidence_hashes", "candidates"):
            request[column] = orjson.loads(request[column])
        found.append(request)
    return found


def named_clues(store: Any, district: str, clue_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The clues a note names (a duplicate's original, a likely one), by id: their service and time, within
    the district (one of another is never named)."""
    ids = sorted(clue_ids)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = store.read(f"SELECT clue_id, category, reported_at FROM {Clues().table_names['clues']} "
                          f"WHERE district = ? AND clue_id IN ({', '.join('?' * len(chunk))})", (district, *chunk))
        found.update({clue_id: {"clue_id": clue_id, "category": category, "reported_at": reported_at}
                      for clue_id, category, reported_at in rows})
    return found
