"""What `gridgov serve --demo` and `gridgov demo --reset` add for someone trying
the engine: the demo's day in an empty store, someone of the demo for each role
(the CLI mints their tokens: signing is the API's), a fresh embedded store. Not
the API: conveniences around it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domain.clock import ManualClock
from domain.events import Role, topics_of
from domain.grids import GridRegistered, OfficerAssigned
from domain.ids import SeededIds
from domain.partners import PartnerRegistered
from domain.riders import RiderJoinedGrid
from application.service import GridGovernance
from eventlog import stored_event
from gridgov.bootstrap import application
from gridgov.demo import DAY_START, Demo, Summary
from gridgov.settings import Settings

DEMO_SEED = 7
DISTRICT = "温江"


def load_demo_day(settings: Settings) -> Summary:
    """The demo's day (seed 7) into the configured store, so there is something to see."""
    clock = ManualClock(DAY_START)
    loader = application(settings, clock=clock, ids=SeededIds(DEMO_SEED))
    try:
        return Demo(loader, clock, DEMO_SEED).run()
    finally:
        loader.close()


@dataclass(frozen=True)
class Person:
    """Someone of the demo, as a token names them."""

    role: Role
    sub: str
    districts: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()


def demo_people(app: GridGovernance) -> dict[str, Person]:
    """Someone for each role, by role: an admin, an auditor and a service of 温江, an
    officer of a real grid and a rider of the demo (those two if the store has them)."""
    grid = officer = rider = None
    for row in app.eventlog.page(0, 5000):
        event = app.mapper.to_domain_event(stored_event(row))
        if isinstance(event, GridRegistered) and event.district == DISTRICT and grid is None:
            grid = event.originator_id
        elif isinstance(event, OfficerAssigned) and event.originator_id == grid and officer is None:
            officer = event.officer_id
        elif isinstance(event, RiderJoinedGrid) and event.district == DISTRICT and rider is None:
            rider = event.originator_id
    people = {"district_admin": Person(Role.DISTRICT_ADMIN, f"admin-{DISTRICT}", (DISTRICT,)),
              "auditor": Person(Role.AUDITOR, f"auditor-{DISTRICT}", (DISTRICT,)),
              "service": Person(Role.SERVICE, "service-dashboard", (DISTRICT,))}
    if grid and officer:
        people["grid_officer"] = Person(Role.GRID_OFFICER, officer, (DISTRICT,), (str(grid),))
    if rider:
        people["rider"] = Person(Role.RIDER, str(rider))
    return people


def demo_partner(app: GridGovernance) -> Person | None:
    """A partner of 温江 (its canteen): the first registered there, from the log."""
    for row in app.eventlog.page(0, 1000, topics=topics_of([PartnerRegistered])):
        registered = app.mapper.to_domain_event(stored_event(row))
        if registered.district == DISTRICT:
            return Person(Role.PARTNER, str(registered.originator_id), (DISTRICT,))
    return None


def embedded_files(settings: Settings) -> list[Path]:
    """The files of the embedded SQLite stores (event store and read models), with
    their WAL; what `gridgov demo --reset` deletes. Empty for PostgreSQL: never that."""
    if settings.PERSISTENCE_MODULE != "eventsourcing.sqlite":
        return []
    return [db.with_name(db.name + suffix) for db in (Path(settings.SQLITE_DBNAME),
                                                      Path(settings.READMODEL_SQLITE_DBNAME))
            for suffix in ("", "-wal", "-shm")]
