"""Every route × every role × inside / outside its scope, from one table.

"inside" is a token of the story's district (and grid, for an officer; for a
rider, the rider itself; for a partner, the partner the story's redemption was
handed to); "outside" is one of another district (another grid, another rider,
another district's partner). The matrix checks authorization only: an allowed
call may still meet a domain refusal (404/409/422), but never 401 or 403; a
refused one is 403.

Every test runs twice: with the tests' HS256 tokens, and against the OpenID Connect
provider of scripts/keycloak.sh, every token issued by it and the API trusting its keys
alone (`-k provider` runs those; `-k test-tokens` the others).
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import shutil
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from domain.events import Role
from domain.ids import SeededIds
from tests.fixtures.http import Api, api_on, is_problem, provider_api, story
from tests.fixtures.ids import Counted, seeded_after

ADMIN, OFFICER, RIDER, AUDITOR, SERVICE, PARTNER = (Role.DISTRICT_ADMIN, Role.GRID_OFFICER, Role.RIDER,
                                                    Role.AUDITOR, Role.SERVICE, Role.PARTNER)
ALL = (ADMIN, OFFICER, RIDER, AUDITOR, SERVICE, PARTNER)
# A partner confirms or refuses the redemptions handed to it (and ends them when their hold ran
# out), nothing else: of the queries, only the transparency log's, which any token may read.
ALL_BUT_PARTNERS = (ADMIN, OFFICER, RIDER, AUDITOR, SERVICE)
STATION = {"name": "柳城骑手驿站", "address": "柳城街道1号", "location": {"lat": 30.6, "lon": 103.8},
           "hours": "07:00-22:00", "services": ["charging", "water"]}
# On offer through the story (which starts on 2026-11-02), held an hour once redeemed.
ITEM = {"name": "社区食堂工作餐", "price_points": 1, "valid_from": "2026-11-01T00:00:00+08:00",
        "valid_to": "2027-11-01T00:00:00+08:00", "hold_minutes": 60}
OK, DENIED, NOTHING = "allowed", "denied", "sees nothing"
# A 1×1 PNG, the scene's clue's evidence.
# Outside the scene: a rider that is not the scene's, another grid, a partner of 锦江 never registered.
# Fixed, so that the provider's users for them are made once for the whole matrix.
ANOTHER_RIDER, ANOTHER_GRID, ANOTHER_PARTNER = ("5b0e7a52-8f0c-4a8e-9a55-0c1e2d3f4a51", "9d4c3b2a-1e0f-4d8c-8b7a-6f5e4d3c2b1a",
                                                "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478da63f8cf"
                    "c000000301010018dd8db00000000049454e44ae426082")


def box(west: float, south: float, side: float) -> dict[str, Any]:
    """A square boundary (GeoJSON) with its south-west corner given."""
    east, north = west + side, south + side
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                [west, south]]]}

# route -> (roles allowed, does "outside" matter, body or params from the story's ids)
Body = Callable[[dict[str, Any]], dict[str, Any]]
COMMANDS: dict[str, tuple[tuple[Role, ...], bool, Body]] = {
    "register-grid": ((ADMIN,), True, lambda s: {"district": "温江", "street": "s", "community": "c", "name": "n"}),
    "assign-officer": ((ADMIN,), True, lambda s: {"grid_id": s["grid"], "officer_id": "officer-2"}),
    "name-staff": ((ADMIN,), True, lambda s: {"staff_id": "officer-2", "display_name": "李建国", "district": "温江",
                                              "role": "grid_officer"}),
    "remove-officer": ((ADMIN,), True, lambda s: {"grid_id": s["grid"], "officer_id": "officer-9"}),
    # A new rider is in no district until it joins a grid: any admin may register one.
    "register-rider": ((ADMIN, RIDER), False, lambda s: {"rider_id": s["me"], "platform": "p", "station": "s",
                                                         "name": "n", "phone": "13800000009"}),
    "join-grid": ((ADMIN, RIDER), True, lambda s: {"rider_id": s["me"], "grid_id": s["grid"]}),
    "certify-supervisor": ((ADMIN,), True, lambda s: {"rider_id": s["rider_id"], "certificate": "c-1"}),
    "suspend-rider": ((ADMIN,), True, lambda s: {"rider_id": s["rider_id"], "reason": "r"}),
    "reinstate-rider": ((ADMIN,), True, lambda s: {"rider_id": s["rider_id"], "reason": "r"}),
    "report-clue": ((RIDER,), True, lambda s: {"rider_id": s["me"], "grid_id": s["grid"], "category": "other",
                                               "text": "t", "location": {"lat": 30.6, "lon": 103.8}}),
    "accept-clue": ((ADMIN, OFFICER), True, lambda s: {"clue_id": s["clue"], "kind": "k", "rate_code": "fire-lane"}),
    "reject-clue": ((ADMIN, OFFICER), True, lambda s: {"clue_id": s["clue"], "reason": "r"}),
    "publish-task": ((ADMIN, OFFICER), True, lambda s: {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"}),
    "claim-task": ((RIDER,), True, lambda s: {"task_id": s["open_task"], "rider_id": s["me"]}),
    "complete-task": ((RIDER,), True, lambda s: {"task_id": s["open_task"], "rider_id": s["me"]}),
    "verify-completion": ((ADMIN, OFFICER), True, lambda s: {"task_id": s["open_task"]}),
    "reject-completion": ((ADMIN, OFFICER), True, lambda s: {"task_id": s["open_task"], "reason": "r"}),
    "cancel-task": ((ADMIN, OFFICER), True, lambda s: {"task_id": s["spare_task"], "reason": "r"}),
    "expire-claim": ((ADMIN, OFFICER), True, lambda s: {"task_id": s["open_task"]}),
    "issue-rate-schedule": ((ADMIN,), True, lambda s: {"district": "温江", "effective_from": "2026-12-01T00:00:00Z",
                                                       "rates": {"x": {"fen": 1}}, "cap_day_fen": 1,
                                                       "cap_month_fen": 1}),
    "allocate-budget": ((ADMIN,), True, lambda s: {"district": "温江", "period": "2026-11", "fen": 1}),
    "settle-payout": ((ADMIN,), True, lambda s: {"rider_id": s["rider_id"], "period": "2026-11", "district": "温江",
                                                  "batch_id": str(uuid.uuid4()), "fen": 1}),
    # Stations, partners and the catalogue: the district's admins.
    "register-station": ((ADMIN,), True, lambda s: {"district": "温江", "description": STATION}),
    "update-station": ((ADMIN,), True, lambda s: {"station_id": s["station"], "description": {**STATION,
                                                                                               "hours": "24h"}}),
    "close-station": ((ADMIN,), True, lambda s: {"station_id": s["station"], "reason": "r"}),
    "register-partner": ((ADMIN,), True, lambda s: {"district": "温江", "name": "n", "kind": "shop",
                                                     "station_id": s["station"]}),
    "list-item": ((ADMIN,), True, lambda s: {"district": "温江", "partner_id": s["partner_id"], **ITEM,
                                             "stock": 1}),
    "revise-item": ((ADMIN,), True, lambda s: {"item_id": s["item"], **ITEM, "stock_added": 1}),
    "withdraw-item": ((ADMIN,), True, lambda s: {"item_id": s["item"], "reason": "r"}),
    # Redemptions: the rider itself redeems; the partner it was handed to confirms or refuses;
    # the partner or the district's admins end a hold (here still running: 409, not 403).
    "redeem-item": ((RIDER,), True, lambda s: {"rider_id": s["me"], "item_id": s["item"]}),
    "confirm-redemption": ((PARTNER,), True, lambda s: {"redemption_id": s["redemption"], "code": s["code"]}),
    "refuse-redemption": ((PARTNER,), True, lambda s: {"redemption_id": s["redemption"], "reason": "r"}),
    "expire-redemption": ((ADMIN, PARTNER), True, lambda s: {"redemption_id": s["redemption"]}),
    "renew-redemption-code": ((RIDER,), True, lambda s: {"redemption_id": s["redemption"]}),
    "file-appeal": ((RIDER,), True, lambda s: {"rider_id": s["me"], "district": "温江", "text": "t",
                                               "subject": {"kind": "outside", "ref": "x"}}),
    "assign-appeal": ((ADMIN,), True, lambda s: {"appeal_id": s["appeal"], "assignee_id": "a"}),
    "note-appeal": ((ADMIN,), True, lambda s: {"appeal_id": s["appeal"], "text": "t"}),
    "decide-appeal": ((ADMIN,), True, lambda s: {"appeal_id": s["appeal"], "outcome": "dismissed", "reason": "r"}),
    "retire-grid": ((ADMIN,), True, lambda s: {"grid_id": s["grid"], "reason": "r"}),
    "set-grid-boundary": ((ADMIN,), True, lambda s: {"grid_id": s["grid"], "boundary": box(103.79, 30.59, 0.02)}),
    "set-district-boundary": ((ADMIN,), True, lambda s: {"district": "温江", "boundary": box(103.7, 30.5, 0.2)}),
    "leave-grid": ((ADMIN, RIDER), True, lambda s: {"rider_id": s["me"], "grid_id": s["grid"]}),
    "erase-personal-data": ((ADMIN, RIDER), True, lambda s: {"rider_id": s["me"], "reason": "r"}),
    "mark-duplicate": ((ADMIN, OFFICER), True, lambda s: {"clue_id": s["clue"], "of_clue_id": s["clue"]}),
    "release-claim": ((RIDER,), True, lambda s: {"task_id": s["open_task"], "rider_id": s["me"]}),
    "reverse-award": ((ADMIN,), True, lambda s: {"rider_id": s["rider_id"], "period": "2026-11",
                                                  "piece_id": s["task"], "reason": "r"}),
    "expire-points": ((ADMIN,), True, lambda s: {"rider_id": s["rider_id"], "points": 1, "reason": "r"}),
    "set-points-policy": ((ADMIN,), True, lambda s: {"district": "温江", "expire_after_months": 12}),
    "expire-old-points": ((ADMIN,), True, lambda s: {"rider_id": s["rider_id"], "district": "温江",
                                                      "month": "2026-10"}),
    "revoke-open311-key": ((ADMIN,), True, lambda s: {"key_id": s["open311_key"], "reason": "r"}),
}
QUERIES: dict[str, tuple[tuple[Role, ...], bool, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]]] = {
    "board": (ALL_BUT_PARTNERS, True, lambda s: ("/v1/board", {"district": s["district"]})),
    "budgets": ((ADMIN, OFFICER, AUDITOR, SERVICE), True, lambda s: (f"/v1/districts/{s['district']}/budgets", {})),
    "stats": (ALL_BUT_PARTNERS, True, lambda s: ("/v1/stats", {"district": s["district"]})),
    "points": ((RIDER,), True, lambda s: (f"/v1/riders/{s['me']}/points", {})),
    "balances": ((RIDER, ADMIN, OFFICER, AUDITOR, SERVICE), False, lambda s: (f"/v1/riders/{s['me']}/balances", {})),
    "pieces": ((RIDER, ADMIN, OFFICER, AUDITOR, SERVICE), False, lambda s: (f"/v1/riders/{s['me']}/pieces", {})),
    "balance-at": ((RIDER,), True, lambda s: (f"/v1/riders/{s['me']}/balance-at", {"at": "2026-11-30T00:00:00Z"})),
    "history": ((ADMIN, AUDITOR, SERVICE), True, lambda s: (f"/v1/districts/{s['district']}/history", {})),
    "chain": ((ADMIN, OFFICER, AUDITOR, SERVICE), True, lambda s: (f"/v1/awards/{s['task']}/chain", {})),
    "events": (ALL, True, lambda s: ("/v1/events/stream", {"follow": "false"})),
    "clue": (ALL_BUT_PARTNERS, True, lambda s: (f"/v1/clues/{s['clue']}", {})),
    "grid-clues": ((ADMIN, OFFICER, AUDITOR, SERVICE), True, lambda s: (f"/v1/grids/{s['grid']}/clues", {})),
    "rider-clues": (ALL_BUT_PARTNERS, False, lambda s: (f"/v1/riders/{s['me']}/clues", {})),
    "appeal": ((ADMIN, RIDER, AUDITOR, SERVICE), True, lambda s: (f"/v1/appeals/{s['appeal']}", {})),
    "district-appeals": ((ADMIN, AUDITOR, SERVICE), True, lambda s: (f"/v1/districts/{s['district']}/appeals", {})),
    "rider-appeals": ((ADMIN, RIDER, AUDITOR, SERVICE), False, lambda s: (f"/v1/riders/{s['me']}/appeals", {})),
    "rate-schedules": (ALL_BUT_PARTNERS, True, lambda s: (f"/v1/districts/{s['district']}/rate-schedules", {})),
    "rider": (ALL_BUT_PARTNERS, True, lambda s: (f"/v1/riders/{s['me']}", {})),
    "rider-tasks": (ALL_BUT_PARTNERS, False, lambda s: (f"/v1/riders/{s['me']}/tasks", {})),
    "staff": ((ADMIN, OFFICER, AUDITOR, SERVICE), True, lambda s: (f"/v1/districts/{s['district']}/staff", {})),
    # The district's Open311 keys: its admins alone (api/http/open311_keys.py).
    "open311-keys": ((ADMIN,), True, lambda s: (f"/v1/districts/{s['district']}/open311-keys", {})),
    "district-riders": ((ADMIN,), True, lambda s: (f"/v1/districts/{s['district']}/riders", {})),
    # A photo: its uploader, and whoever sees the clue citing it (api/http/photos.py).
    "photo": (ALL_BUT_PARTNERS, True, lambda s: (f"/v1/photos/{s['photo']}", {})),
    "photo-about": (ALL_BUT_PARTNERS, True, lambda s: (f"/v1/photos/{s['photo']}/about", {})),
    # What the pages draw (api/http/dashboards.py).
    "grids": (ALL_BUT_PARTNERS, True, lambda s: (f"/v1/districts/{s['district']}/grids", {})),
    "clue-map": ((ADMIN, OFFICER, AUDITOR, SERVICE), True, lambda s: (f"/v1/districts/{s['district']}/clue-map", {})),
    "places": ((ADMIN, OFFICER, AUDITOR, SERVICE), True, lambda s: (f"/v1/districts/{s['district']}/places", {})),
    "clue-queue": ((ADMIN, AUDITOR, SERVICE), True, lambda s: (f"/v1/districts/{s['district']}/clue-queue", {})),
    "subsidy-per-day": ((ADMIN, AUDITOR, SERVICE), True,
                        lambda s: (f"/v1/districts/{s['district']}/subsidy-per-day", {})),
    "open-tasks": ((RIDER,), True, lambda s: (f"/v1/riders/{s['me']}/open-tasks", {"near": "30.6,103.8"})),
    # What a district's auditors take away, and who looked: its auditors only.
    "audit-export": ((AUDITOR,), True, lambda s: (f"/v1/districts/{s['district']}/audit-export", {"from": "2026-11"})),
    "accesses": ((AUDITOR,), True, lambda s: (f"/v1/districts/{s['district']}/accesses", {})),
    # The rewards (api/http/rewards.py): the stations near a place for any token; a district's stations,
    # partners, points policy and catalogue for riders of any district and the district's others; a
    # partner's queue for itself and its district's admins and auditors; a rider's redemptions for
    # itself, and the admins and auditors of their districts.
    "stations": (ALL, False, lambda s: ("/v1/stations", {"near": "30.6,103.8"})),
    "district-stations": (ALL, True, lambda s: (f"/v1/districts/{s['district']}/stations", {})),
    "partners": (ALL, True, lambda s: (f"/v1/districts/{s['district']}/partners", {})),
    "points-policy": (ALL, True, lambda s: (f"/v1/districts/{s['district']}/points-policy", {})),
    "catalogue": (ALL, True, lambda s: (f"/v1/districts/{s['district']}/catalogue", {})),
    "partner-queue": ((PARTNER, ADMIN, AUDITOR), True, lambda s: (f"/v1/partners/{s['partner_id']}/queue", {})),
    "rider-redemptions": ((RIDER, ADMIN, AUDITOR), False, lambda s: (f"/v1/riders/{s['me']}/redemptions", {})),
    "handed-out": ((ADMIN, AUDITOR, SERVICE), True,
                   lambda s: (f"/v1/districts/{s['district']}/handed-out", {"month": "2026-11"})),
    # The transparency log: hashes, positions and signatures, no event's content: any token.
    "checkpoint": (ALL, False, lambda s: ("/v1/audit/checkpoint", {})),
    "checkpoint-at": (ALL, False, lambda s: ("/v1/audit/checkpoints/1", {})),
    "checkpoints": (ALL, False, lambda s: ("/v1/audit/checkpoints", {"limit": 5})),
    "inclusion": (ALL, False, lambda s: ("/v1/audit/proofs/inclusion", {"position": 1})),
    "consistency": (ALL, False, lambda s: ("/v1/audit/proofs/consistency", {"old": 1})),
}
TRANSPARENCY = {"checkpoint", "checkpoint-at", "checkpoints", "inclusion", "consistency"}
EVERY_TOKEN = TRANSPARENCY | {"stations"}
# Outside its scope, these answer as if there were nothing there (404, or an empty
# stream) rather than 403: a token outside a district sees nothing of it.
HIDDEN = {"chain", "events", "clue", "grid-clues", "appeal", "rider", "photo", "photo-about"}


# The scene is built once a session for each kind of token (about 20 commands and a photo: most of
# a case's time if made for each), its stores kept closed; a test that may write gets a copy of those
# files and an engine resumed on it: its clock where the scene left it, the provider's seeded ids drawn
# on from where the scene stopped. What a test writes stays in its copy. The cases that write nothing
# (queries, refused commands) share one such engine per kind: a new engine was 0.14 s of a 0.22 s case.
SEED = 31  # the provider's seeded ids: the same people in every session, so its users are made once


@dataclass(frozen=True)
class Built:
    """A kind's scene as built: its stores (every file the engine wrote), the ids the cases use,
    the clock after it, the log's head, and how many ids the engine and the story had drawn."""
    stores: Path
    ids: dict[str, Any]
    now: datetime
    head: int
    drawn: tuple[int, int]


