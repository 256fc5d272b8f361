"""The demo's districts are drawn, its grids tile them, and every clue of its day lands in a grid."""

from __future__ import annotations

import shapely

from domain.clock import ManualClock
from domain.clues import ClueReported
from domain.ids import SeededIds
from gridgov import bootstrap
from gridgov.demo import DAY_START, DISTRICTS, Demo
from gridgov.settings import load_settings


def test_the_demos_grids_tile_its_districts_and_its_clues_land_in_grids() -> None:
    clock = ManualClock(DAY_START)
    app = bootstrap.application(load_settings({"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock=clock,
                                ids=SeededIds(7))
    try:
        summary = Demo(app, clock, 7, riders=36).run()
        atlas = app.places.current()
        assert set(atlas.districts) == set(DISTRICTS)
        for name, square in atlas.districts.items():
            cells = [shape for district, shape in atlas.grids.values() if district == name]
            assert len(cells) == 6
            whole = shapely.union_all(cells)
            assert whole.symmetric_difference(square).area < 1e-12 * square.area  # tiled, nothing left over
            assert abs(sum(cell.area for cell in cells) - square.area) < 1e-9 * square.area  # and no overlaps
        reports = [e for e in (app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 100_000))
                   if isinstance(e, ClueReported)]
        assert len(reports) == summary.clues > 0
        assert all(report.grid_id is not None for report in reports)
    finally:
        app.close()
