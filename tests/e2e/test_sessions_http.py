"""The pages' sessions through HTTP, without a provider: a test token turned into a
session (POST /auth/token-session), its cookie's flags, what the cookie reaches, the
CSRF token every command needs, forged and replayed cookies, `next` held to this
origin, and the demo's chooser. (The code flow with a real provider is
tests/integration/test_signin_keycloak.py.)

httpx sends no Secure cookie over http, so the tests send the Cookie header themselves."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from api.http.app import create_app
from api.http.auth import mint
from domain.clock import ManualClock
from domain.events import Role
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.http import SECRET, Api, is_problem
from tests.fixtures.world import START

BUDGET = "/v1/commands/allocate-budget"
BODY = {"district": "温江", "period": "2026-11", "fen": 100}


def signed_in(api: Api, token: str) -> tuple[str, str, Any]:
    """(the session cookie's value, its CSRF token, the Set-Cookie morsel) for a token-session of `token`."""
    response = api.client.post("/auth/token-session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204, response.text
    morsel = SimpleCookie(response.headers["set-cookie"])["gridgov_session"]
    session = api.client.get("/auth/session", headers={"Cookie": f"gridgov_session={morsel.value}"})
    assert session.status_code == 200, session.text
    return morsel.value, session.json()["csrf"], morsel


def admin_token() -> str:
    return mint(SECRET, "admin-温江", Role.DISTRICT_ADMIN, ["温江"])


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"gridgov_session={value}"}


def test_a_token_session_sets_a_cookie_httponly_secure_lax_on_every_path(api: Api) -> None:
    value, csrf, morsel = signed_in(api, admin_token())
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"].lower() == "lax" and morsel["path"] == "/"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), "a random 256-bit id, nothing else"
    assert csrf and csrf != value
    answer = api.client.get("/auth/session", headers=cookie(value)).json()
    assert (answer["role"], answer["sub"], answer["districts"], answer["grids"], answer["provider"]) == (
        "district_admin", "admin-温江", ["温江"], [], False)
    assert "access_token" not in answer and value not in str(answer), "no token reaches the page"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(exp=st.one_of(st.integers(min_value=-(10 ** 400), max_value=10 ** 400), st.floats(allow_nan=False)))
def test_any_exp_of_a_signed_token_gives_a_session_or_a_401_never_a_500(api: Api, exp: Any) -> None:
    import jwt

    token = jwt.encode({"iss": "gridgov", "sub": "admin-温江", "role": "district_admin", "districts": ["温江"],
                        "exp": exp}, SECRET, algorithm="HS256")
    response = api.client.post("/auth/token-session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (204, 401), response.text
    if response.status_code == 204:
        value = SimpleCookie(response.headers["set-cookie"])["gridgov_session"].value
        assert api.client.get("/auth/session", headers=cookie(value)).status_code == 200


def test_without_a_cookie_the_session_is_a_401_problem_in_words(api: Api) -> None:
    response = api.client.get("/auth/session", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    is_problem(response.json(), "unauthenticated", 401)
    assert re.search("[\u4e00-\u9fff]", response.json()["title"])


def test_the_cookie_reads_and_a_command_needs_its_csrf_token(api: Api) -> None:
    value, csrf, _ = signed_in(api, admin_token())
    assert api.client.get("/v1/stats", headers=cookie(value)).status_code == 200
    head = api.feed.head()
    refused = api.client.post(BUDGET, json=BODY, headers=cookie(value))
    assert refused.status_code == 403
    is_problem(refused.json(), "csrf-token-missing", 403)
    wrong = api.client.post(BUDGET, json=BODY, headers={**cookie(value), "X-CSRF-Token": csrf[:-1] + "x"})
    assert wrong.status_code == 403
    assert api.feed.head() == head, "a refused command wrote nothing"
    accepted = api.client.post(BUDGET, json=BODY, headers={**cookie(value), "X-CSRF-Token": csrf})
    assert accepted.status_code == 200, accepted.text
    assert api.feed.head() > head


def test_a_forged_cookie_is_a_401_problem(api: Api) -> None:
    signed_in(api, admin_token())
    for forged in ("A" * 43, "not-a-session", ""):
        response = api.client.get("/auth/session", headers=cookie(forged))
        assert response.status_code == 401, forged
        is_problem(response.json(), "session-ended", 401)
        assert api.client.get("/v1/stats", headers=cookie(forged)).status_code == 401


def test_a_cookie_replayed_after_sign_out_is_refused(api: Api) -> None:
    value, csrf, _ = signed_in(api, admin_token())
    assert api.client.post("/auth/logout", headers=cookie(value), follow_redirects=False).status_code == 403
    out = api.client.post("/auth/logout", headers=cookie(value), data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert 'gridgov_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    for replay in (api.client.get("/auth/session", headers=cookie(value)),
                   api.client.post(BUDGET, json=BODY, headers={**cookie(value), "X-CSRF-Token": csrf})):
        assert replay.status_code == 401
        is_problem(replay.json(), "session-ended", 401)


def test_a_bearer_token_still_needs_no_csrf(api: Api) -> None:
    """Programs send their token in the header: no cookie, so nothing a page of another site could ride on."""
    response = api.client.post(BUDGET, json=BODY, headers={"Authorization": f"Bearer {admin_token()}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                       "evil.example", "javascript:alert(1)", "/ok\r\nLocation: x"])
def test_next_to_another_origin_is_refused(demo: Api, next_path: str) -> None:
    response = demo.client.get("/auth/login", params={"next": next_path}, follow_redirects=False)
    assert response.status_code == 400 and "location" not in response.headers
    is_problem(response.json(), "next-not-same-origin", 400)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Api]:
    """The API as `gridgov serve --demo` makes it: no provider, the demo's people to choose from."""
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"),
        "GRIDGOV_BLOBS_DIR": str(tmp_path / "photos")}), clock=ManualClock(START))
    people = {"district_admin": admin_token(),
              "auditor": mint(SECRET, "auditor-温江", Role.AUDITOR, ["温江"])}
    assert engine.feed is not None
    with TestClient(create_app(engine.app, engine.store, SECRET, demo_people=people),
                    raise_server_exceptions=False) as client:
        yield Api(client, engine.feed, engine.app.clock)
    engine.close()


def test_the_demos_chooser_signs_someone_in_and_back_where_they_were(demo: Api) -> None:
    page = demo.client.get("/auth/login", params={"next": "/pages/audit.html#day=2026-12-05"},
                           headers={"Accept": "text/html"})
    assert page.status_code == 200 and "审计员" in page.text and "区管理员" in page.text
    assert "eyJ" not in page.text, "no token on the page"
    csrf = re.search(r"name='csrf' value='([^']+)'", page.text).group(1)  # type: ignore[union-attr]
    pre = SimpleCookie(page.headers["set-cookie"])["gridgov_signin_csrf"]
    assert pre["httponly"] and pre["secure"] and pre.value == csrf
    form = {"person": "auditor", "csrf": csrf, "next": "/pages/audit.html#day=2026-12-05"}
    forged = demo.client.post("/auth/demo-session", data={**form, "csrf": "x" * 43}, follow_redirects=False,
                              headers={"Cookie": f"gridgov_signin_csrf={csrf}"})
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    chosen = demo.client.post("/auth/demo-session", data=form, follow_redirects=False,
                              headers={"Cookie": f"gridgov_signin_csrf={csrf}"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/pages/audit.html#day=2026-12-05"
    value = next(SimpleCookie(line)["gridgov_session"].value for line in chosen.headers.get_list("set-cookie")
                 if line.startswith("gridgov_session="))
    assert demo.client.get("/auth/session", headers=cookie(value)).json()["role"] == "auditor"


def test_a_return_from_the_provider_with_an_unknown_state_is_a_page_in_words(api: Api) -> None:
    page = api.client.get("/auth/callback", params={"state": "x" * 43, "code": "y"},
                          headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert page.status_code == 400 and "重新登录" in page.text and "/auth/login" in page.text
    problem = api.client.get("/auth/callback", params={"state": "x" * 43, "code": "y"})
    is_problem(problem.json(), "sign-in-state-unknown", 400)
    cancelled = api.client.get("/auth/callback", params={"error": "access_denied"}, headers={"Accept-Language": "zh"})
    is_problem(cancelled.json(), "sign-in-cancelled", 401)
    assert re.search("[\u4e00-\u9fff]", cancelled.json()["detail"])


# Any cookie and any CSRF header a page of another site (or a guesser) could send.
values = st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e,
                                                             exclude_characters=";,\\\""), max_size=60))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cookie_value=values, csrf_value=values, use_real_cookie=st.booleans(), use_real_csrf=st.booleans())
