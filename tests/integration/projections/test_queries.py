"""Read models answer what the log says: an award's chain of steps, a balance at
an instant in the past, each audit step in its own district."""

from __future__ import annotations

from datetime import timedelta

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov import bootstrap
from gridgov.settings import load_settings
from domain.clock import ManualClock
from domain.subsidies import PayoutSettled, SubsidyAwarded, SubsidyReversed
from projections.audit import award_chain
from projections.balances import balance_as_of
from projections.registry import named
from gridgov.bootstrap import log_feed
from projections.engine.rebuild import verify
from projections.stores import ReadStore
from tests.fixtures.histories import SEEDS, history
from tests.fixtures.stores import new_store
from tests.fixtures.world import START, World, rider_actor


def test_an_award_chain_is_every_step_of_its_clue_task_appeal_and_piece(store: ReadStore) -> None:
    # The query goes by two indexes (the steps' key, and pieces by subject); the
    # reference is a scan of every step, by what each step is about.
    app, events = history(SEEDS[0])
    log_feed(app, store).catch_up()
    columns = ("stream_id", "version", "subject_id", "kind", "district", "actor_id", "actor_role", "at",
               "correlation_id", "detail")
    steps = [dict(zip(columns, row)) for row in store.read(f"SELECT {', '.join(columns)} FROM audit_steps")]
    pieces = {str(e.piece_id) for e in events if isinstance(e, SubsidyAwarded)}
    assert len(pieces) > 5
    for piece in sorted(pieces):
        chain = award_chain(store, piece)
        assert chain is not None
        award = next(s for s in steps if s["subject_id"] == piece and s["kind"] == "SubsidyAwarded")
        about = {piece, chain["clue_id"], orjson.loads(award["detail"]).get("appeal_id")} - {None}
        wanted = sorted((s for s in steps if s["subject_id"] in about),
                        key=lambda s: (s["at"], s["stream_id"], s["version"]))
        assert [(s["stream_id"], s["version"]) for s in chain["steps"]] == \
            [(s["stream_id"], s["version"]) for s in wanted]
        assert any(s["kind"] == "SubsidyAwarded" for s in chain["steps"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_balance_at_an_instant_is_the_fold_of_the_events_up_to_it(data: st.DataObject) -> None:
    app, events = history(SEEDS[0])
    ledger = [e for e in events if isinstance(e, (SubsidyAwarded, SubsidyReversed, PayoutSettled))]
    rider_of = {e.originator_id: e.rider_id for e in ledger if isinstance(e, SubsidyAwarded)}
    rider = data.draw(st.sampled_from(sorted({e.rider_id for e in ledger if isinstance(e, SubsidyAwarded)}, key=str)))
    instant = data.draw(st.sampled_from([e.timestamp for e in ledger])) + timedelta(
        seconds=data.draw(st.sampled_from([-1, 0, 1, 3600])))
    expected = sum(
        (e.fen if isinstance(e, SubsidyAwarded) else -e.fen)
        for e in ledger if rider_of[e.originator_id] == rider and e.timestamp <= instant)
    read_store = _projected_store(SEEDS[0])
    assert balance_as_of(read_store, str(rider), instant) == expected


_STORES: dict[int, ReadStore] = {}


def _projected_store(seed: int) -> ReadStore:
    if seed not in _STORES:
        app, _ = history(seed)
        read_store, _ = new_store("sqlite")
        log_feed(app, read_store).catch_up()
        _STORES[seed] = read_store
    return _STORES[seed]


def test_a_month_earned_in_two_districts_audits_each_step_in_its_own_district(store: ReadStore) -> None:
    # A subsidy account is the rider's month, whatever district each piece was in (one
    # in nine of the demo's accounts spans two). A cap or a reversal names only its
    # piece: it belongs to the district of that piece's award, not the account's first.
    from domain import commands as c
    from projections.audit import district_history

    clock = ManualClock(START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}),
                         clock=clock)
    jinjiang, wenjiang = World(app, clock, "锦江"), World(app, clock, "温江")
    home, rider = jinjiang.scene()
    jinjiang.piece(home, rider)
    away = wenjiang.grid()
    wenjiang.schedule(cap_day=800)  # the day's second piece (500 fen) is capped to 300
    wenjiang.budget()
    wenjiang.do(c.JoinGrid(rider_id=rider, grid_id=away), rider_actor(rider))
    piece, _ = wenjiang.piece(away, rider)
    wenjiang.do(c.ReverseAward(rider_id=rider, period=wenjiang.period, piece_id=piece, reason="photo unclear"),
                wenjiang.admin)
    log_feed(app, store).catch_up()

    def money_steps(district: str) -> list[tuple[str, str]]:
        return [(s["kind"], s["subject_id"]) for s in district_history(store, district, limit=1000)
                if s["kind"].startswith("Subsidy")]

    assert money_steps("温江") == [("SubsidyAwarded", str(piece)), ("SubsidyCapped", str(piece)),
                                   ("SubsidyReversed", str(piece))]
    assert [kind for kind, subject in money_steps("锦江")] == ["SubsidyAwarded"]
    ledger = store.read("SELECT kind, district, delta FROM balances_ledger ORDER BY version")
    assert [tuple(row) for row in ledger] == [("award", "锦江", 500), ("award", "温江", 300),
                                              ("reversal", "温江", -300)]
    assert verify(app, store, named("all")) == []
    app.close()
