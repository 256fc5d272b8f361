"""The rider's pieces (projections/pieces.py) say of any piece what the ledger did to it:
awarded + withheld is what the rate said, `withheld_by` names the limit that bit (and
only when something was withheld), a reversal takes back what was awarded and keeps
its reason — for any rate and any room left under the day cap, the month cap and the
budget, folded from the events the account writes."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.subsidies import split_award
from projections.facts import Fact
from projections.pieces import Pieces

fen = st.integers(min_value=0, max_value=10_000)
STAMP = "2026-11-02T01:00:00+00:00"


def fact(event_type: str, stream: str, version: int, **data: Any) -> Fact:
    return Fact.of(event_type, stream, version, {**data, "timestamp": STAMP, "meta": {"actor": {"id": "x", "role": "system"}}})


@settings(max_examples=200, deadline=None)
@given(rate=fen, day_room=fen, month_room=fen, budget_room=fen, reversed_=st.booleans())
def test_a_piece_says_what_was_awarded_withheld_by_what_and_taken_back(rate: int, day_room: int, month_room: int,
                                                                        budget_room: int, reversed_: bool) -> None:
    split = split_award(rate, day_room=day_room, month_room=month_room, budget_room=budget_room)
    account, piece, rider = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    events = [fact("SubsidyAwarded", account, 1, rider_id=rider, district="温江", period="2026-11", day="2026-11-02",
                   piece_id=piece, kind="piece", rate_code="fire-lane", rate_version=1, rate_fen=rate,
                   fen=split.awarded)]
    if split.withheld:
        events.append(fact("SubsidyCapped", account, 2, piece_id=piece, withheld_fen=split.withheld,
                           limit=split.limit.value))
    if reversed_:
        events.append(fact("SubsidyReversed", account, len(events) + 1, piece_id=piece, fen=split.awarded,
                           reason="照片不清"))
    pieces = Pieces()
    rows = pieces.rows(new_streams=True)
    for one in events:
        pieces.apply(rows, one)
    row = rows.get("pieces", account, piece)
    assert row["awarded"] + row["withheld"] == rate
    assert row["withheld_by"] == (split.limit.value if split.withheld else None)
    assert (row["reversed"], row["reversed_reason"]) == ((split.awarded, "照片不清") if reversed_ else (0, None))
    assert (row["rider_id"], row["period"], row["district"]) == (rider, "2026-11", "温江")