@contextmanager
def engine_of(kind: str, folder: Path, keycloak: Any, drawn: tuple[int, int] | None = None) -> Iterator[Api]:
    """The API on the stores under `folder`, with the kind's tokens; the provider's ids go on after `drawn`."""
    if kind == "provider":
        ids, own_ids = (SeededIds(SEED), SeededIds(SEED + 1)) if drawn is None else (
            seeded_after(SEED, drawn[0]), seeded_after(SEED + 1, drawn[1]))
        with provider_api(folder, keycloak, SEED, Counted(ids), Counted(own_ids)) as api:
            yield api
    else:
        with api_on(folder) as api:
            yield api


def build(kind: str, folder: Path, keycloak: Any) -> Built:
    with engine_of(kind, folder, keycloak) as api:
        ids = make_scene(api)
        now, head = api.clock.now(), api.feed.head()
        drawn = (api.engine.app.ids.given, api.ids.given) if kind == "provider" else (0, 0)
    return Built(folder, ids, now, head, drawn)


@contextmanager
def resumed(kind: str, built: Built, folder: Path, keycloak: Any) -> Iterator[Api]:
    """An engine on a copy of the built scene's stores, as the scene left it."""
    shutil.copytree(built.stores, folder, dirs_exist_ok=True)
    with engine_of(kind, folder, keycloak, built.drawn) as api:
        api.clock.set(built.now)
        yield api


