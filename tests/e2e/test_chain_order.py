"""An award's chain is read in log order: the steps of one command share an instant,
and their order is the log's, not their streams' ids (5265 came before 5264)."""

from __future__ import annotations

from domain.events import Role
from tests.fixtures.http import story


def pieces(api, s, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """`n` more tasks of the story's grid, each claimed, completed and verified by its rider: their ids."""
    tasks = []
    for _ in range(n):
        task = api.command("publish-task", {"grid_id": s["grid"], "kind": "巡查", "rate_code": "fire-lane"},
                           s["officer"])["result"]["task_id"]
        api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
        api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"], "note": "已清理"}, s["rider"])
        api.command("verify-completion", {"task_id": task}, s["officer"])
        tasks.append(task)
    return tasks


def test_an_award_chain_comes_in_log_order(audited) -> None:  # type: ignore[no-untyped-def]
    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    s = story(api)
    for task in [s["task"], *pieces(api, s, 3)]:  # four chains: each a fresh draw of stream ids, so a sort by id shows
        chain = api.query(f"/v1/awards/{task}/chain", auditor)
        positions = [step["position"] for step in chain["steps"]]
        assert None not in positions
        assert positions == sorted(positions), [(p["kind"], p["position"]) for p in chain["steps"]]


def test_a_districts_history_comes_in_log_order_within_an_instant(audited) -> None:  # type: ignore[no-untyped-def]
    """One command's steps share an instant (verify: the completion verified, the award, the clue closed):
    the history shows them as the log holds them, and its pages still join up."""
    import uuid

    api, engine = audited
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    pieces(api, story(api), 2)
    whole = api.query("/v1/districts/温江/history", auditor, limit=1000)["steps"]
    where = engine.app.eventlog.positions_of([(uuid.UUID(s["stream_id"]), s["version"]) for s in whole])
    positions = [where[(uuid.UUID(s["stream_id"]), s["version"])] for s in whole]
    assert positions == sorted(positions), [(s["kind"], p) for s, p in zip(whole, positions)]
    paged, after = [], None
    while True:
        page = api.query("/v1/districts/温江/history", auditor, limit=7, **({"after": after} if after else {}))
        paged += [(s["stream_id"], s["version"]) for s in page["steps"]]
        if not page["next"]:
            break
        after = page["next"]
    assert sorted(paged) == sorted((s["stream_id"], s["version"]) for s in whole) and len(set(paged)) == len(paged)
