"""The code flow's own checks through HTTP, against a stand-in provider (no Keycloak): a
return is taken once, only by the browser that started it (the state bound to it by a
cookie, RFC 6749 §10.12: else a page of another site could sign a person in as someone
else), with the id token of that sign-in (nonce), and only for claims that map."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.auth import Principal, Unauthenticated
from api.http.provider_client import BadIdToken, ProviderDown, Tokens
from api.http.sessions import MemorySessions
from api.http.signin import SignIn
from domain.clock import ManualClock
from domain.events import Role
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.http import is_problem
from tests.fixtures.world import START

ADMIN = Principal(sub="admin-温江", role=Role.DISTRICT_ADMIN, districts=frozenset({"温江"}))


class Provider:
    """Hands out a code per authorization URL and the tokens for it; `nonce_ok` says whether the id token is this
    sign-in's."""

    def __init__(self) -> None:
        self.nonce_ok = True
        self.access = "good-access"
        self.down = False

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        return f"https://idp.example/auth?state={state}&redirect_uri={redirect_uri}"

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> Tokens:
        if self.down:
            raise ProviderDown("the identity provider could not be reached: ConnectError")
        return Tokens(self.access, 1e12, "refresh", "id.token")

    def check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        if not self.nonce_ok:
            raise BadIdToken("the id token is not of this sign-in (its nonce differs)")
        return {"sub": "x"}

    def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        return None


class Verifier:
    accepts_shared_secret = False

    def known(self, token: str) -> Principal | None:
        return None  # every token asked of `verify`

    def verify(self, token: str) -> Principal:
        if token == "good-access":
            return ADMIN
        raise Unauthenticated("the token's claims do not map: gridgov_role is missing", "token-claims-unmapped")


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[tuple[TestClient, Provider]]:
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"),
        "GRIDGOV_BLOBS_DIR": str(tmp_path / "photos")}), clock=ManualClock(START))
    provider = Provider()
    signin = SignIn(MemorySessions(), Verifier(), provider=provider)  # type: ignore[arg-type]
    with TestClient(create_app(engine.app, engine.store, Verifier(), signin=signin),  # type: ignore[arg-type]
                    raise_server_exceptions=False) as client:
        yield client, provider
    engine.close()


def start(client: TestClient, next_path: str = "/workbench#clues") -> tuple[str, str]:
    """(the state sent to the provider, the cookie header binding it to this browser)."""
    away = client.get("/auth/login", params={"next": next_path}, follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("https://idp.example/auth")
    state = parse_qs(urlsplit(away.headers["location"]).query)["state"][0]
    cookies = "; ".join(f"{name}={morsel.value}" for line in away.headers.get_list("set-cookie")
                        for name, morsel in SimpleCookie(line).items())
    return state, cookies


def back(client: TestClient, state: str, cookies: str) -> Any:
    return client.get("/auth/callback", params={"state": state, "code": "c"}, follow_redirects=False,
                      headers={"Cookie": cookies} if cookies else {})


def test_the_browser_that_started_a_sign_in_comes_back_signed_in_where_it_was(
        flow: tuple[TestClient, Provider]) -> None:
    client, _ = flow
    state, cookies = start(client)
    answer = back(client, state, cookies)
    assert answer.status_code == 303 and answer.headers["location"] == "/workbench#clues"
    assert any(line.startswith("gridgov_session=") for line in answer.headers.get_list("set-cookie"))
    again = back(client, state, cookies)
    is_problem(again.json(), "sign-in-state-unknown", 400)


def test_a_return_in_another_browser_is_refused(flow: tuple[TestClient, Provider]) -> None:
    """An attacker starts a sign-in as themself and sends the victim the provider's return link."""
    client, _ = flow
    state, _ = start(client)
    answer = back(client, state, "")
    assert answer.status_code == 400 and not answer.headers.get_list("set-cookie")
    is_problem(answer.json(), "sign-in-state-unknown", 400)
    _, theirs = start(client)
    assert back(client, state, theirs).status_code == 400, "another sign-in's cookie is not this one's"


def test_an_id_token_of_another_sign_in_or_claims_that_do_not_map_make_no_session(
        flow: tuple[TestClient, Provider]) -> None:
    client, provider = flow
    provider.nonce_ok = False
    answer = back(client, *start(client))
    assert answer.status_code == 401 and not any(line.startswith("gridgov_session=")
                                                 for line in answer.headers.get_list("set-cookie"))
    is_problem(answer.json(), "sign-in-failed", 401)
    provider.nonce_ok, provider.access = True, "unmapped-access"
    answer = back(client, *start(client))
    is_problem(answer.json(), "token-claims-unmapped", 401)
    state, cookies = start(client, "/rider")
    page = client.get("/auth/callback", params={"state": state, "code": "c"},
                      headers={"Cookie": cookies, "Accept": "text/html", "Accept-Language": "zh-CN"})
    assert page.status_code == 401 and "身份信息无法对应" in page.text and "next=%2Frider" in page.text


def test_a_provider_down_at_the_return_is_a_503_in_words_and_no_session(flow: tuple[TestClient, Provider]) -> None:
    client, provider = flow
    provider.down = True
    state, cookies = start(client, "/audit")
    page = client.get("/auth/callback", params={"state": state, "code": "c"},
                      headers={"Cookie": cookies, "Accept": "text/html", "Accept-Language": "zh-CN"})
    assert page.status_code == 503 and "统一身份认证暂不可用" in page.text and "next=%2Faudit" in page.text
    assert not any(line.startswith("gridgov_session=") for line in page.headers.get_list("set-cookie"))