@pytest.fixture(scope="session")
def scenes() -> dict[str, Built]:
    return {}  # by kind of tokens, built when a test of the kind first asks


@pytest.fixture(params=["test-tokens", "provider"])
def tokens(request: pytest.FixtureRequest) -> str:
    """The kind of tokens: the tests' HS256 ones, or the provider's."""
    return request.param


@pytest.fixture
def keycloak_if(tokens: str, request: pytest.FixtureRequest) -> Any:
    """The provider, for its tokens only: the test tokens' cases run without it."""
    return request.getfixturevalue("keycloak") if tokens == "provider" else None


@pytest.fixture
def built(tokens: str, keycloak_if: Any, scenes: dict[str, Built],
          tmp_path_factory: pytest.TempPathFactory) -> Built:
    if tokens not in scenes:
        scenes[tokens] = build(tokens, tmp_path_factory.mktemp(f"scene-{tokens}"), keycloak_if)
    return scenes[tokens]


@pytest.fixture
def api(tokens: str, built: Built, keycloak_if: Any, tmp_path: Path) -> Iterator[Api]:
    """The API with the tests' HS256 tokens, or trusting the provider's keys alone, on the scene."""
    with resumed(tokens, built, tmp_path, keycloak_if) as api:
        yield api


@pytest.fixture(scope="session")
def shared() -> Iterator[tuple[ExitStack, dict[str, Api]]]:
    with ExitStack() as stack:
        yield stack, {}  # by kind of tokens, resumed when a case of the kind first asks


