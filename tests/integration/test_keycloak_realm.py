"""The realm of scripts/keycloak/gridgov-realm.json in a real Keycloak: its tokens carry exactly
the claims the engine maps (Keycloak 26 drops user attributes its user profile does not
declare, silently: only a real token shows they arrive), its people are the demo's, and the
`keycloak` fixture does what the tests of sign-in and revocation rely on. Verifying tokens
is the engine's part (api/http/provider_tokens.py); here a token is only decoded."""

from __future__ import annotations

import json
import secrets
import tempfile
from base64 import urlsafe_b64encode
from hashlib import sha256
from uuid import UUID

import httpx
import jwt
import pytest

from domain.events import Role
from tests.fixtures.keycloak import REALM_FILE, Keycloak, Login, ProviderError


# It changes what the realm's users share (its token lifespan, its signing keys): a realm of its own.
@pytest.fixture(scope="module")
def keycloak(keycloak_of_its_own: Keycloak) -> Keycloak:
    return keycloak_of_its_own


REALM = json.loads(REALM_FILE.read_text(encoding="utf-8"))
PEOPLE = [user for user in REALM["users"] if "serviceAccountClientId" not in user]
MAPPED = {"gridgov_role", "gridgov_districts", "gridgov_grids", "gridgov_id"}
STAFF = {Role.GRID_OFFICER, Role.DISTRICT_ADMIN, Role.AUDITOR}


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def mapped(token: str) -> dict:
    return {name: value for name, value in claims(token).items() if name in MAPPED}


def expected(attributes: dict[str, list[str]]) -> dict:
    """What a user's attributes become in a token: one role and one id, lists of districts and grids."""
    single = {"gridgov_role", "gridgov_id"}
    return {name: values[0] if name in single else values for name, values in attributes.items() if values}


def test_the_realm_has_every_role_in_two_districts() -> None:
    roles = {(user["attributes"]["gridgov_role"][0], *user["attributes"].get("gridgov_districts", ["-"]))
             for user in PEOPLE}
    for district in ("温江", "锦江"):
        assert {(role, district) for role in ("district_admin", "grid_officer", "auditor", "partner")} <= roles
    assert sum(1 for user in PEOPLE if user["attributes"]["gridgov_role"] == ["rider"]) == 2
    service = next(user for user in REALM["users"] if user.get("serviceAccountClientId") == "gridgov-service")
    assert service["attributes"]["gridgov_role"] == ["service"]
    for user in PEOPLE:
        assert user["credentials"][0]["value"] == f"{user['username']}-pw"
        role, id = Role(user["attributes"]["gridgov_role"][0]), user["attributes"]["gridgov_id"][0]
        if role in (Role.RIDER, Role.PARTNER):
            UUID(id)  # the engine's ids of riders and partners are UUIDs
        else:
            assert role in STAFF and id.split("-")[0] in ("officer", "admin", "auditor")


@pytest.mark.parametrize("user", PEOPLE, ids=[user["username"] for user in PEOPLE])
def test_each_persons_token_carries_exactly_the_mapped_claims(keycloak: Keycloak, user: dict) -> None:
    token = keycloak.token(keycloak_login(user))
    assert mapped(token) == expected(user["attributes"])
    issued = claims(token)
    assert issued["iss"] == keycloak.issuer
    assert "gridgov" in ([issued["aud"]] if isinstance(issued["aud"], str) else issued["aud"])
    assert issued["exp"] - issued["iat"] == REALM["accessTokenLifespan"] == 300
    # Signed by a key the realm publishes, with an algorithm the engine accepts.
    header = jwt.get_unverified_header(token)
    assert header["alg"] in ("RS256", "ES256")
    assert header["kid"] in {key["kid"] for key in keycloak.jwks()["keys"]}


def keycloak_login(user: dict) -> Login:
    return Login(user["username"], user["credentials"][0]["value"])


def test_a_service_token_by_client_credentials(keycloak: Keycloak) -> None:
    token = keycloak.service_token()
    assert mapped(token) == {"gridgov_role": "service", "gridgov_districts": ["温江"], "gridgov_id": "service-dashboard"}
    assert claims(token)["azp"] == "gridgov-service"


def test_a_person_made_by_the_fixture_carries_the_claims_asked(keycloak: Keycloak) -> None:
    grid = "0b5f8c7e-2f55-4d1a-9a43-5e2d1c3b4a01"
    login = keycloak.person("grid_officer", districts=["温江"], grids=[grid], id="officer-温江-test-1")
    assert mapped(keycloak.token(login)) == {"gridgov_role": "grid_officer", "gridgov_districts": ["温江"],
                                              "gridgov_grids": [grid], "gridgov_id": "officer-温江-test-1"}
    assert keycloak.person("grid_officer", districts=["温江"], grids=[grid], id="officer-温江-test-1") == login
    # No id asked: no gridgov_id claim, and the engine takes the token's sub.
    rider = keycloak.token(keycloak.person("rider"))
    assert mapped(rider) == {"gridgov_role": "rider"}
    UUID(claims(rider)["sub"])


