"""What a token may read: the one place the API decides it, every query route asks here.

Commands are the domain's to scope (a handler checks `Principal.scope` on what it
loads); reads are decided here, on the same `Scope` of the token's districts and
grids (`reach`), by role:

- a rider sees itself (its balances, points, clues, tasks, appeals, redemptions)
  and what is public to those who do the work: every district's board, grids,
  rates, stations, partners, catalogue and points policy;
- a grid officer its grids of its districts; admins, auditors and services their
  districts (a district's history, appeals and money: not officers or riders);
- a partner its queue, its district's rewards and its own events (PARTNER_READS);
- any token the transparency log, which carries no event's content.

Outside its scope a token finds nothing: one thing is a 404 (the route asks `sees…`),
a list leaves it out (the route passes on the districts and grids it may see), a
district not its own named in the path is refused (`require_district`, `staff_of`).
A new read asks one of these, or a rule added here beside them; a partner may call
it only once it is named in PARTNER_READS.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Iterable
from uuid import UUID

from fastapi import Request

from api.http.auth import Principal
from domain.errors import NotAllowed, OutOfScope
from domain.events import Role
from domain.scope import Scope

# The district's own people: admins, auditors and services (not its officers or riders).
STAFF = frozenset({Role.DISTRICT_ADMIN, Role.AUDITOR, Role.SERVICE})
OWN_MONEY = "a rider sees only its own balances and points"
APPEALS = "appeals are for the rider, and the admins, auditors and services of a district"

# What a partner's token may read (its commands are the domain's to decide): its queue, its
# district's rewards, its own events, and the transparency log, which any token may read.
PARTNER_READS = frozenset({"/v1/stations", "/v1/districts/{district}/stations", "/v1/districts/{district}/partners",
                           "/v1/districts/{district}/points-policy", "/v1/districts/{district}/catalogue",
                           "/v1/partners/{partner_id}/queue", "/v1/events/stream"})


def reach(who: Principal) -> Scope:
    """The districts (and an officer's grids) the token names: the scope of its commands,
    but for a rider, whose commands the domain holds to itself (`Principal.scope` is
    everywhere) while its reads of a district are held to what its token names."""
    return Scope(districts=who.districts) if who.role is Role.RIDER else who.scope


def partner_may_read(who: Principal, request: Request) -> None:
    """One list, not a check in every route: a read added later is closed to partners
    until it is named here."""
    if who.role is not Role.PARTNER:
        return
    path = getattr(request.scope.get("route"), "path", "")
    if request.method == "GET" and path not in PARTNER_READS and not path.startswith("/v1/audit/"):
        raise OutOfScope("a partner's token reads its queue, its district's rewards and its own events, "
                         "nothing else")


# --- a district named by the caller --------------------------------------------------------

def require_district(who: Principal, district: str) -> None:
    if not reach(who).covers_district(district):
        raise OutOfScope(f"this token does not cover district {district}")


def district_of(who: Principal, district: str | None) -> str | None:
    """The district a district-wide read is of: the one named (riders: any, or none for
    all), else the token's only district."""
    if who.role is Role.RIDER:
        return district  # the board is public to riders; their own data is guarded elsewhere
    if district is None:
        if len(who.districts) != 1:
            raise OutOfScope("name a district this token covers (?district=…)")
        return next(iter(who.districts))
    require_district(who, district)
    return district


def public_to_riders(who: Principal, district: str) -> None:
    """What a piece pays and where rewards are is public to riders, of every district,
    as its board is; anyone else reads its own districts'."""
    if who.role is not Role.RIDER:
        require_district(who, district)


def staff_of(who: Principal, district: str, why: str, roles: Iterable[Role] = STAFF) -> None:
    """A district's own people (`roles`, by default STAFF) and of this district; `why` to anyone else."""
    if who.role not in roles:
        raise OutOfScope(why)
    require_district(who, district)


def staff_directory(who: Principal, district: str) -> None:
    """The district's staff by name: for its officers, admins, auditors and services (who work beside them)."""
    staff_of(who, district, "the staff directory is for a district's own people", STAFF | {Role.GRID_OFFICER})


def open311_keys_of(who: Principal, district: str) -> None:
    """The district's Open311 keys: its admins issue and revoke them, and alone list them."""
    staff_of(who, district, "a district's Open311 keys are for its admins", {Role.DISTRICT_ADMIN})


def auditor_of(who: Principal, district: str) -> None:
    staff_of(who, district, "a district's exports and access log are for its auditors", {Role.AUDITOR})


def grids_in(who: Principal, district: str, *, riders: bool = False) -> set[str] | None:
    """The grids of `district` the caller may see: an officer's own, anyone else's all
    (None); riders all too if `riders`, else refused."""
    if who.role is Role.RIDER:
        if riders:
            return None
        raise OutOfScope("a district's overview is for its officers, admins, auditors and services")
    require_district(who, district)
    return set(who.grids) if who.role is Role.GRID_OFFICER else None


def narrowed(who: Principal, district: str) -> Principal:
    """The token as if it named `district` alone (one of its own)."""
    require_district(who, district)
    return replace(who, districts=frozenset({district}))


# --- one thing, found: a 404 unless the caller sees it ----------------------------------------

def sees(who: Principal, district: str, grid: str | None = None, rider: str | None = None) -> bool:
    """Whether `who` may see a thing of `district` (in `grid`, about `rider`)."""
    if who.role is Role.RIDER:
        return rider is not None and rider == who.sub
    mine = reach(who)
    return mine.covers_district(district) and mine.covers_grid(grid)


def photo_uploader(who: Principal) -> str:
    """Who a photo's upload is by: riders alone give evidence (its id, as the token names it)."""
    if who.role is not Role.RIDER:
        raise NotAllowed(f"a {who.role.value} may not upload photos: riders give evidence", role=who.role.value)
    return who.sub


def photo_seen(who: Principal, photo: dict[str, Any]) -> dict[str, Any] | None:
    """A photo as `who` sees it, or None: its uploader sees it whole; anyone else only if it sees a
    clue or task that cites it (`sees` on each), and only those of its citations."""
    if who.role is Role.RIDER:
        return photo if who.sub == photo["rider_id"] else None
    cites = [cite for cite in photo["cites"] if sees(who, cite["district"], cite["grid_id"])]
    if not cites:
        return None
    return {**photo, "cites": cites, "districts": sorted({cite["district"] for cite in cites})}


def sees_rider(who: Principal, profile: dict[str, Any]) -> bool:
    """A rider's profile: the rider, the officers of one of its grids, the rest of one of its districts."""
    if who.role is Role.RIDER:
        return who.sub == profile["rider_id"]
    if who.role is Role.GRID_OFFICER:
        return bool(set(profile["grids"]) & who.grids)
    return bool(set(profile["districts"]) & who.districts)


def completions_for(who: Principal, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a rider said and showed when done is for the district's staff and that rider: another rider reading
    the board (any district's is public to riders) gets the task without its completion's note and photos."""
    if who.role is Role.RIDER:
        for task in tasks:
            if task.get("claimant") != who.sub:
                task["completion_note"], task["completion_evidence"] = None, []
    return tasks


def sees_appeal_notes(who: Principal) -> bool:
    """The notes of an appeal's file are the district's working notes: for its staff, not the rider who filed it."""
    return who.role is not Role.RIDER


def sees_personal(who: Principal) -> bool:
    """Name and phone, of a rider `sees_rider` allows: for the rider, its officers and admins."""
    return who.role in (Role.RIDER, Role.GRID_OFFICER, Role.DISTRICT_ADMIN)


def sees_stream(who: Principal, districts: set[str], grids: set[str], owner: str | None, partner: str | None,
                riders_named: Callable[[], set[str]]) -> bool:
    """An event of the log (subscription.py): of a stream about `owner`/`partner`, in
    `districts` and `grids`, naming `riders_named()` (asked of a rider's stream only)."""
    if who.role is Role.RIDER:
        # A task's stream is not any one rider's: a rider sees only the steps that name it.
        return who.sub == owner or who.sub in riders_named()
    if who.role is Role.GRID_OFFICER:
        return bool(grids & who.grids)
    if who.role is Role.PARTNER:
        return who.sub == partner and bool(districts & who.districts)
    return bool(districts & who.districts)


def not_riders(who: Principal, why: str) -> None:
    if who.role is Role.RIDER:
        raise OutOfScope(why)


def not_officers(who: Principal) -> None:
    """Appeals are about money and conduct, which a grid's officers do not decide."""
    if who.role is Role.GRID_OFFICER:
        raise OutOfScope(APPEALS)


# --- a rider's own data ---------------------------------------------------------------------

def rider_itself(who: Principal, rider_id: UUID, why: str, other_rider: str | None = None) -> None:
    """Only the rider itself: `why` to anyone else (`other_rider` to another rider, if given)."""
    if who.role is not Role.RIDER or who.sub != str(rider_id):
        raise OutOfScope(other_rider if who.role is Role.RIDER and other_rider else why)


def rider_money(who: Principal, rider_id: UUID) -> set[str] | None:
    """Districts whose balances of this rider the caller may see (None: all of it, the rider itself)."""
    if who.role is Role.RIDER:
        if who.sub != str(rider_id):
            raise OutOfScope(OWN_MONEY)
        return None
    return set(who.districts)


def rider_lists(who: Principal, rider_id: UUID, *, officers: bool = True) -> tuple[set[str] | None, set[str] | None]:
    """For a rider's own lists: (districts, grids) the caller may see of them; None, None for the rider itself."""
    if who.role is Role.RIDER:
        if who.sub != str(rider_id):
            raise OutOfScope("a rider sees only its own clues, tasks and appeals")
        return None, None
    if who.role is Role.GRID_OFFICER:
        if not officers:
            raise OutOfScope(APPEALS)
        return set(who.districts), set(who.grids)
    return set(who.districts), None


def rider_redemptions(who: Principal, rider_id: UUID) -> set[str] | None:
    """Districts whose redemptions of this rider the caller may see (None: all, the rider itself)."""
    if who.role is Role.RIDER and who.sub != str(rider_id):
        raise OutOfScope("a rider sees only its own redemptions")
    if who.role not in (Role.RIDER, Role.DISTRICT_ADMIN, Role.AUDITOR):
        raise OutOfScope("a rider's redemptions are for the rider, admins and auditors")
    return None if who.role is Role.RIDER else set(who.districts)


# --- the rest -------------------------------------------------------------------------------

def trail_districts(who: Principal) -> set[str]:
    """The districts whose audit trail (an award's chain) the caller may read."""
    if who.role is Role.RIDER:
        raise OutOfScope("the audit trail is for officers, admins and auditors")
    return set(who.districts)


def own_queue(who: Principal, partner_id: UUID) -> bool:
    """A partner's queue: True for the partner itself; False for an admin or auditor, who
    must then cover the partner's district (`require_district`); anyone else is refused."""
    if who.role is Role.PARTNER:
        if who.sub != str(partner_id):
            raise OutOfScope("a partner sees only its own queue")
        return True
    if who.role not in (Role.DISTRICT_ADMIN, Role.AUDITOR):
        raise OutOfScope("a partner's queue is for the partner and its district's admins and auditors")
    return False