@pytest.fixture
def shared_api(tokens: str, built: Built, keycloak_if: Any, shared: tuple[ExitStack, dict[str, Api]],
               tmp_path_factory: pytest.TempPathFactory) -> Api:
    """One engine per kind on one copy of the scene, for the cases that write nothing: every query
    (an auditor's is recorded in the access log, which no case's answer depends on) and every command
    the table refuses (`test_authorization` checks that its refusal wrote nothing)."""
    stack, engines = shared
    if tokens not in engines:
        engines[tokens] = stack.enter_context(resumed(tokens, built, tmp_path_factory.mktemp(f"shared-{tokens}"),
                                                      keycloak_if))
    return engines[tokens]


@pytest.fixture
def scene(api: Api, built: Built) -> dict[str, Any]:  # noqa: F811
    return scene_of(api, built)


def scene_of(api: Api, built: Built) -> dict[str, Any]:
    """The scene's ids, and its people's tokens made now (the provider's live minutes, not a session)."""
    s = copy.deepcopy(built.ids)
    s["admin"] = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    s["rider"] = api.token(Role.RIDER, s["rider_id"], [])
    s["officer"] = api.token(Role.GRID_OFFICER, "officer-1", grids=[s["grid"]])
    return s


def make_scene(api: Api) -> dict[str, Any]:
    s = story(api)
    s["photo"] = api.client.post("/v1/photos", files={"photo": ("p.png", PNG, "image/png")},
                                 headers=s["rider"]).json()["sha256"]
    s["clue"] = api.command("report-clue", {"rider_id": s["rider_id"], "grid_id": s["grid"], "category": "other",
                                            "text": "t", "location": {"lat": 30.6, "lon": 103.8},
                                            "evidence_hashes": [s["photo"]]}, s["rider"])["result"]["clue_id"]
    s["open_task"] = api.command("publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"},
                                 s["officer"])["result"]["task_id"]
    s["spare_task"] = api.command("publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"},
                                  s["officer"])["result"]["task_id"]
    s["appeal"] = api.command("file-appeal", {"rider_id": s["rider_id"], "district": "温江", "text": "t",
                                              "subject": {"kind": "outside", "ref": "x"}}, s["rider"])["result"][
        "appeal_id"]
    # A station, its canteen (the partner), an item of the canteen's, and the rider's redemption of
    # it, held for the canteen: the code is what the rider shows.
    s["station"] = api.command("register-station", {"district": "温江", "description": STATION},
                               s["admin"])["result"]["station_id"]
    s["partner_id"] = api.command("register-partner", {"district": "温江", "name": "社区食堂", "kind": "canteen",
                                                       "station_id": s["station"]}, s["admin"])["result"]["partner_id"]
    s["item"] = api.command("list-item", {"district": "温江", "partner_id": s["partner_id"], **ITEM, "stock": 5},
                            s["admin"])["result"]["item_id"]
    held = api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": s["item"]}, s["rider"])["result"]
    s["redemption"], s["code"] = held["redemption_id"], held["code"]
    # A service's Open311 key of 温江 (revoke-open311-key revokes it).
    s["open311_key"] = api.client.post("/v1/districts/温江/open311-keys", json={"label": "城管热线"},
                                       headers=s["admin"]).json()["key_id"]
    # Another district's partner: its token only, for nothing may happen in 锦江 (its tokens see nothing).
    s["other_partner_id"] = ANOTHER_PARTNER
    return s