def test_a_person_moved_or_disabled_at_the_provider(keycloak: Keycloak) -> None:
    login = keycloak.person("grid_officer", districts=["锦江"], grids=["grid-a"], id="officer-锦江-moved")
    keycloak.set_attributes(login.username, grids=["grid-b"])
    assert mapped(keycloak.token(login))["gridgov_grids"] == ["grid-b"]
    keycloak.disable(login.username)
    with pytest.raises(ProviderError, match="400"):
        keycloak.token(login)
    # Asked for again by its claims, the person is enabled again (other tests may want them).
    again = keycloak.person("grid_officer", districts=["锦江"], grids=["grid-a"], id="officer-锦江-moved")
    assert mapped(keycloak.token(again))["gridgov_grids"] == ["grid-a"]


def test_rotated_keys_sign_new_tokens_and_the_old_ones_stay_published(keycloak: Keycloak) -> None:
    login = keycloak.person("auditor", districts=["温江"], id="auditor-温江-rotation")
    before = jwt.get_unverified_header(keycloak.token(login))["kid"]
    kid = keycloak.rotate_keys()
    after = jwt.get_unverified_header(keycloak.token(login))["kid"]
    assert kid == after != before
    published = {key["kid"] for key in keycloak.jwks()["keys"]}
    assert {before, after} <= published


def test_token_lifespan_is_set_for_a_block_and_restored(keycloak: Keycloak) -> None:
    login = keycloak.person("district_admin", districts=["锦江"], id="admin-锦江-lifespan")
    with keycloak.lifespan(60):
        issued = claims(keycloak.token(login))
        assert issued["exp"] - issued["iat"] == 60
    issued = claims(keycloak.token(login))
    assert issued["exp"] - issued["iat"] == 300


def authorize(keycloak: Keycloak, redirect_uri: str, pkce: bool = True) -> httpx.Response:
    verifier = secrets.token_urlsafe(48)
    challenge = urlsafe_b64encode(sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"client_id": "gridgov-pages", "response_type": "code", "scope": "openid",
              "redirect_uri": redirect_uri, "state": secrets.token_urlsafe(16)}
    if pkce:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return httpx.get(f"{keycloak.issuer}/protocol/openid-connect/auth", params=params, timeout=30)


def test_the_pages_client_takes_loopback_callbacks_on_any_port_and_requires_pkce(keycloak: Keycloak) -> None:
    for port in (8000, 41999):
        answer = authorize(keycloak, f"http://127.0.0.1:{port}/auth/callback")
        assert answer.status_code == 200 and 'id="kc-form-login"' in answer.text
    assert authorize(keycloak, "http://evil.example/auth/callback").status_code == 400
    refused = authorize(keycloak, "http://127.0.0.1:8000/auth/callback", pkce=False)
    assert refused.status_code == 302 and "error=invalid_request" in refused.headers["location"]


def test_the_realms_people_are_the_demos(monkeypatch: pytest.MonkeyPatch) -> None:
    """`gridgov serve --demo --oidc` signs the demo's people in: same ids as the demo (seed 7), in
    温江 (the demo's district) and 锦江."""
    from gridgov import first_run
    from gridgov.bootstrap import application
    from gridgov.settings import load_settings

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                  "SQLITE_DBNAME": f"{folder}/events.sqlite",
                                  "READMODEL_SQLITE_DBNAME": f"{folder}/reads.sqlite"})
        first_run.load_demo_day(settings)
        app = application(settings)
        try:
            for district, suffix in (("温江", "-wenjiang"), ("锦江", "-jinjiang")):
                monkeypatch.setattr(first_run, "DISTRICT", district)  # demo_people's district
                people = {**first_run.demo_people(app), "partner": first_run.demo_partner(app)}
                del people["service"]  # the realm's service is a client, not a person
                in_realm = {user["attributes"]["gridgov_role"][0]: user["attributes"] for user in PEOPLE
                            if user["username"].endswith(suffix)}
                assert set(in_realm) == set(people)
                for role, person in people.items():
                    assert person is not None
                    assert expected(in_realm[role]) == expected({
                        "gridgov_role": [role], "gridgov_id": [person.sub], "gridgov_districts": list(person.districts),
                        "gridgov_grids": list(person.grids)})
        finally:
            app.close()
