"""For any sequence of issues and revocations of Open311 keys over two districts, `holder()` answers
exactly the keys in force of the district asked for (or of their own, none asked): read from the event
store at each request, with no read model between."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.open311.keys import holder
from api.open311.wire import Open311Error
from application.service import GridGovernance
from domain import commands as c
from domain import errors
from domain.events import Actor, Role
from domain.open311_keys import Open311Key, key_sha256
from domain.scope import Scope

DISTRICTS = ("温江", "锦江")
SECRETS = [f"g311_secret-{n}" for n in range(6)]
Step = tuple[str, int, int]  # (issue|revoke, which secret, which district's admin)
steps = st.lists(st.tuples(st.sampled_from(["issue", "revoke"]), st.integers(0, len(SECRETS) - 1),
                           st.integers(0, 1)), max_size=25)


def admin_of(district: str) -> tuple[Actor, Scope]:
    return Actor(id=f"admin-{district}", role=Role.DISTRICT_ADMIN), Scope(districts=frozenset({district}))


def answer(governance: GridGovernance, secret: str, asked: str | None) -> str | None:
    try:
        return holder(governance, secret, asked).district
    except Open311Error as refused:
        assert refused.status == 403
        return None


@settings(max_examples=60, deadline=None)
@given(steps)
def test_holder_answers_the_live_keys_of_the_district_asked(plan: list[Step]) -> None:
    governance = GridGovernance()
    issued: dict[str, str] = {}  # secret -> its district
    revoked: set[str] = set()
    for action, n, d in plan:
        secret, district = SECRETS[n], DISTRICTS[d]
        actor, scope = admin_of(district)
        if action == "issue":
            command: Any = c.IssueOpen311Key(key_sha256=key_sha256(secret), district=district, label=f"key {n}")
            fits = secret not in issued
        else:
            command = c.RevokeOpen311Key(key_id=Open311Key.id_for(key_sha256(secret)), reason="r")
            fits = secret in issued and issued[secret] == district and secret not in revoked
        try:
            governance.execute(command, actor, scope=scope)
        except errors.DomainError:
            assert not fits, f"{action} {n} in {district} was refused"
            continue
        assert fits, f"{action} {n} in {district} was taken"
        if action == "issue":
            issued[secret] = district
        else:
            revoked.add(secret)
        for other in SECRETS:  # after every step, at once
            live = other in issued and other not in revoked
            for asked in (None, *DISTRICTS):
                expected = issued[other] if live and asked in (None, issued[other]) else None
                assert answer(governance, other, asked) == expected, (other, asked)


@pytest.mark.parametrize("secret", ["", "x", "g311_" + "é" * 300])
def test_a_key_never_issued_has_no_holder(secret: str) -> None:
    assert answer(GridGovernance(), secret, None) is None