def other_partner(api: Api) -> str:
    """A partner of 锦江, registered."""
    return api.command("register-partner", {"district": "锦江", "name": "锦江小卖部", "kind": "shop"},
                       api.token(ADMIN, "admin-锦江", ["锦江"]))["result"]["partner_id"]


def token(api: Api, s: dict[str, Any], role: Role, inside: bool) -> tuple[dict[str, str], str]:
    """A token of the role, inside or outside the scene's scope, and the rider id it acts as."""
    district = "温江" if inside else "锦江"
    if role is RIDER:  # outside: another rider's token, acting for the scene's rider
        return api.token(RIDER, s["rider_id"] if inside else ANOTHER_RIDER, []), s["rider_id"]
    if role is PARTNER:  # a partner's token: its id, its district
        return api.token(PARTNER, s["partner_id"] if inside else s["other_partner_id"], [district]), s["rider_id"]
    grids = [s["grid"] if inside else ANOTHER_GRID] if role is OFFICER else []
    sub = "officer-1" if role is OFFICER else f"{role.value}-x"
    return api.token(role, sub, [district], grids), s["rider_id"]


def test_the_table_covers_every_command_route() -> None:
    from api.http.app import kebab
    from application.handlers import HANDLERS, INTERNAL

    assert {kebab(command.__name__) for command in HANDLERS if command not in INTERNAL} == set(COMMANDS)