def test_a_command_is_never_accepted_without_the_right_pair_and_never_a_500(
        api: Api, cookie_value: str | None, csrf_value: str | None, use_real_cookie: bool,
        use_real_csrf: bool) -> None:
    if not hasattr(api, "pair"):
        api.pair = signed_in(api, admin_token())[:2]  # type: ignore[attr-defined]
    real_cookie, real_csrf = api.pair  # type: ignore[attr-defined]
    sent_cookie = real_cookie if use_real_cookie else cookie_value
    sent_csrf = real_csrf if use_real_csrf else csrf_value
    headers = {**(cookie(sent_cookie) if sent_cookie is not None else {}),
               **({"X-CSRF-Token": sent_csrf} if sent_csrf is not None else {})}
    response = api.client.post(BUDGET, json=BODY, headers=headers)
    assert response.status_code < 500, response.text
    right = sent_cookie == real_cookie and sent_csrf == real_csrf
    assert (response.status_code == 200) == right, (headers, response.status_code, response.text)


def test_every_sign_in_problem_has_words_in_both_languages() -> None:
    import api.http.signin as signin
    from api.http.language import TEXTS

    source = Path(signin.__file__).read_text()
    codes = set(re.findall(r'SignInFailed\(\d+, "([a-z-]+)"', source)) | {"session-ended", "csrf-token-missing"}
    assert {"sign-in-cancelled", "sign-in-state-unknown", "next-not-same-origin"} <= codes
    assert not codes - TEXTS.keys(), f"no words for {sorted(codes - TEXTS.keys())}"


