"""Read models: the same rows and the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from domain.subsidies import SubsidyAwarded
from projections.audit import award_chain
from projections.balances import balance_as_of, district_budgets, rider_balances
from projections.board import BoardQuery, board
from gridgov.bootstrap import log_feed
from projections.points import rider_points
from projections.stats import statistics_for
from tests.fixtures.histories import SEEDS, dump, history
from tests.fixtures.stores import new_store, require_postgres


def test_sqlite_and_postgres_read_models_answer_alike() -> None:
    require_postgres()
    app, events = history(SEEDS[0])
    stores = [new_store("sqlite"), new_store("postgres")]
    try:
        for read_store, _ in stores:
            log_feed(app, read_store).catch_up()
        (lite, _), (pg, _) = stores
        assert dump(lite) == dump(pg)
        now = app.clock.now()
        rider = str(next(e.rider_id for e in events if isinstance(e, SubsidyAwarded)))
        piece = str(next(e.piece_id for e in events if isinstance(e, SubsidyAwarded)))
        for query in (lambda s: board(s, BoardQuery(district="温江", limit=7), now),
                      lambda s: board(s, BoardQuery(status="open"), now),
                      lambda s: rider_balances(s, rider), lambda s: rider_points(s, rider),
                      lambda s: district_budgets(s, "锦江"), lambda s: award_chain(s, piece),
                      lambda s: statistics_for(s), lambda s: statistics_for(s, "青羊"),
                      lambda s: balance_as_of(s, rider, now - timedelta(hours=6))):
            assert query(lite) == query(pg)
    finally:
        for _, cleanup in stores:
            cleanup()