def test_the_table_covers_every_query_route(api: Api) -> None:  # noqa: F811
    names = {"me": "{rider_id}", "district": "{district}", "task": "{piece_id}", "clue": "{clue_id}",
             "grid": "{grid_id}", "appeal": "{appeal_id}", "partner_id": "{partner_id}", "photo": "{sha256}"}
    tabled = {build(names)[0] for _, _, build in QUERIES.values()} - {"/v1/audit/checkpoints/1"} | {
        "/v1/audit/checkpoints/{size}"}
    paths = api.client.get("/openapi.json").json()["paths"]
    assert tabled == {path for path, methods in paths.items() if "get" in methods and path.startswith("/v1/")}


CASES = [(kind, route, role, inside) for kind, table in (("command", COMMANDS), ("query", QUERIES))
         for route in table for role in ALL for inside in (True, False)]


def expectation(kind: str, route: str, role: Role, inside: bool) -> str:
    """What the table says of a case: allowed, denied, or (hidden outside its scope) sees nothing."""
    roles, scoped, _ = (COMMANDS if kind == "command" else QUERIES)[route]
    # The board, the statistics, the rates, the grids' names and the rewards on offer (stations, partners,
    # points policy, catalogue) are public to riders, whoever they are. The transparency log and the
    # stations near a place are public to every token.
    public = (role is RIDER and route in ("board", "stats", "rate-schedules", "grids", "district-stations",
                                          "partners", "points-policy", "catalogue") or route in EVERY_TOKEN)
    # A rider "outside" acts for another rider: refused wherever identity matters.
    unscoped = not scoped and role is not RIDER
    expected = OK if role in roles and (inside or unscoped or public) else DENIED
    if expected is DENIED and role in roles and route in HIDDEN:
        expected = NOTHING
    return expected


@pytest.mark.parametrize("kind,route,role,inside", CASES,
                         ids=[f"{r}-{ro.value}-{'in' if i else 'out'}" for _, r, ro, i in CASES])
