"""The API trusts the identity provider's keys (api/http/provider_tokens.py): access
tokens signed RS256/ES256 by a local provider (tests/fixtures/jwks.py), its JWKS
fetched, kept, fetched again on an unknown kid no more often than the bound; every
other token a 401 problem, a provider out of reach a 503; any claims a Principal or a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from hypothesis import given, settings, strategies as st

from api.http.app import app_of
from api.http.auth import (ClaimMap, ClaimsUnmapped, Principal, ProviderUnavailable, Unauthenticated, mint,
                           principal_of, role_map)
from api.http.provider_tokens import ProviderTokens, trusted
from domain.events import Role
from gridgov import bootstrap
from gridgov.settings import SettingsError, load_settings
from tests.fixtures.jwks import AUDIENCE, LocalProvider

OIDC = ClaimMap(role="gridgov_role", districts="gridgov_districts", grids="gridgov_grids", id="gridgov_id")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(provider: LocalProvider, clock: Clock) -> ProviderTokens:
    return ProviderTokens(provider.issuer, AUDIENCE, OIDC, leeway_s=30, refetch_s=10, clock=clock)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], key: bytes = b"") -> str:
    """A token put together by hand: PyJWT refuses to sign HS256 with a PEM, as an attacker would."""
    head = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = b64(hmac.new(key, head.encode(), hashlib.sha256).digest()) if key else ""
    return f"{head}.{signature}"


def test_a_provider_signed_token_is_its_person(provider: LocalProvider, tokens: ProviderTokens) -> None:
    es = provider.new_key("ES256")
    assert tokens.verify(provider.token()) == Principal(sub="officer-温江-1-1", role=Role.GRID_OFFICER,
                                                        districts=frozenset({"温江"}), grids=frozenset({"g-1"}))
    rider = str(uuid.uuid4())
    who = tokens.verify(provider.token(kid=es, gridgov_role="rider", gridgov_districts=None, gridgov_grids=None,
                                       gridgov_id=rider))
    assert who == Principal(sub=rider, role=Role.RIDER)
    # no gridgov_id: the provider's own subject
    service = tokens.verify(provider.token(gridgov_role="service", gridgov_id=None, sub="svc-1"))
    assert (service.sub, service.role) == ("svc-1", Role.SERVICE)


@pytest.mark.parametrize("case", ["other issuer", "other audience", "no audience", "expired", "not yet valid",
                                  "alg none", "HS256 with the public key", "HS256 with a secret", "no exp",
                                  "ES256 header on an RSA key", "bad signature", "not a JWT"])
def test_every_other_token_is_refused(provider: LocalProvider, tokens: ProviderTokens, case: str) -> None:
    kid = provider.published[0]
    now = int(time.time())
    public_pem = provider.keys[kid][1].public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    # Past the 30 s leeway by a minute each way: `now` is cut to the second and a loaded machine
    # may take a second to verify, so nbf = now + 31 was at times within the leeway when checked.
    token = {
        "other issuer": lambda: provider.token(iss="https://elsewhere.example/realms/test"),
        "other audience": lambda: provider.token(aud="another-app"),
        "no audience": lambda: provider.token(aud=None),
        "expired": lambda: provider.token(exp=now - 90, iat=now - 400),
        "not yet valid": lambda: provider.token(nbf=now + 90),
        "alg none": lambda: unsigned({"alg": "none", "kid": kid}, provider.claims()),
        "HS256 with the public key": lambda: unsigned({"alg": "HS256", "kid": kid}, provider.claims(), public_pem),
        "HS256 with a secret": lambda: jwt.encode(provider.claims(), "s" * 32, algorithm="HS256",
                                                  headers={"kid": kid}),
        "no exp": lambda: provider.token(exp=None),
        "ES256 header on an RSA key": lambda: unsigned({"alg": "ES256", "kid": kid}, provider.claims()) + "AAAA",
        "bad signature": lambda: provider.token()[:-6] + "AAAAAA",
        "not a JWT": lambda: "not-a-token",
    }[case]()
    with pytest.raises(Unauthenticated):
        tokens.verify(token)


def test_clock_skew_within_the_leeway_is_taken(provider: LocalProvider, tokens: ProviderTokens) -> None:
    now = int(time.time())
    assert tokens.verify(provider.token(exp=now - 20, iat=now - 300)).role is Role.GRID_OFFICER
    assert tokens.verify(provider.token(nbf=now + 20, iat=now + 20)).role is Role.GRID_OFFICER


def test_a_changed_payload_under_a_verified_signature_is_refused(provider: LocalProvider,
                                                                 tokens: ProviderTokens) -> None:
    # The verified cache holds whole tokens: a signature seen before proves nothing of other claims.
    good = provider.token()
    tokens.verify(good)
    head, _, signature = good.split(".")
    forged = f"{head}.{b64(json.dumps(provider.claims(gridgov_districts=['双流'])).encode())}.{signature}"
    with pytest.raises(Unauthenticated):
        tokens.verify(forged)


def test_an_unknown_kid_fetches_the_keys_once_then_is_refused(provider: LocalProvider, tokens: ProviderTokens,
                                                               clock: Clock) -> None:
    tokens.verify(provider.token())
    assert provider.fetches == 1
    clock.now += 11
    stranger = provider.new_key(publish=False)
    with pytest.raises(Unauthenticated, match="does not publish"):
        tokens.verify(provider.token(kid=stranger))
    assert provider.fetches == 2
    with pytest.raises(Unauthenticated, match="does not publish"):
        tokens.verify(provider.token(kid=stranger))
    assert provider.fetches == 2


def test_a_key_rotated_in_after_the_keys_were_kept_works(provider: LocalProvider, tokens: ProviderTokens,
                                                          clock: Clock) -> None:
    old = provider.published[0]
    tokens.verify(provider.token(kid=old))
    new = provider.new_key("RS256")
    provider.published.remove(old)
    clock.now += 10
    assert tokens.verify(provider.token(kid=new)).role is Role.GRID_OFFICER
    assert provider.fetches == 2


def test_a_flood_of_made_up_kids_is_not_a_flood_of_fetches(provider: LocalProvider, tokens: ProviderTokens,
                                                            clock: Clock) -> None:
    tokens.verify(provider.token())
    clock.now += 60
    _, private = provider.keys[provider.published[0]]
    for i in range(1000):
        token = jwt.encode(provider.claims(), private, algorithm="RS256", headers={"kid": f"made-up-{i}"})
        with pytest.raises(Unauthenticated):
            tokens.verify(token)
    assert provider.fetches <= 2


def test_a_provider_out_of_reach_is_unavailable_not_unauthenticated(provider: LocalProvider, clock: Clock) -> None:
    tokens = ProviderTokens(provider.issuer, AUDIENCE, OIDC, refetch_s=10, clock=clock)
    provider.down = True
    with pytest.raises(ProviderUnavailable):
        tokens.verify(provider.token())
    # within the bound: no second knock on a provider that is down, still 503
    with pytest.raises(ProviderUnavailable):
        tokens.verify(provider.token())
    provider.down = False
    clock.now += 10
    assert tokens.verify(provider.token()).role is Role.GRID_OFFICER
    # the keys it holds keep working while the provider is down again
    provider.down = True
    clock.now += 100
    assert tokens.verify(provider.token()).role is Role.GRID_OFFICER


def test_a_provider_at_a_closed_port_is_unavailable(provider: LocalProvider) -> None:
    provider.close()
    with pytest.raises(ProviderUnavailable):
        ProviderTokens(provider.issuer, AUDIENCE, OIDC).verify(provider.token())


def test_roles_mapped_by_configuration_from_a_list_at_a_dotted_path(provider: LocalProvider) -> None:
    claims = ClaimMap(role="realm_access.roles", districts="https://city.example/districts", grids="grids",
                      id="sub", roles=role_map("wg-officer=grid_officer, qu-admin=district_admin"))
    tokens = ProviderTokens(provider.issuer, AUDIENCE, claims)
    token = provider.token(realm_access={"roles": ["offline_access", "qu-admin"]}, sub="admin-温江",
                           **{"https://city.example/districts": ["温江"]})
    assert tokens.verify(token) == Principal(sub="admin-温江", role=Role.DISTRICT_ADMIN, districts=frozenset({"温江"}))
    for roles, said in ((["offline_access"], "no role"), (["wg-officer", "qu-admin"], "2 roles"), ([], "no role")):
        with pytest.raises(ClaimsUnmapped, match=said):
            tokens.verify(provider.token(realm_access={"roles": roles}))
    with pytest.raises(ValueError, match="OIDC_ROLE_MAP"):
        role_map("wg-officer=mayor")


@pytest.fixture
def provider_app(provider: LocalProvider, clock: Clock, tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings({"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                              "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
                              "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"),
                              "GRIDGOV_BLOBS_DIR": str(tmp_path / "photos"), "OIDC_ISSUER": provider.issuer})
    engine = bootstrap.bootstrap(settings)
    with TestClient(app_of(engine, ProviderTokens.from_settings(settings, clock=clock)), raise_server_exceptions=False) as client:
        yield client
    engine.close()


def get(client: TestClient, token: str, language: str = "en") -> Any:
    return client.get("/v1/districts/温江/staff", headers={"Authorization": f"Bearer {token}",
                                                          "Accept-Language": language})


def test_through_http_each_refusal_is_a_problem_in_words(provider: LocalProvider, provider_app: TestClient,
                                                         clock: Clock) -> None:
    admin = provider.token(gridgov_role="district_admin", gridgov_grids=None, gridgov_id="admin-温江")
    assert get(provider_app, admin).status_code == 200
    hs256 = mint("test-secret-of-at-least-thirty-two-bytes", "admin-温江", Role.DISTRICT_ADMIN, ["温江"])
    refused = get(provider_app, hs256)
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith(":unauthenticated") and "HS256" in refused.json()["detail"]
    unmapped = get(provider_app, provider.token(gridgov_role="mayor"), "zh-CN")
    assert unmapped.status_code == 401 and unmapped.json()["type"].endswith(":token-claims-unmapped")
    assert unmapped.json()["title"] == "身份信息无法对应"
    english = get(provider_app, provider.token(gridgov_role=None)).json()["detail"]
    assert "gridgov_role is missing" in english
    provider.down = True
    stranger = provider.new_key()
    clock.now += 10
    unavailable = get(provider_app, provider.token(kid=stranger), "zh-CN")
    assert unavailable.status_code == 503 and unavailable.json()["type"].endswith(":identity-provider-unavailable")
    assert "统一身份认证" in unavailable.json()["detail"]


CLAIM_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
                            | st.sampled_from([r.value for r in Role] + ["mayor", "", str(uuid.uuid4())]),
                            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=3),
                            max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(claims=st.dictionaries(st.sampled_from(["gridgov_role", "gridgov_districts", "gridgov_grids", "gridgov_id",
                                              "sub", "realm_access"]), CLAIM_VALUES, max_size=6),
       roles=st.sampled_from(["", "wg=grid_officer,rider=rider"]))
def test_any_claims_are_a_principal_or_a_401(claims: dict[str, Any], roles: str) -> None:
    mapping = ClaimMap(role="gridgov_role", districts="gridgov_districts", grids="gridgov_grids", id="gridgov_id",
                       roles=role_map(roles))
    for claim_map in (mapping, ClaimMap()):
        try:
            who = principal_of(claims, claim_map)
        except Unauthenticated as e:
            assert str(e)
            continue
        assert isinstance(who.sub, str) and who.sub and who.role in set(Role) - {Role.SYSTEM}
        assert all(isinstance(d, str) for d in who.districts | who.grids)


def test_whose_tokens_are_trusted_follows_the_settings(provider: LocalProvider) -> None:
    secret = "demo-secret-of-at-least-thirty-two-bytes"
    hs256 = mint(secret, "admin-温江", Role.DISTRICT_ADMIN, ["温江"])
    with_provider = load_settings({"OIDC_ISSUER": provider.issuer})
    alone = trusted(with_provider, None)
    assert not alone.accepts_shared_secret and alone.verify(provider.token()).role is Role.GRID_OFFICER
    with pytest.raises(Unauthenticated):
        alone.verify(hs256)
    demo = trusted(with_provider, secret)  # serve --demo --oidc
    assert demo.accepts_shared_secret and demo.verify(hs256).role is Role.DISTRICT_ADMIN
    assert demo.verify(provider.token()).role is Role.GRID_OFFICER
    assert trusted(load_settings({}), secret).verify(hs256).sub == "admin-温江"
    with pytest.raises(ValueError):
        trusted(load_settings({}), None)


@pytest.mark.parametrize("value", ["wg=mayor", "wg", "=rider", "wg=system", "a=rider,,b"])
def test_a_role_map_that_names_no_engine_role_stops_the_engine_at_start(value: str) -> None:
    with pytest.raises(SettingsError, match="OIDC_ROLE_MAP"):
        load_settings({"OIDC_ROLE_MAP": value})
    assert role_map(load_settings({"OIDC_ROLE_MAP": "wg-officer = grid_officer,qu=district_admin"}).OIDC_ROLE_MAP)


def test_threads_asking_at_once_share_one_fetch(provider: LocalProvider, tokens: ProviderTokens) -> None:
    # The routes run in a threadpool: 16 first requests at once find the keys of one fetch.
    from concurrent.futures import ThreadPoolExecutor

    kids = [provider.published[0], provider.new_key("ES256")]
    signed = [provider.token(kid=kids[i % 2], gridgov_id=f"officer-{i}") for i in range(64)]
    with ThreadPoolExecutor(16) as pool:
        people = list(pool.map(tokens.verify, signed))
    assert [p.sub for p in people] == [f"officer-{i}" for i in range(64)]
    assert provider.fetches == 1


@pytest.fixture(scope="module")
def signer() -> Iterator[tuple[LocalProvider, ProviderTokens]]:
    local = LocalProvider()
    local.new_key("RS256")
    yield local, ProviderTokens(local.issuer, AUDIENCE, OIDC)
    local.close()


REGISTERED = st.one_of(CLAIM_VALUES, st.integers(-2**40, 2**40), st.just(10**400), st.just(AUDIENCE), st.just([AUDIENCE]))


@settings(max_examples=200, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "sub", "gridgov_role",
                                               "gridgov_districts", "gridgov_grids", "gridgov_id"]),
                               REGISTERED, max_size=5))
def test_any_signed_claims_are_a_principal_or_a_401(signer: tuple[LocalProvider, ProviderTokens],
                                                     changes: dict[str, Any]) -> None:
    # Signed by the provider's own key, so only the claims' values can trip the checks after.
    provider, tokens = signer
    try:
        who = tokens.verify(provider.signed(provider.claims(**changes)))
    except Unauthenticated as e:
        assert str(e)
        return
    assert who.role in set(Role) - {Role.SYSTEM} and who.sub


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12)
                    | st.sampled_from(["RSA", "EC", "sig", "enc", "RS256", "ES256", "P-256", "http://127.0.0.1:1/x"]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["keys", "kty", "kid", "alg", "use", "crv", "n", "e", "x", "y", "issuer",
                                         "jwks_uri"]), inner, max_size=5), max_leaves=12)


@settings(max_examples=100, deadline=None)
@given(discovery=st.none() | JSON, keys=st.none() | JSON)
def test_whatever_the_provider_serves_a_token_is_a_person_a_401_or_a_503(
        signer: tuple[LocalProvider, ProviderTokens], discovery: Any, keys: Any) -> None:
    provider, _ = signer
    provider.discovery, provider.keys_document = discovery, keys
    try:
        ProviderTokens(provider.issuer, AUDIENCE, OIDC).verify(provider.token())
    except (Unauthenticated, ProviderUnavailable) as e:
        assert str(e)
    finally:
        provider.discovery = provider.keys_document = None
