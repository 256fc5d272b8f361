"""What `gridgov serve --demo` and `gridgov demo --reset` add for someone trying
the engine: the demo's day in an empty store, a token for each role, a fresh
embedded store. Not the API: conveniences around it."""

from __future__ import annotations

from pathlib import Path

from domain.clock import ManualClock
from domain.events import Role
from domain.grids import GridRegistered, OfficerAssigned
from domain.ids import SeededIds
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


def demo_tokens(app: GridGovernance, secret: str) -> dict[str, str]:
    """A token for each role: an admin, an officer of a real grid, an auditor and a
    service of 温江, and a rider of the demo (those two if the store has them)."""
    from api.http.auth import mint

    grid = officer = rider = None
    for row in app.eventlog.page(0, 5000):
        event = app.mapper.to_domain_event(stored_event(row))
        if isinstance(event, GridRegistered) and event.district == DISTRICT and grid is None:
            grid = event.originator_id
        elif isinstance(event, OfficerAssigned) and event.originator_id == grid and officer is None:
            officer = event.officer_id
        elif isinstance(event, RiderJoinedGrid) and event.district == DISTRICT and rider is None:
            rider = event.originator_id
    tokens = {"district_admin": mint(secret, f"admin-{DISTRICT}", Role.DISTRICT_ADMIN, [DISTRICT]),
              "auditor": mint(secret, f"auditor-{DISTRICT}", Role.AUDITOR, [DISTRICT]),
              "service": mint(secret, "service-dashboard", Role.SERVICE, [DISTRICT])}
    if grid and officer:
        tokens["grid_officer"] = mint(secret, officer, Role.GRID_OFFICER, [DISTRICT], [str(grid)])
    if rider:
        tokens["rider"] = mint(secret, str(rider), Role.RIDER)
    return tokens


def embedded_files(settings: Settings) -> list[Path]:
    """The files of the embedded SQLite stores (event store and read models), with
    their WAL; what `gridgov demo --reset` deletes. Empty for PostgreSQL: never that."""
    if settings.PERSISTENCE_MODULE != "eventsourcing.sqlite":
        return []
    return [db.with_name(db.name + suffix) for db in (Path(settings.SQLITE_DBNAME),
                                                      Path(settings.READMODEL_SQLITE_DBNAME))
            for suffix in ("", "-wal", "-shm")]
