"""The audit trail: every step of every award's story, with who did it, in what
role, when, and under which rate version — for district political-legal
committees (区委政法委).

Each row is written only by events of its own stream, and the chain of an award
is joined when it is read; so the trail converges whatever order streams arrive
in (Kafka keeps each stream's order, nothing more).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable
from uuid import UUID

import orjson

from domain.appeals import AppealAssigned, AppealDecided, AppealFiled, AppealNoted
from domain.clues import ClueAccepted, ClueClosed, ClueMarkedDuplicate, ClueRejected, ClueReported, DuplicateLinked
from domain.rates import RateScheduleIssued
from domain.subsidies import AwardReinstated, PayoutSettled, SubsidyAwarded, SubsidyCapped, SubsidyReversed
from domain.tasks import (ClaimReleased, CompletionRejected, CompletionVerified, TaskCancelled, TaskClaimed,
                          TaskCompleted, TaskPublished)
from projections.base import Projection, detail
from projections.board import Board
from projections.clues import Clues
from projections.facts import Fact, ts
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

CLUE_EVENTS = (ClueReported, ClueMarkedDuplicate, DuplicateLinked, ClueAccepted, ClueRejected, ClueClosed)
TASK_EVENTS = (TaskPublished, TaskClaimed, ClaimReleased, TaskCompleted, CompletionVerified, CompletionRejected,
               TaskCancelled)
LEDGER_EVENTS = (SubsidyAwarded, SubsidyCapped, SubsidyReversed, AwardReinstated, PayoutSettled)
APPEAL_EVENTS = (AppealFiled, AppealAssigned, AppealNoted, AppealDecided)
# The kinds of step the trail keeps (what a history may be narrowed to).
AUDITED = frozenset(cls.__name__ for cls in (*CLUE_EVENTS, *TASK_EVENTS, *LEDGER_EVENTS, *APPEAL_EVENTS,
                                             RateScheduleIssued))


TEXT, NULLABLE = "TEXT NOT NULL", "TEXT"
PIECE_ROWS = "subject_id <> stream_id"
PIECE_EVENTS = {"SubsidyAwarded", "SubsidyCapped", "SubsidyReversed", "AwardReinstated"}
# Name a piece of their account, not a district.
PIECE_STEPS = {"SubsidyCapped", "SubsidyReversed", "AwardReinstated"}


class Audit(Projection):
    name = "audit"
    weight = 1.9
    by_stream = True  # steps, districts, pieces and links are each written by their own stream's events
    handles = (*CLUE_EVENTS, *TASK_EVENTS, *LEDGER_EVENTS, *APPEAL_EVENTS, RateScheduleIssued)
    tables = {
        "steps": Table({"stream_id": TEXT, "version": "BIGINT NOT NULL", "subject_id": TEXT, "kind": TEXT,
                        "district": NULLABLE, "actor_id": TEXT, "actor_role": TEXT, "at": TEXT,
                        "correlation_id": TEXT, "detail": TEXT}, key=("stream_id", "version"), append_only=True),
        # The first event of a stream names its district; later ones inherit it.
        "districts": Table({"stream_id": TEXT, "district": TEXT}, key=("stream_id",)),
        # Except in a subsidy account, the rider's month in any district: a cap or a
        # reversal belongs to the district of its piece's award.
        "pieces": Table({"stream_id": TEXT, "piece_id": TEXT, "district": TEXT}, key=("stream_id", "piece_id")),
        "links": Table({"task_id": TEXT, "clue_id": TEXT}, key=("task_id",)),
    }
    # A step is about its own stream, except an award, cap or reversal (about its piece,
    # in the account's stream): only those few need an index by subject. Queries by
    # subject say PIECE_ROWS too, so that SQLite and PostgreSQL use it.
    indexes = {"steps": (f"subject_id WHERE {PIECE_ROWS}", "district, at")}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        # A stream's first event can find nothing of its stream: no lookup
        # (that is a third of the audit events, and each a B-tree walk).
        stream = [] if fact.version == 1 else [("districts", (fact.stream,))]
        if fact.type in PIECE_STEPS:
            return [("pieces", (fact.stream, fact.data["piece_id"])), *stream]
        return stream

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        district = d.get("district")
        first = fact.version == 1
        if fact.type in PIECE_STEPS:
            # An award made before this version kept pieces is not there (until a
            # rebuild): the account's district, as before.
            award = rows.get("pieces", fact.stream, d["piece_id"]) or rows.get("districts", fact.stream)
            district = award["district"] if award else None
        elif district is not None:
            if first or rows.get("districts", fact.stream) is None:
                rows.put("districts", {"stream_id": fact.stream, "district": district})
            if fact.type == "SubsidyAwarded":
                rows.put("pieces", {"stream_id": fact.stream, "piece_id": d["piece_id"], "district": district})
        else:
            known = None if first else rows.get("districts", fact.stream)
            district = known["district"] if known else None
        if fact.type == "TaskPublished" and d.get("source_clue_id"):
            rows.put("links", {"task_id": fact.stream, "clue_id": d["source_clue_id"]})
        meta = d["meta"]
        rows.add("steps", {"stream_id": fact.stream, "version": fact.version,
                           "subject_id": d["piece_id"] if fact.type in PIECE_EVENTS else fact.stream,
                           "kind": fact.type, "district": district, "actor_id": meta["actor"]["id"],
                           "actor_role": meta["actor"]["role"], "at": fact.at,
                           "correlation_id": meta["correlation_id"],
                           "detail": orjson.dumps(detail(d), option=orjson.OPT_SORT_KEYS).decode()})


# --- queries -------------------------------------------------------------------------

STEP_COLUMNS = ("stream_id", "version", "subject_id", "kind", "district", "actor_id", "actor_role", "at",
                "correlation_id", "detail")


def _steps(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    steps = [dict(zip(STEP_COLUMNS, row)) for row in rows]
    for step in steps:
        step["detail"] = orjson.loads(step["detail"])
    return steps


CHUNK = 500  # ids per `IN` list: well inside both databases' limits on parameters


def award_chain(store: ReadStore, piece_id: str, districts: set[str] | None = None) -> dict[str, Any] | None:
    """clue → task → claim → completion → verification → award → payout or reversal,
    each step with actor, role and time; None if the piece is unknown (or outside
    `districts`, for an auditor scoped to some)."""
    return award_chains(store, [piece_id], districts).get(piece_id)


def award_chains(store: ReadStore, piece_ids: list[str], districts: set[str] | None = None) -> dict[str, Any]:
    """`award_chain` of many pieces at once, in a few queries per CHUNK of them."""
    chains: dict[str, Any] = {}
    for start in range(0, len(piece_ids), CHUNK):
        chains.update(_chains(store, piece_ids[start:start + CHUNK], districts))
    return chains


def _chains(store: ReadStore, pieces: list[str], districts: set[str] | None) -> dict[str, Any]:
    a = Audit()
    cols = ", ".join(STEP_COLUMNS)

    def steps_where(condition: str, ids: Any) -> list[dict[str, Any]]:
        ids = sorted(set(ids))
        if not ids:
            return []
        return _steps(store.read(f"SELECT {cols} FROM {a.table_names['steps']} WHERE "
                                 + condition.format(ids=", ".join("?" * len(ids))), ids))

    awards = {s["subject_id"]: s for s in steps_where(f"subject_id IN ({{ids}}) AND {PIECE_ROWS} "
                                                      "AND kind = 'SubsidyAwarded'", pieces)
              if districts is None or s["district"] in districts}
    if not awards:
        return {}
    marks = ", ".join("?" * len(awards))
    links = dict(store.read(f"SELECT task_id, clue_id FROM {a.table_names['links']} WHERE task_id IN ({marks})",
                            sorted(awards)))
    # A remedy's piece is its appeal: each stream once.
    subjects = {piece: list(dict.fromkeys(s for s in (piece, links.get(piece), award["detail"].get("appeal_id"))
                                          if s))
                for piece, award in awards.items()}
    # The steps of the task's, the clue's and the appeal's own streams, and of the piece
    # in its account: by the key's index and the pieces' one.
    own = _grouped(steps_where("stream_id IN ({ids})", (s for ids in subjects.values() for s in ids)), "stream_id")
    in_account = _grouped(steps_where(f"subject_id IN ({{ids}}) AND {PIECE_ROWS}", awards), "subject_id")
    # Payouts of the award's district in its month (a payout settles one district's money).
    payouts = _grouped(steps_where("stream_id IN ({ids}) AND kind = 'PayoutSettled'",
                                   (award["stream_id"] for award in awards.values())), "stream_id")
    chains = {}
    for piece, award in awards.items():
        steps = [s for subject in subjects[piece] for s in own.get(subject, ())] + in_account.get(piece, [])
        paid = [p for p in payouts.get(award["stream_id"], ())
                if p["district"] == award["district"] and p["at"] >= award["at"]]
        chains[piece] = {"piece_id": piece, "clue_id": links.get(piece), "district": award["district"],
                         "rate_version": award["detail"].get("rate_version"),
                         "steps": sorted(steps, key=lambda s: (s["at"], s["stream_id"], s["version"])),
                         "payouts": sorted(paid, key=lambda s: (s["at"], s["version"]))}
    return chains


def log_order(step: dict[str, Any]) -> tuple[Any, ...]:
    """A step's place in the event log, once `TransparencyLog.place` has given it its
    position. The read model cannot know it: one command's events share an instant,
    and within it the streams' ids say nothing of which came first."""
    position = step.get("position")
    return (position is None, position or 0, step["at"], step["stream_id"], step["version"])


