"""Upcasters: functions that lift a stored event's state one schema version up.

Stored events are never rewritten; they are lifted on the way out. Each step is
keyed by (event type name, version it lifts from) and tested against a committed
sample of that version in tests/samples/.
"""

from __future__ import annotations

from typing import Any, Callable

from domain.clues import CATEGORY_WORDS, Category

State = dict[str, Any]
Upcaster = Callable[[State], State]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def upcast(event_type: str, state: State, stored_version: int, current_version: int) -> State:
    for version in range(stored_version, current_version):
        try:
            step = UPCASTERS[(event_type, version)]
        except KeyError:
            raise LookupError(f"no upcaster for {event_type} v{version} -> v{version + 1}") from None
        state = step(state)
    return state


@upcaster("ClueReported", 1)
def _clue_location_nested(state: State) -> State:
    """v1 kept the position as top-level `lat`/`lon` and knew nothing of duplicates."""
    state = dict(state)
    state["location"] = {"lat": state.pop("lat"), "lon": state.pop("lon")}
    state.setdefault("duplicate_candidates", [])
    return state


@upcaster("ClueReported", 2)
def _clue_grid_may_be_none(state: State) -> State:
    """v2 always named a grid; v3 may not (None: in no grid). A v2 event reads as it was."""
    return state


@upcaster("RateScheduleIssued", 1)
def _rates_named_like_categories(state: State) -> State:
    """v1's rates had fen and points alone: a code that is a clue category's takes its words (as a v2 issue
    without names does, domain.rates.named_like_categories); any other stays unnamed (None)."""
    def named(code: str, rate: dict[str, Any]) -> dict[str, Any]:
        zh, en = CATEGORY_WORDS[Category(code)] if code in CATEGORY_WORDS else (None, None)
        return {**rate, "name_zh": rate.get("name_zh", zh), "name_en": rate.get("name_en", en)}

    return {**state, "rates": {code: named(code, rate) for code, rate in state["rates"].items()}}


@upcaster("PartnerCodeMissed", 1)
def _miss_named_its_redemption(state: State) -> State:
    """v1's misses each named a redemption; v2's may name none (a code typed alone): the same state."""
    return state


@upcaster("PayoutSettled", 1)
def _payout_names_no_district(state: State) -> State:
    """v1 settled a rider's month as one sum; v2 names the district it pays for.
    None: the month's first district, as v1 was read (domain.subsidies.first_district)."""
    return {**state, "district": None}


@upcaster("PointsEarned", 1)
def _points_of_no_district(state: State) -> State:
    """v1 did not say which district's work earned them: no district's expiry policy applies."""
    return {**state, "district": None}


@upcaster("PointsExpired", 1)
def _expiry_by_an_admin(state: State) -> State:
    """v1 knew only an admin's expiry (the oldest points go)."""
    return {**state, "district": None, "earned_by": None}


@upcaster("PointsHeld", 1)
def _held_from_any_district(state: State) -> State:
    """v1 held the oldest points of any district."""
    return {**state, "district": None}


@upcaster("AuditAccessed", 1)
def _access_parameters_apart(state: State) -> State:
    """v1 recorded only GET and HEAD queries (read as GET here) and the command line's
    export, its route without the method, and the path's and the query's parameters
    in one mapping, the query's winning a clash. Split again by the route's
    placeholders: a name in the route was the path's (though a query parameter of
    that name may have replaced its value: v1 cannot tell), any other the query's."""
    state = dict(state)
    merged: dict[str, str] = state.pop("parameters", {})
    what: str = state["what"]
    state["path_parameters"] = {k: v for k, v in merged.items() if "{" + k + "}" in what}
    state["query_parameters"] = {k: v for k, v in merged.items() if "{" + k + "}" not in what}
    if what.startswith("/"):
        state["what"] = f"GET {what}"
    return state
