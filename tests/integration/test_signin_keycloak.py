"""Signing in to the pages through the real provider (Keycloak, scripts/keycloak.sh): the
authorization code flow with PKCE driven as a browser drives it — our /auth/login, the
provider's own login form (parsed with html.parser), back to /auth/callback, a session —
then revocation within one access token's life (an officer moved to another grid; an
officer disabled) and sign-out that ends the provider's session too.

The browser here is httpx with a cookie jar of its own: it keeps the provider's cookies,
Secure ones included, as Chromium does for 127.0.0.1 (httpx would not send them over http);
the app is reached through TestClient, the provider over the network. Skipped without the
provider; in CI it fails instead (tests/fixtures/keycloak.py)."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from api.http.app import app_of
from api.http.provider_tokens import trusted
from domain.clock import ManualClock
from domain.events import Actor, Role
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.http import is_problem
from tests.fixtures.keycloak import Keycloak, Login
from tests.fixtures.world import START, World


# It changes what the realm's users share (its token lifespan, its signing keys): a realm of its own.
@pytest.fixture(scope="module")
def keycloak(keycloak_of_its_own: Keycloak) -> Keycloak:
    return keycloak_of_its_own


PUBLIC = "http://127.0.0.1:8765"  # where the provider sends the browser back; the test hands it to TestClient
LIFESPAN_S = 10
SLACK_S = 8  # a loaded machine's requests, on top of one token's life


class LoginForm(HTMLParser):
    """The provider's login form: its action and its inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form" and named.get("id") == "kc-form-login":
            self.action, self._inside = named.get("action"), True
        elif tag == "input" and self._inside and named.get("name"):
            self.fields[str(named["name"])] = named.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


class Browser:
    """One person's browser: the provider's cookies, and our session's (sent by hand: Secure over http)."""

    def __init__(self, app: TestClient) -> None:
        self.app = app
        self.provider = httpx.Client(timeout=30, follow_redirects=False)
        self.provider_cookies: dict[str, str] = {}
        self.app_cookies: dict[str, str] = {}
        self.csrf = ""

    @property
    def session(self) -> str:
        return self.app_cookies.get("gridgov_session", "")

    @session.setter
    def session(self, value: str) -> None:
        self.app_cookies["gridgov_session"] = value

    def at_provider(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        answer = self.provider.request(method, url, headers=sent(self.provider_cookies), **kwargs)
        kept(self.provider_cookies, answer)
        return answer

    def at_app(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**kwargs.pop("headers", {}), **sent(self.app_cookies)}
        answer = self.app.request(method, path, headers=headers, follow_redirects=False, **kwargs)
        kept(self.app_cookies, answer)
        return answer

    def follow(self, answer: Any) -> Any:
        """Follows redirects, at the provider or back at the app, until a page (or the app's answer)."""
        while answer.status_code in (302, 303):
            location = urljoin(str(answer.url), answer.headers["location"])
            if location.startswith(PUBLIC):
                parts = urlsplit(location)
                answer = self.at_app("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
                if answer.status_code == 303 and not answer.headers["location"].startswith("http"):
                    return answer  # our app sending the person on to a page of its own
            else:
                answer = self.at_provider("GET", location)
        return answer

    def sign_in(self, login: Login, next_path: str = "/workbench#grid") -> Any:
        """登录 as a person does: our login, the provider's form, back where they were."""
        page = self.follow(self.at_app("GET", "/auth/login", params={"next": next_path}))
        if page.status_code == 200 and "kc-form-login" in page.text:
            form = LoginForm()
            form.feed(page.text)
            assert form.action, page.text[:500]
            page = self.follow(self.at_provider("POST", form.action, data={
                **form.fields, "username": login.username, "password": login.password}))
        assert page.status_code == 303 and page.headers["location"] == next_path, (page.status_code, page.text[:300])
        session = self.at_app("GET", "/auth/session")
        assert session.status_code == 200, session.text
        self.csrf = session.json()["csrf"]
        return page

    def asks_for_a_password(self) -> bool:
        """Whether a new sign-in stops at the provider's login form (no session there) or comes straight back."""
        page = self.follow(self.at_app("GET", "/auth/login", params={"next": "/"}))
        return page.status_code == 200 and "kc-form-login" in page.text

    def command(self, name: str, body: dict[str, Any]) -> Any:
        return self.at_app("POST", f"/v1/commands/{name}", json=body, headers={"X-CSRF-Token": self.csrf})


def sent(cookies: dict[str, str]) -> dict[str, str]:
    """The Cookie header of every cookie kept (paths aside: each server's are few and its own)."""
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items() if v)} if any(cookies.values()) else {}


def kept(cookies: dict[str, str], answer: Any) -> None:
    for line in answer.headers.get_list("set-cookie"):
        for name, morsel in SimpleCookie(line.replace(";Version=1", "")).items():
            if morsel.value and morsel["max-age"] != "0":
                cookies[name] = morsel.value
            else:
                cookies.pop(name, None)


@pytest.fixture
def signin_app(keycloak: Keycloak, tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    settings = load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"), "GRIDGOV_BLOBS_DIR": str(tmp_path / "photos"),
        "GRIDGOV_PUBLIC_URL": PUBLIC, **keycloak.settings()})
    clock = ManualClock(START)
    engine = bootstrap.bootstrap(settings, clock=clock)
    with TestClient(app_of(engine, trusted(settings, None)), raise_server_exceptions=False) as client:
        yield client, World(engine.app, clock)
    engine.close()