def test_authorization(request: pytest.FixtureRequest, built: Built, kind: str, route: str, role: Role,
                       inside: bool) -> None:
    expected = expectation(kind, route, role, inside)
    # An allowed command may write: it gets a copy of the scene of its own (64 of a kind's 1,140 cases).
    # The others write nothing a case depends on and share one engine (a new one was most of a case's time).
    writes = kind == "command" and expected is OK
    api: Api = request.getfixturevalue("api" if writes else "shared_api")
    scene = scene_of(api, built)
    headers, me = token(api, scene, role, inside)
    head = api.feed.head()
    if kind == "command":
        response = api.client.post(f"/v1/commands/{route}", json=COMMANDS[route][2]({**scene, "me": me}),
                                   headers=headers)
    else:
        api.feed.catch_up()
        path, params = QUERIES[route][2]({**scene, "me": me, "district": "温江"})
        response = api.client.get(path, params=params, headers=headers)
    assert response.status_code != 401, response.text
    if expected is NOTHING:
        assert response.status_code == 404 or (response.status_code == 200 and response.text == ""), response.text
    elif expected is DENIED:
        assert response.status_code == 403, f"{role.value} {'in' if inside else 'out'}: {response.text}"
        assert response.headers["content-type"] == "application/problem+json"
        if kind == "command":  # nothing but the access log's record of an auditor's request
            written = {topic for _, _, _, topic, _ in api.feed.log.page(head, 10)}
            assert written <= {"gridgov.AuditAccessed"}, f"a refused command wrote {written}"
    else:
        assert response.status_code != 403, f"{role.value} {'in' if inside else 'out'}: {response.text}"
        assert response.status_code < 500, response.text
        if route == "events":
            assert "event: " in response.text  # the scene's own events, visible inside


# --- what the matrix cannot say in one cell --------------------------------------------------

@pytest.mark.parametrize("role,inside", [(role, inside) for role in ALL for inside in (True, False)],
                         ids=[f"{role.value}-{'in' if inside else 'out'}" for role in ALL for inside in (True, False)])
def test_only_the_districts_admins_issue_open311_keys(api: Api, scene: dict[str, Any], role: Role,  # noqa: F811
                                                      inside: bool) -> None:
    """Not a command route (the API makes the secret), so not in COMMANDS: the same cases, by hand."""
    headers, me = token(api, scene, role, inside)
    response = api.client.post("/v1/districts/温江/open311-keys", json={"label": "l"}, headers=headers)
    if role is ADMIN and inside:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 403, f"{role.value} {'in' if inside else 'out'}: {response.text}"
        assert response.headers["content-type"] == "application/problem+json"


def test_only_the_partner_it_was_handed_to_confirms_or_refuses(api: Api, scene: dict[str, Any]) -> None:  # noqa: F811
    """Another partner of the same district is refused as not the partner, whatever it sends;
    the redemption's own partner confirms with the code the rider was shown."""
    s = scene
    assert re.fullmatch(r"\d{6}", s["code"]), s["code"]
    neighbour_id = api.command("register-partner", {"district": "温江", "name": "隔壁小卖部", "kind": "shop"},
                               s["admin"])["result"]["partner_id"]
    neighbour = api.token(PARTNER, neighbour_id, ["温江"])
    for name, body in (("confirm-redemption", {"redemption_id": s["redemption"], "code": s["code"]}),
                       ("refuse-redemption", {"redemption_id": s["redemption"], "reason": "r"}),
                       ("expire-redemption", {"redemption_id": s["redemption"]})):
        is_problem(api.command(name, body, neighbour, 403), "not-the-partner", 403)
    # A token naming the partner but not its district reaches nothing of it.
    astray = api.token(PARTNER, s["partner_id"], ["锦江"])
    api.command("confirm-redemption", {"redemption_id": s["redemption"], "code": s["code"]}, astray, 403)
    partner = api.token(PARTNER, s["partner_id"], ["温江"])
    confirmed = api.command("confirm-redemption", {"redemption_id": s["redemption"], "code": s["code"]}, partner)
    assert confirmed["result"]["points_spent"] == 1


