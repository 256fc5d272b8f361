"""Open311's status of a clue, for any history of the clue and its task: folded by the clues and board read
models into a store and read back the way the routes read it, a request is `closed` exactly when its clue was
rejected, marked a duplicate or closed, or its task verified or cancelled — told alike by the one request's
status and by the list's open/closed filter — and its notes name no id but the clue it repeats (a duplicate's
or a likely one's service_request_id), no rate code, no event's name, no UTC time."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.open311 import status
from projections.board import Board
from projections.clues import Clues
from projections.engine.projector import Delivery, Projector
from projections.facts import Fact
from projections.open311 import RequestQuery, named_clues, service_requests
from projections.stores import ReadStore
from tests.fixtures.stores import new_store, require_postgres

START = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
RATE_CODE = "rate-zq7"
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVENT_NAMES = ("ClueReported", "ClueAccepted", "TaskPublished", "TaskClaimed", "TaskCompleted", "TaskCancelled",
               "CompletionVerified", "ClueClosed", "ClueRejected", "ClueMarkedDuplicate")
# Where a task goes from each status, and what it is then.
MOVES = {"open": ("claim", "cancel"), "claimed": ("release", "complete", "cancel"),
         "awaiting_verification": ("verify", "reject", "cancel")}
AFTER = {"claim": "claimed", "release": "open", "complete": "awaiting_verification", "verify": "verified",
         "reject": "claimed", "cancel": "cancelled"}
REASONS = st.text(alphabet="不在本网格职责内重复已处理 abc", min_size=1, max_size=20).filter(str.strip)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    triage = draw(st.sampled_from(["none", "rejected", "duplicate", "accepted"]))
    walk: list[str] = []
    task = "open"
    if triage == "accepted":
        for _ in range(draw(st.integers(0, 7))):
            if task not in MOVES:
                break
            move = draw(st.sampled_from(MOVES[task]))
            walk.append(move)
            task = AFTER[move]
    reason = draw(REASONS)
    if draw(st.booleans()):  # an officer's words may hold an id: it must not reach the notes
        reason += f" {uuid.uuid4()}"
    return {"triage": triage, "walk": walk, "task": task if triage == "accepted" else None,
            "likely": draw(st.booleans()), "in_grid": draw(st.booleans()), "lapsed": draw(st.booleans()), "due": draw(st.booleans()),
            "reason": reason, "language": draw(st.sampled_from(["zh", "en"]))}


POSITIONS = itertools.count(1)  # one log for every example of a store: each fact a later position


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def read_store(request: pytest.FixtureRequest) -> Any:
    """The clues and board read models on each backend, shared by the examples (each in a district of its own)."""
    if request.param == "postgres":
        require_postgres()
    store, cleanup = new_store(request.param)
    Projector(store, [Clues(), Board()]).create_tables()
    yield store
    cleanup()


class Told:
    """The facts of one history, as the log would hold them, with their times one minute apart."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self.versions: dict[str, int] = {}
        self.at = START

    def __call__(self, event_type: str, stream: str, /, **data: Any) -> None:
        self.at += timedelta(minutes=1)
        self.versions[stream] = self.versions.get(stream, 0) + 1
        self.facts.append(Fact.of(event_type, stream, self.versions[stream], {**data, "timestamp": self.at.isoformat()}))