def publish(browser: Browser, grid: Any) -> Any:
    return browser.command("publish-task", {"grid_id": str(grid), "kind": "巡查", "rate_code": "patrol"})


def until(check: Any, what: str, deadline_s: float) -> float:
    """Seconds until `check()` holds, polled; fails after `deadline_s`."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < deadline_s, f"{what}: not within {deadline_s:.0f} s"
        time.sleep(0.25)
    return time.monotonic() - start


def test_an_officer_signs_in_through_the_provider_and_works_by_cookie(
        keycloak: Keycloak, signin_app: tuple[TestClient, World]) -> None:
    client, world = signin_app
    officer = Actor(id="officer-温江-kc-1", role=Role.GRID_OFFICER)
    grid = world.grid("柳城-1", officer)
    world.schedule()
    browser = Browser(client)
    browser.sign_in(keycloak.person("grid_officer", ["温江"], [str(grid)], officer.id), "/workbench#grid=1")
    answer = browser.at_app("GET", "/auth/session").json()
    assert (answer["role"], answer["sub"], answer["grids"], answer["provider"]) == (
        "grid_officer", officer.id, [str(grid)], True)
    assert publish(browser, grid).status_code == 200
    assert browser.at_app("POST", "/v1/commands/publish-task",
                          json={"grid_id": str(grid), "kind": "巡查", "rate_code": "patrol"}).status_code == 403


def test_a_moved_officer_loses_the_old_grid_and_a_disabled_one_the_session_within_one_token_life(
        keycloak: Keycloak, signin_app: tuple[TestClient, World]) -> None:
    client, world = signin_app
    officer = Actor(id="officer-温江-kc-2", role=Role.GRID_OFFICER)
    old, new = world.grid("柳城-1", officer), world.grid("柳城-2", officer)  # assigned to both; the token says which
    world.schedule()
    with keycloak.lifespan(LIFESPAN_S):
        login = keycloak.person("grid_officer", ["温江"], [str(old)], officer.id)
        browser = Browser(client)
        browser.sign_in(login)
        assert publish(browser, old).status_code == 200
        refused = publish(browser, new)
        assert refused.status_code == 403, refused.text
        keycloak.set_attributes(login.username, grids=[str(new)])
        moved = until(lambda: publish(browser, new).status_code == 200, "the new grid accepted",
                      LIFESPAN_S + SLACK_S)
        assert publish(browser, old).status_code == 403, "the old grid's scope is gone"
        print(f"moved at the provider: the new grid's scope after {moved:.1f} s (token life {LIFESPAN_S} s)")
        keycloak.disable(login.username)
        ended = until(lambda: browser.at_app("GET", "/auth/session").status_code == 401, "the session ended",
                      LIFESPAN_S + SLACK_S)
        print(f"disabled at the provider: the session ended after {ended:.1f} s")
        answer = browser.at_app("GET", "/auth/session", headers={"Accept-Language": "zh-CN"})
        is_problem(answer.json(), "session-ended", 401)
        assert publish(browser, new).status_code == 401


def test_sign_out_ends_the_providers_session_too(keycloak: Keycloak,
                                                   signin_app: tuple[TestClient, World]) -> None:
    client, _ = signin_app
    browser = Browser(client)
    browser.sign_in(keycloak.person("district_admin", ["温江"], id="admin-温江-kc"), "/workbench")
    assert not browser.asks_for_a_password(), "signed in at the provider: a second sign-in comes straight back"
    browser.csrf = browser.at_app("GET", "/auth/session").json()["csrf"]  # that second sign-in's session
    cookie = browser.session
    out = browser.at_app("POST", "/auth/logout", data={"csrf": browser.csrf})
    assert out.status_code == 303 and out.headers["location"].startswith(keycloak.issuer)
    assert "id_token_hint=" in out.headers["location"] and "post_logout_redirect_uri=" in out.headers["location"]
    back = browser.follow(browser.at_provider("GET", out.headers["location"]))
    assert back.status_code in (200, 303), back.text[:300]
    browser.session = cookie
    assert browser.at_app("GET", "/auth/session").status_code == 401, "our session has ended"
    browser.session = ""
    assert browser.asks_for_a_password(), "the provider's session has ended too"


def test_a_person_whose_claims_do_not_map_gets_a_page_in_words_not_a_session(
        keycloak: Keycloak, signin_app: tuple[TestClient, World]) -> None:
    client, _ = signin_app
    browser = Browser(client)
    login = keycloak.person("partner", ["温江"], id="canteen-1")  # a partner's id is a UUID in the engine
    page = browser.follow(browser.at_app("GET", "/auth/login", params={"next": "/"}))
    form = LoginForm()
    form.feed(page.text)
    back = browser.at_provider("POST", form.action, data={**form.fields, "username": login.username,  # type: ignore[arg-type]
                                                          "password": login.password})
    parts = urlsplit(back.headers["location"])
    assert parts.path == "/auth/callback"
    answer = browser.at_app("GET", f"{parts.path}?{parts.query}",
                            headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert answer.status_code == 401 and "重新登录" in answer.text, answer.text[:300]
    assert not any(line.startswith("gridgov_session=") for line in answer.headers.get_list("set-cookie"))