def in_log_order(steps: list[dict[str, Any]],
                 positions_of: Callable[[list[tuple[UUID, int]]], dict[tuple[UUID, int], int]]) -> list[dict[str, Any]]:
    """Steps read in (at, stream, version) order, each instant's in the log's order (`positions_of`:
    the event log's); the instants keep their order, so a page's cursor still holds."""
    keys = [(UUID(step["stream_id"]), int(step["version"])) for step in steps]
    where = positions_of(keys)
    placed = sorted(zip(steps, keys), key=lambda pair: (pair[0]["at"], where.get(pair[1], 0)))
    return [step for step, _ in placed]


def _grouped(steps: list[dict[str, Any]], by: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        groups.setdefault(step[by], []).append(step)
    return groups


def district_awards(store: ReadStore, district: str, since: str, until: str) -> list[str]:
    """The pieces awarded in `district` from UTC text `since` to before `until`, oldest first."""
    return [piece for (piece,) in store.read(
        f"SELECT subject_id FROM {Audit().table_names['steps']} WHERE district = ? AND at >= ? AND at < ? "
        f"AND kind = 'SubsidyAwarded' AND {PIECE_ROWS} ORDER BY at, stream_id, version", (district, since, until))]


@dataclass(frozen=True)
class HistoryFilter:
    """Which of a district's steps an auditor asks for; every field narrows."""

    kinds: tuple[str, ...] = ()  # event types
    rider: str | None = None  # a rider's id: the steps it took and the steps about it
    grid: str | None = None  # the steps of the grid's clues and tasks, and of their awards
    since: str | None = None  # UTC text, inclusive
    until: str | None = None  # UTC text, exclusive


def district_history(store: ReadStore, district: str, after: tuple[str, str, int] | None = None,
                     limit: int = 100, only: HistoryFilter = HistoryFilter()) -> list[dict[str, Any]]:
    """Every step in a district (those `only` names), oldest first, paged by (at, stream, version)."""
    a = Audit()
    sql = f"SELECT {', '.join(STEP_COLUMNS)} FROM {a.table_names['steps']} WHERE district = ?"
    params: list[Any] = [district]
    if after is not None:
        sql += " AND (at > ? OR (at = ? AND (stream_id > ? OR (stream_id = ? AND version > ?))))"
        params += [after[0], after[0], after[1], after[1], after[2]]
    if only.kinds:
        sql += f" AND kind IN ({', '.join('?' * len(only.kinds))})"
        params += only.kinds
    if only.since is not None:
        sql, params = sql + " AND at >= ?", [*params, only.since]
    if only.until is not None:
        sql, params = sql + " AND at < ?", [*params, only.until]
    if only.rider is not None:
        # The rider acted, or is named in what was done (detail is JSON with sorted keys and no spaces).
        sql += " AND (actor_id = ? OR detail LIKE ? OR detail LIKE ?)"
        params += [only.rider, f'%"rider_id":"{only.rider}"%', f'%"reporter_id":"{only.rider}"%']
    if only.grid is not None:
        # A grid's things are its clues and tasks; an award's subject is its task. The board
        # and clue read models say which are the grid's (they may trail this one a little).
        sql += (f" AND (subject_id IN (SELECT task_id FROM {Board().table_names['tasks']} WHERE grid_id = ?)"
                f" OR subject_id IN (SELECT clue_id FROM {Clues().table_names['clues']} WHERE grid_id = ?))")
        params += [only.grid, only.grid]
    return _steps(store.read(sql + " ORDER BY at, stream_id, version LIMIT ?", (*params, limit)))


def district_history_page(store: ReadStore, district: str, after: tuple[str, str, int] | None = None,
                          limit: int = 100, only: HistoryFilter = HistoryFilter()
                          ) -> tuple[list[dict[str, Any]], tuple[str, str, int] | None]:
    """A page of `district_history` that ends with a whole instant (one command's steps share
    one), so that each instant can be put in the log's order within a page (`in_log_order`)
    and pages still join up; and the cursor after it (None at the end)."""
    steps = district_history(store, district, after, limit, only)
    if len(steps) < limit:
        return steps, None
    last = steps[-1]
    end = datetime.fromisoformat(last["at"].replace("Z", "+00:00")) + timedelta(microseconds=1)
    instant = replace(only, since=max(only.since or last["at"], last["at"]), until=min(only.until or ts(end), ts(end)))
    while True:  # the rest of the last instant: a few steps, a command's
        key = (last["at"], last["stream_id"], last["version"])
        more = district_history(store, district, key, limit, instant)
        steps += more
        if len(more) < limit:
            last = steps[-1]
            return steps, (last["at"], last["stream_id"], last["version"])
        last = more[-1]
