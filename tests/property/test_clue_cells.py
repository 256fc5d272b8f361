"""The open-clue index's map cells must never hide a duplicate: for any clues
and any report, searching only the nearby cells gives exactly what measuring
every open clue gives — also across the date line and near the poles."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from application.clue_index import Cells
from domain.clues import Category, DuplicatePolicy, Location, OpenClue, likely_duplicates

NOW = datetime(2026, 11, 2, tzinfo=timezone.utc)
CENTRES = [(30.68, 103.85), (0.0, 179.9995), (0.0, -179.9995), (89.999, 10.0), (-89.9985, -170.0), (60.0, 0.0)]


@st.composite
def spot(draw: st.DrawFn) -> Location:
    """Somewhere within a kilometre or so of one of the awkward centres."""
    lat, lon = draw(st.sampled_from(CENTRES))
    lat = max(-90.0, min(90.0, lat + draw(st.floats(-0.01, 0.01))))
    lon = lon + draw(st.floats(-0.01, 0.01))
    lon = (lon + 180) % 360 - 180
    return Location(lat=lat, lon=lon)


clues = st.lists(st.tuples(spot(), st.sampled_from([Category.BLOCKED_FIRE_LANE, Category.OTHER])), max_size=60)


@settings(max_examples=200, deadline=None)
@given(clues, spot(), st.sampled_from([50.0, 250.0, 1000.0]))
def test_nearby_cells_find_every_duplicate(found: list[tuple[Location, Category]], report: Location,
                                           radius_m: float) -> None:
    policy = DuplicatePolicy(radius_m=radius_m, window=timedelta(hours=72))
    open_clues = [OpenClue(uuid.uuid4(), category, at, NOW) for at, category in found]
    cells = Cells(radius_m)
    for clue in open_clues:
        cells.add(clue)
    for category in (Category.BLOCKED_FIRE_LANE, Category.OTHER):
        everything = likely_duplicates(category, report, NOW, open_clues, policy)
        nearby = likely_duplicates(category, report, NOW, cells.near(category, report), policy)
        assert nearby == everything


def test_a_clue_just_across_the_date_line_is_found() -> None:
    # 244 m apart, either side of ±180°, where a stub last column once hid it.
    clue = OpenClue(uuid.uuid4(), Category.OTHER, Location(lat=70.147479, lon=-179.995480), NOW)
    cells = Cells(250.0)
    cells.add(clue)
    report = Location(lat=70.147423, lon=179.998053)
    assert likely_duplicates(Category.OTHER, report, NOW, cells.near(Category.OTHER, report),
                             DuplicatePolicy()) == (clue.id,)


def test_removing_the_last_clue_empties_its_cell() -> None:
    cells = Cells(250.0)
    clue = OpenClue(uuid.uuid4(), Category.OTHER, Location(lat=30.6, lon=103.8), NOW)
    cells.add(clue)
    assert list(cells.near(Category.OTHER, Location(lat=30.6, lon=103.8))) == [clue]
    cells.remove(clue)
    assert cells.cells == {}
