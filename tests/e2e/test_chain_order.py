"""An award's chain is read in log order: the steps of one command share an instant,
and their order is the log's, not their streams' ids (5265 came before 5264)."""

from __future__ import annotations

from domain.events import Role
from tests.fixtures.http import story


def test_an_award_chain_comes_in_log_order(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    for _ in range(4):  # four chains: each a fresh draw of stream ids, so a sort by id shows
        s = story(api)
        chain = api.query(f"/v1/awards/{s['task']}/chain", auditor)
        positions = [step["position"] for step in chain["steps"]]
        assert None not in positions
        assert positions == sorted(positions), [(p["kind"], p["position"]) for p in chain["steps"]]