def test_a_provider_out_of_reach_is_a_503_page_in_words_not_a_500(tmp_path: Path) -> None:
    import socket

    from api.http.provider_client import ProviderClient
    from api.http.sessions import MemorySessions
    from api.http.signin import SignIn

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(tmp_path / "readmodels.sqlite"),
        "GRIDGOV_BLOBS_DIR": str(tmp_path / "photos")}), clock=ManualClock(START))
    provider = ProviderClient(f"http://127.0.0.1:{port}/realms/gridgov", "gridgov-pages", "x", timeout_s=2)
    signin = SignIn(MemorySessions(), SECRET, provider=provider)
    try:
        with TestClient(create_app(engine.app, engine.store, SECRET, signin=signin),
                        raise_server_exceptions=False) as client:
            page = client.get("/auth/login", params={"next": "/rider"},
                              headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
            assert page.status_code == 503 and "统一身份认证暂不可用" in page.text
            assert "/auth/login?next=%2Frider" in page.text
            problem = client.get("/auth/login", params={"next": "/rider"})
            is_problem(problem.json(), "identity-provider-unavailable", 503)
    finally:
        engine.close()


def test_signing_in_again_in_a_browser_ends_the_session_it_held(api: Api) -> None:
    """At a shared counter the next person signs in over the last one's session: that one ends."""
    first, _, _ = signed_in(api, admin_token())
    again = api.client.post("/auth/token-session", headers={**cookie(first),
                                                            "Authorization": f"Bearer {admin_token()}"})
    assert again.status_code == 204
    is_problem(api.client.get("/auth/session", headers=cookie(first)).json(), "session-ended", 401)