def test_a_hold_is_ended_only_once_it_ran_out(api: Api, scene: dict[str, Any]) -> None:  # noqa: F811
    """The partner or the district's admins may end a hold, but not before its time: 409, not 403."""
    s = scene
    partner = api.token(PARTNER, s["partner_id"], ["温江"])
    expire = {"redemption_id": s["redemption"]}
    for who in (s["admin"], partner):
        is_problem(api.command("expire-redemption", expire, who, 409), "hold-not-expired", 409)
    api.clock.advance(61 * 60)
    for who in (api.token(ADMIN, "admin-锦江", ["锦江"]), api.token(PARTNER, other_partner(api), ["锦江"]),
                s["officer"], s["rider"], api.token(AUDITOR, "auditor-温江"), api.token(SERVICE, "service-温江")):
        api.command("expire-redemption", expire, who, 403)
    assert api.command("expire-redemption", expire, s["admin"])["result"]["points_returned"] == 1
    # Ended: the partner can no longer confirm it.
    api.command("confirm-redemption", {"redemption_id": s["redemption"], "code": s["code"]}, partner, 409)


def test_a_rider_redeems_only_in_a_district_it_belongs_to(api: Api, scene: dict[str, Any]) -> None:  # noqa: F811
    s = scene
    elsewhere = api.token(ADMIN, "admin-锦江", ["锦江"])
    item = api.command("list-item", {"district": "锦江", "partner_id": other_partner(api), **ITEM, "stock": 5},
                       elsewhere)["result"]["item_id"]
    refused = api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": item}, s["rider"], 403)
    is_problem(refused, "not-a-member", 403)
    # Nor may anyone else redeem for the rider, its district's admin included.
    for who in (s["admin"], s["officer"], api.token(PARTNER, s["partner_id"], ["温江"])):
        api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": s["item"]}, who, 403)


def test_a_partners_stream_carries_its_own_business_only(api: Api, scene: dict[str, Any]) -> None:  # noqa: F811
    """Its partner stream, its items, the redemptions handed to it: not its district's
    clues, tasks, subsidies or riders, nor another partner's redemptions."""
    s = scene
    neighbour = api.command("register-partner", {"district": "温江", "name": "隔壁小卖部", "kind": "shop"},
                            s["admin"])["result"]["partner_id"]
    partner = api.token(PARTNER, s["partner_id"], ["温江"])
    text = api.client.get("/v1/events/stream", params={"follow": "false"}, headers=partner).text
    kinds = set(re.findall(r"^event: (\w+)", text, flags=re.M))
    assert {"PartnerRegistered", "ItemListed", "RedemptionHeld"} <= kinds
    assert kinds <= {"PartnerRegistered", "ItemListed", "ItemRevised", "ItemWithdrawn", "StockReserved",
                     "StockReturned", "RedemptionHeld", "RedemptionConfirmed", "RedemptionRefused",
                     "RedemptionExpired"}, kinds
    assert neighbour not in text


# --- the scene each case starts from ----------------------------------------------------------

def digest(folder: Path) -> str:
    """Every file under the folder, by name and content."""
    sha = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        sha.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def red_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (255, 0, 0)).save(out, "PNG")
    return out.getvalue()


def test_each_case_starts_from_the_scene_and_its_writes_stay_in_its_copy(
        tokens: str, built: Built, keycloak_if: Any, tmp_path: Path) -> None:
    """Two cases one after the other: each starts where the scene ended (its log, its clock); what
    the first writes (a grid, a photo) the second does not see; the scene's own files stay as built."""
    as_built = digest(built.stores)
    admin_of = lambda api: api.token(ADMIN, "admin-温江")  # noqa: E731
    rider_of = lambda api: api.token(RIDER, built.ids["rider_id"], [])  # noqa: E731
    grid = {"district": "温江", "street": "s", "community": "c"}
    with resumed(tokens, built, tmp_path / "first", keycloak_if) as first:
        assert (first.feed.head(), first.clock.now()) == (built.head, built.now)
        first.command("register-grid", {**grid, "name": "第一个副本的网格"}, admin_of(first))
        photo = first.client.post("/v1/photos", files={"photo": ("p.png", red_png(), "image/png")},
                                  headers=rider_of(first)).json()["sha256"]
        first.query(f"/v1/photos/{photo}/about", rider_of(first))
        assert "第一个副本的网格" in str(first.query("/v1/districts/温江/grids", admin_of(first)))
    with resumed(tokens, built, tmp_path / "second", keycloak_if) as second:
        assert (second.feed.head(), second.clock.now()) == (built.head, built.now)
        # Its ids go on from the scene's: none is one the scene's engine drew (the provider's seeded ids).
        again = second.command("register-grid", {**grid, "name": "第二个副本的网格"}, admin_of(second))
        scenes_ids = seeded_after(SEED, 0)
        assert again["result"]["grid_id"] not in {str(scenes_ids()) for _ in range(built.drawn[0])}
        grids = str(second.query("/v1/districts/温江/grids", admin_of(second)))
        assert "第一个副本的网格" not in grids and "第二个副本的网格" in grids and built.ids["grid"] in grids
        second.query(f"/v1/photos/{photo}/about", rider_of(second), 404)
    assert digest(built.stores) == as_built
