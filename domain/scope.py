"""How far a caller reaches: the districts and grids its token covers.

The API authenticates and hands the token's reach to the command as a `Scope`;
each handler then checks it on every aggregate it loads, after loading, in the
domain's own terms: the district of the piece an award pays, of the award a
remedy reinstates, of both clues of a duplicate link. So the rule for a
command is written once, in its handler, next to what it touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain import errors


@dataclass(frozen=True)
class Scope:
    # None: no limit (the engine itself, the CLI, a rider, who is held to itself instead).
    districts: frozenset[str] | None = None
    grids: frozenset[str] | None = None

    def covers_district(self, district: str) -> bool:
        return self.districts is None or district in self.districts

    def covers_grid(self, grid: str | None) -> bool:
        """A scope held to grids covers none outside them, nor a thing in no grid."""
        return self.grids is None or (grid is not None and grid in self.grids)

    def require_district(self, district: str, what: str) -> None:
        if not self.covers_district(district):
            raise errors.OutOfScope(f"this token does not cover {district}, the district of {what}",
                                    district=district)

    def require_grid(self, district: str, grid_id: UUID, what: str) -> None:
        self.require_district(district, what)
        if not self.covers_grid(str(grid_id)):
            raise errors.OutOfScope(f"this token does not cover grid {grid_id}, the grid of {what}",
                                    grid_id=str(grid_id))

    def require_any(self, districts: set[str], what: str) -> None:
        """Something that belongs to several districts (a rider): one of them is enough."""
        if self.districts is not None and not districts & self.districts:
            raise errors.OutOfScope(f"this token covers none of the districts of {what}",
                                    districts=sorted(districts))


EVERYWHERE = Scope()
