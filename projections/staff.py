"""The district's staff directory: each officer's and admin's display name by id
(StaffNamed), what pages show beside the ids of those who did the work."""

from __future__ import annotations

from typing import Any, Iterable

from domain.staff import StaffNamed
from projections.base import Projection
from projections.facts import Fact
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT = "TEXT NOT NULL"
COLUMNS = ("district", "staff_id", "role", "display_name", "named_at", "named_by")


class Staff(Projection):
    name = "staff"
    weight = 0.01
    by_stream = True  # a member's row by the member's own stream (one per district and id)
    handles = (StaffNamed,)
    tables = {"members": Table({column: TEXT for column in COLUMNS}, key=("district", "staff_id"))}
    indexes = {"members": ("staff_id",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return []  # a naming replaces the whole row

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        rows.put("members", {"district": d["district"], "staff_id": d["staff_id"], "role": d["role"],
                             "display_name": d["display_name"], "named_at": fact.at,
                             "named_by": d["meta"]["actor"]["id"]})


def district_staff(store: ReadStore, district: str) -> list[dict[str, Any]]:
    """The district's named officers and admins, admins first, then by name."""
    rows = store.read(f"SELECT {', '.join(COLUMNS)} FROM {Staff().table_names['members']} WHERE district = ? "
                      f"ORDER BY role, display_name, staff_id", (district,))  # district_admin before grid_officer
    return [dict(zip(COLUMNS, row)) for row in rows]


def staff_names(store: ReadStore, staff_ids: Iterable[str]) -> dict[str, str]:
    """The display name of each id named in some district (the latest naming where several districts named it)."""
    ids = sorted(set(staff_ids))
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = store.read(f"SELECT staff_id, display_name FROM {Staff().table_names['members']} "
                      f"WHERE staff_id IN ({marks}) ORDER BY named_at", tuple(ids))
    return dict(rows)  # later rows win
