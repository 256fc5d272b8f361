"""Every projection, by name."""

from __future__ import annotations

from projections.access import AccessLog
from projections.appeals import Appeals
from projections.audit import Audit
from projections.balances import Balances
from projections.base import Projection
from projections.board import Board
from projections.clues import Clues
from projections.open311_keys import Open311Keys
from projections.photos import Photos
from projections.pieces import Pieces
from projections.points import Points
from projections.rewards import Rewards
from projections.riders import Riders
from projections.staff import Staff
from projections.stats import Stats

PROJECTIONS: dict[str, type[Projection]] = {cls.name: cls for cls in (Board, Balances, Points, Audit, Stats,
                                                                            Clues, Appeals, Riders, Rewards, AccessLog,
                                                                            Photos, Pieces, Staff, Open311Keys)}


def instances(name: str = "all") -> list[Projection]:
    """Fresh instances of the read models `name` names (`all`, or one)."""
    return [cls() for cls in named(name)]


def named(name: str) -> list[type[Projection]]:
    """`all`, or one name; an unknown name says which ones exist."""
    if name == "all":
        return list(PROJECTIONS.values())
    try:
        return [PROJECTIONS[name]]
    except KeyError:
        raise ValueError(f"no projection {name!r}; choose one of: all, {', '.join(PROJECTIONS)}") from None
