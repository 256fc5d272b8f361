"""The names' layer (api/http/people.py) sends an answer as the route made it when `names_asked` says it
names no one, without reading the store in a thread: that must be exactly the answers `add_names` would
leave unchanged, whatever their shape (nested rows, lists, the opaque fields, ids of every kind)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings, strategies as st

from api.http.people import ACTOR_KEY, ACTOR_ROLE, OPAQUE, PERSON_KEYS, add_names, names_asked

RIDER = "4f6c1a4e-5d8a-4a57-9b1c-2c1d8e9f0a11"
KEYS = st.sampled_from(sorted({*PERSON_KEYS, ACTOR_KEY, ACTOR_ROLE, *OPAQUE, "grid", "status", "items", "fen"}))
VALUES = st.one_of(st.none(), st.integers(), st.sampled_from([RIDER, "officer-1", "admin-温江", "", "rider", "system",
                                                              "grid_officer"]))
ANSWERS = st.recursive(VALUES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(KEYS, inner, max_size=5)), max_leaves=20)


class EveryoneNamed:
    """A namer with a name for everyone: any field add_names touches changes the answer."""

    def rider(self, rider_id: str) -> str:
        return "骑手"

    def actor(self, actor_id: str, role: str) -> str:
        return "某人"

    staff: dict[str, str] = {"officer-1": "网格员", "admin-温江": "管理员"}


@settings(max_examples=400, deadline=None)
@given(ANSWERS)
def test_an_answer_that_names_no_one_is_left_as_it_is(answer: Any) -> None:
    named = copy.deepcopy(answer)
    add_names(named, EveryoneNamed())  # type: ignore[arg-type]
    if not names_asked(answer):
        assert named == answer
    else:
        assert named != answer, "names_asked said yes, yet nothing was added"
