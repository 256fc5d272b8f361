"""The district's staff directory: its officers and admins by the names people know them by.

A token names an officer or an admin by an id (`officer-温江-1-1`); pages show the
name given here beside it. Staff names are work names, not personal data: they are
not sealed (a rider's name is: application/personal.py)."""

from __future__ import annotations

from uuid import UUID

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.events import Event, Role
from domain.ids import derived_id

# Whom the directory names: the district's people whose ids pages show beside their work.
NAMED_ROLES = frozenset({Role.GRID_OFFICER, Role.DISTRICT_ADMIN})


class StaffEvent(Event):
    aggregate = "staff"


class StaffNamed(StaffEvent):
    """An officer or admin of a district given the name pages show (again: renamed)."""

    district: str
    staff_id: str
    role: Role
    display_name: str


class StaffMember(Aggregate, events=StaffEvent):
    """One per staff id and district: named, renamed, never removed (the log keeps who did what by id)."""

    @staticmethod
    def id_for(district: str, staff_id: str) -> UUID:
        return derived_id("staff", len(district), district, staff_id)  # the length: no "/" in a name can collide

    def __init__(self, id: UUID) -> None:
        super().__init__(id)
        self.role: Role | None = None
        self.display_name = ""

    def name(self, ctx: Context, district: str, staff_id: str, role: Role, display_name: str) -> None:
        if role not in NAMED_ROLES:
            raise errors.InvalidInput(f"the staff directory names officers and admins, not a {role.value}",
                                      role=role.value)
        if (self.role, self.display_name) == (role, display_name):
            return  # named so already: a second press writes nothing
        self._trigger(ctx, StaffNamed, district=district, staff_id=staff_id, role=role, display_name=display_name)

    def _when(self, event: Event) -> None:
        match event:
            case StaffNamed():
                self.role, self.display_name = event.role, event.display_name
