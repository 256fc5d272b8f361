"""Who and where, as an auditor reads them: riders by a masked name (王*平), grids
by name, officers and admins by the name the district gave them; the ids stay in
their own columns for machines. Read once per export, for the ids it holds.

    names = Names.read(store, "温江", rider_ids, staff_ids, rider_name=lambda rider_id: "王小平")
    names.rider(rider_id)   # "王*平"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable
from uuid import UUID

from domain.names import masked
from projections.board import district_grids
from projections.staff import staff_names
from projections.stores import ReadStore

# A rider's full name (None once erased); the composition root gives it: it is sealed personal data.
RiderName = Callable[[str], "str | None"]
ERASED = ("已注销", "Erased")  # as the API's answers say it (api/http/people.py)

if TYPE_CHECKING:
    from application.service import GridGovernance


def riders_of(governance: GridGovernance) -> RiderName:
    """A rider's full name from its sealed personal data (None once erased, or for no rider)."""
    def name(rider_id: str) -> str | None:
        try:
            return governance.rider_name(UUID(rider_id))
        except ValueError:
            return None

    return name


@dataclass
class Names:
    riders: dict[str, str | None] = field(default_factory=dict)  # id -> masked name; None: erased or unknown
    grids: dict[str, str] = field(default_factory=dict)
    staff: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, store: ReadStore, district: str, rider_ids: Iterable[str], staff_ids: Iterable[str],
             rider_name: RiderName | None = None) -> Names:
        grids = {g["grid_id"]: f"{g['street']} · {g['name']}" for g in district_grids(store, district)}
        riders = {}
        for rider in sorted(set(rider_ids)):
            full = rider_name(rider) if rider_name else None
            riders[rider] = masked(full) if full else None
        return cls(riders, grids, staff_names(store, staff_ids))

    def rider(self, rider_id: str | None, lang: str) -> str:
        if not rider_id:
            return ""
        name = self.riders.get(rider_id)
        return name if name else ERASED[lang != "zh"]

    def grid(self, grid_id: str | None) -> str:
        return self.grids.get(grid_id or "", "")

    def person(self, actor_id: str, role: str, lang: str) -> str:
        """An actor by name where one is known: a rider masked, staff by their display name, else the id whole."""
        if role == "rider":
            return self.rider(actor_id, lang)
        return self.staff.get(actor_id, actor_id)


