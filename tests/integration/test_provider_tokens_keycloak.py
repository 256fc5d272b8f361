"""The API trusts a real provider's keys: Keycloak (scripts/keycloak.sh, realm `gridgov`)
signs the access tokens; each role's token works through HTTP within its scope; a key
rotated in at the provider mid-run keeps working; a token of another issuer or audience,
`alg: none`, HS256 outside the demo, an expired one: each a 401 problem; a service by
the client-credentials grant. Skips when Keycloak is not running (fails under CI=true)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.http.app import app_of
from api.http.auth import mint
from api.http.provider_tokens import ProviderTokens
from domain.events import Role
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.keycloak import TESTS_CLIENT, Keycloak, ProviderError


# It changes what the realm's users share (its token lifespan, its signing keys): a realm of its own.
@pytest.fixture(scope="module")
def keycloak(keycloak_of_its_own: Keycloak) -> Keycloak:
    return keycloak_of_its_own


def client_of(keycloak: Keycloak, tmp_path: Path, **changes: str) -> Iterator[TestClient]:
    settings = load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                              "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
                              "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"),
                              "GRIDGOV_BLOBS_DIR": str(tmp_path / "photos"), **keycloak.settings(),
                              "OIDC_JWKS_REFETCH_S": "1", **changes})
    engine = bootstrap.bootstrap(settings)
    with TestClient(app_of(engine.follow(), ProviderTokens.from_settings(settings)), raise_server_exceptions=False) as client:
        yield client
    engine.close()


@pytest.fixture
def api(keycloak: Keycloak, tmp_path: Path) -> Iterator[TestClient]:
    yield from client_of(keycloak, tmp_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}


def refused(answer: httpx.Response, status: int = 401) -> bool:
    return (answer.status_code == status and answer.headers["content-type"] == "application/problem+json"
            and bool(answer.json()["detail"]))


def test_each_role_by_its_provider_token(keycloak: Keycloak, api: TestClient) -> None:
    staff = {role: keycloak.token(keycloak.person(role, districts=["温江"], grids=["g-温江"] * (role == "grid_officer"),
                                                  id=f"{role}-温江-kc"))
             for role in ("district_admin", "grid_officer", "auditor")}
    for role, token in staff.items():
        assert api.get("/v1/districts/温江/staff", headers=bearer(token)).status_code == 200, role
        assert refused(api.get("/v1/districts/锦江/staff", headers=bearer(token)), 403), role
    # the auditor's reads went through the access log's recorder with the provider's token too
    assert until(lambda: any(row["what"] == "GET /v1/districts/{district}/staff" and row["status"] == 403
                             for row in api.get("/v1/districts/温江/accesses",
                                                headers=bearer(staff["auditor"])).json()["accesses"]))
    rider, other = str(uuid.uuid4()), str(uuid.uuid4())
    mine = keycloak.token(keycloak.person("rider", id=rider))
    assert api.get(f"/v1/riders/{rider}/points", headers=bearer(mine)).status_code == 200
    assert refused(api.get(f"/v1/riders/{other}/points", headers=bearer(mine)), 403)
    partner = keycloak.token(keycloak.person("partner", districts=["温江"], id=str(uuid.uuid4())))
    assert api.get("/v1/stations", params={"near": "30.6,103.8"}, headers=bearer(partner)).status_code == 200
    assert refused(api.get("/v1/board", params={"district": "温江"}, headers=bearer(partner)), 403)
    # a service by the client-credentials grant: its service account's district
    service = keycloak.service_token()
    assert api.get("/v1/districts/温江/staff", headers=bearer(service)).status_code == 200
    assert refused(api.get("/v1/districts/锦江/staff", headers=bearer(service)), 403)


def test_a_key_rotated_in_at_the_provider_mid_run_keeps_working(keycloak: Keycloak, api: TestClient) -> None:
    login = keycloak.person("district_admin", districts=["温江"], id="admin-温江-rotation")
    before = keycloak.token(login)
    assert api.get("/v1/districts/温江/staff", headers=bearer(before)).status_code == 200
    kid = keycloak.rotate_keys()
    after = keycloak.token(login)
    assert header(after)["kid"] == kid != header(before)["kid"]
    # the keys were fetched a moment ago: the new kid is fetched once OIDC_JWKS_REFETCH_S (1 s) has passed
    assert until(lambda: api.get("/v1/districts/温江/staff", headers=bearer(after)).status_code == 200)
    assert api.get("/v1/districts/温江/staff", headers=bearer(before)).status_code == 200


def test_tokens_not_for_this_engine_are_each_a_401_problem(keycloak: Keycloak, api: TestClient) -> None:
    login = keycloak.person("district_admin", districts=["温江"], id="admin-温江-refusals")
    good = keycloak.token(login)
    grant = keycloak.http.post(f"{keycloak.issuer}/protocol/openid-connect/token",
                               data={"grant_type": "password", "client_id": TESTS_CLIENT, "scope": "openid",
                                     "username": login.username, "password": login.password}).json()
    master = keycloak.http.post(f"{keycloak.url}/realms/master/protocol/openid-connect/token",
                                data={"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                      "password": "admin"}).json()["access_token"]
    head, body, _ = good.split(".")
    tokens = {
        "the ID token (audience the client)": grant["id_token"],
        "another issuer (the master realm)": master,
        "alg none": f"{b64({**header(good), 'alg': 'none'})}.{body}.",
        "HS256 outside the demo": mint("a-secret-of-at-least-thirty-two-bytes", "admin-温江", Role.DISTRICT_ADMIN,
                                       ["温江"]),
        "claims changed under its signature": f"{head}.{b64({**claims(good), 'gridgov_districts': ['锦江']})}."
                                              f"{good.split('.')[2]}",
    }
    for case, token in tokens.items():
        answer = api.get("/v1/districts/温江/staff", headers=bearer(token))
        assert refused(answer), (case, answer.status_code, answer.text)
    assert api.get("/v1/districts/温江/staff", headers=bearer(good)).status_code == 200


def test_an_expired_provider_token_is_a_401(keycloak: Keycloak, tmp_path: Path) -> None:
    login = keycloak.person("district_admin", districts=["温江"], id="admin-温江-expiry")
    with keycloak.lifespan(2):
        short = keycloak.token(login)
    assert claims(short)["exp"] - claims(short)["iat"] <= 2
    for api in client_of(keycloak, tmp_path, OIDC_LEEWAY_S="0"):
        assert until(lambda: refused(api.get("/v1/districts/温江/staff", headers=bearer(short))))
        assert "过期" in api.get("/v1/districts/温江/staff", headers=bearer(short)).json()["detail"]


def until(done: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def part(token: str, i: int) -> dict[str, Any]:
    text = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def header(token: str) -> dict[str, Any]:
    return part(token, 0)


def claims(token: str) -> dict[str, Any]:
    return part(token, 1)


def test_a_person_moved_or_disabled_at_the_provider_loses_the_old_scope_within_a_lifetime(
        keycloak: Keycloak, tmp_path: Path) -> None:
    moved = keycloak.person("grid_officer", districts=["温江"], grids=["g-温江"], id=f"officer-{uuid.uuid4()}")
    gone = keycloak.person("district_admin", districts=["温江"], id=f"admin-{uuid.uuid4()}")
    # The API is up and has the provider's keys before the short-lived tokens are issued: a fresh
    # clone's run once spent their three seconds starting it, and the new token was a 401.
    for api in client_of(keycloak, tmp_path, OIDC_LEEWAY_S="0"):
        def staff(token: str, district: str) -> int:
            return api.get(f"/v1/districts/{district}/staff", headers=bearer(token)).status_code

        assert staff(keycloak.token(moved), "温江") == 200
        with keycloak.lifespan(5):
            old, leaving = keycloak.token(moved), keycloak.token(gone)
            keycloak.set_attributes(moved.username, districts=["锦江"], grids=["g-锦江"])
            keycloak.disable(gone.username)
            new = keycloak.token(moved)
            assert (staff(new, "锦江"), staff(new, "温江")) == (200, 403)  # at once: it lives five seconds
            with pytest.raises(ProviderError):
                keycloak.token(gone)  # no new token for one who left
        # the tokens issued before hold until their exp, seconds away, and not after
        assert until(lambda: staff(old, "温江") == 401 and staff(leaving, "温江") == 401, seconds=60)