def tell(history: dict[str, Any]) -> tuple[Told, dict[str, str]]:
    ids = {name: str(uuid.uuid4()) for name in ("grid", "original", "clue", "task", "rider")}
    ids["district"] = f"温江{ids['grid'][:8]}"
    district = ids["district"]
    told = Told()
    told("GridRegistered", ids["grid"], district=district, street="柳城街道", community="光华社区", name="柳城-1")
    report = {"district": district, "grid_id": ids["grid"], "reporter_id": ids["rider"], "category": "fire_hazard",
              "text": "楼道充电", "location": {"lat": 30.68, "lon": 103.85}, "evidence_hashes": []}
    told("ClueReported", ids["original"], **report, duplicate_candidates=[])
    told("ClueReported", ids["clue"], **{**report, "grid_id": ids["grid"] if history["in_grid"] else None},
         duplicate_candidates=[ids["original"]] if history["likely"] else [])
    reason, clue, task = history["reason"], ids["clue"], ids["task"]
    if history["triage"] == "rejected":
        told("ClueRejected", clue, reason=reason)
    elif history["triage"] == "duplicate":
        told("ClueMarkedDuplicate", clue, of_clue_id=ids["original"])
        told("DuplicateLinked", ids["original"], duplicate_id=clue)
    elif history["triage"] == "accepted":
        if not history["in_grid"]:  # the district's admins give it a grid as they accept it
            told("ClueGridAssigned", clue, grid_id=ids["grid"])
        told("ClueAccepted", clue, task_id=task)
        due = (START + timedelta(days=2)).isoformat() if history["due"] else None
        told("TaskPublished", task, grid_id=ids["grid"], district=district, kind="fire-lane", rate_code=RATE_CODE,
             source_clue_id=clue, claim_ttl_s=3600, due=due)
        for move in history["walk"]:
            expires = (told.at + timedelta(minutes=-1 if history["lapsed"] else 60)).isoformat()
            match move:
                case "claim":
                    told("TaskClaimed", task, rider_id=ids["rider"], expires_at=expires)
                case "release":
                    told("ClaimReleased", task, rider_id=ids["rider"], reason="released")
                case "complete":
                    told("TaskCompleted", task, rider_id=ids["rider"], note="好了", evidence_hashes=[])
                case "reject":
                    told("CompletionRejected", task, reason=reason, expires_at=expires)
                case "verify":
                    told("CompletionVerified", task, rider_id=ids["rider"])
                    told("ClueClosed", clue, reason="task verified")
                case "cancel":
                    told("TaskCancelled", task, reason=reason)
                    told("ClueClosed", clue, reason=f"task cancelled: {reason}")
    return told, ids


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_a_request_is_closed_exactly_when_its_clue_or_task_is_done_and_its_notes_name_no_id(
        read_store: ReadStore, history: dict[str, Any]) -> None:
    told, ids = tell(history)
    district = ids["district"]
    Projector(read_store, [Clues(), Board()]).apply([Delivery(fact, "log", next(POSITIONS)) for fact in told.facts])
    [request] = service_requests(read_store, RequestQuery(district, ids=(ids["clue"],)))
    listed_closed = {r["clue_id"] for r in service_requests(read_store, RequestQuery(district, statuses=("closed",)))}
    listed_open = {r["clue_id"] for r in service_requests(read_store, RequestQuery(district, statuses=("open",)))}
    named = named_clues(read_store, district, {ids["original"]})

    now = told.at + timedelta(seconds=30)
    request = {**request, "task_status": status.task_now(request["task_status"], request["claim_expires_at"], now)}
    expected = history["triage"] in ("rejected", "duplicate") or history["task"] in ("verified", "cancelled")
    assert status.is_closed(request["status"], request["task_status"]) is expected
    assert (ids["clue"] in listed_closed, ids["clue"] in listed_open) == (expected, not expected)

    notes = status.notes(request, history["language"], named.get)
    names_original = history["triage"] == "duplicate" or (history["triage"] == "none" and history["likely"])
    assert set(UUID_TEXT.findall(notes)) == ({ids["original"]} if names_original else set()), notes
    assert RATE_CODE not in notes and "fire-lane" not in notes and "fire_hazard" not in notes
    assert not any(name in notes for name in EVENT_NAMES) and not re.search(r"\d{2}:\d{2}:\d{2}|Z\b", notes)
    if history["triage"] == "rejected" or history["task"] == "cancelled":  # the officer's words, told
        assert UUID_TEXT.sub("", history["reason"]).strip() in notes
    if history["triage"] == "none" and not history["likely"]:  # whose it is to take up, in words
        assert (district in notes) is not history["in_grid"], notes
    assert (district in status.agency(request, history["language"])) and "None" not in status.agency(
        request, history["language"])
