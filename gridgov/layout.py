"""Where the demo's districts and grids lie: each district a square about its centre, cut in cells, a grid each.

The squares are smaller than the real districts (锦江, 青羊 and 成华 have centres
two kilometres apart), so that no two overlap; each square is cut in a column per
street and a row per grid of the street, and the cells tile it whole.
"""

from __future__ import annotations

from domain.clues import Location

HALF = 0.009  # degrees either side of a district's centre: clear of the nearest neighbour's square (0.019 away)
Box = tuple[float, float, float, float]  # west, south, east, north


def district_square(centre: Location) -> Box:
    return centre.lon - HALF, centre.lat - HALF, centre.lon + HALF, centre.lat + HALF


def cell(square: Box, columns: int, rows: int, column: int, row: int) -> Box:
    """The cell at (column, row) of `square` cut in `columns` × `rows`; neighbours share their edges exactly."""
    west, south, east, north = square
    xs = [west + (east - west) * i / columns for i in range(columns)] + [east]
    ys = [south + (north - south) * j / rows for j in range(rows)] + [north]
    return xs[column], ys[row], xs[column + 1], ys[row + 1]


def middle(box: Box) -> Location:
    west, south, east, north = box
    return Location(lat=(south + north) / 2, lon=(west + east) / 2)


def reach(box: Box) -> float:
    """How far from the middle, along either axis, a point stays well inside the cell."""
    west, south, east, north = box
    return 0.8 * min(east - west, north - south) / 2
