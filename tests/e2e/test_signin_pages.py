"""Signing in as the city does (issue #31), in headless Chromium against the real provider of
scripts/keycloak.sh: an officer, an admin, an auditor, a partner and a rider (at a phone's
390×844) each open their page, press 登录, sign in on the provider's own login page (username,
password, its sign-in button), come back to the page and section they were at, do one job of
their day (tests/e2e/test_day_*.py's, counted as there), and sign out: 退出 ends the session
here and at the provider, the browser lands on the front door signed out, and 登录 again asks
for the password. The session's cookie is HttpOnly, Secure and SameSite=Lax.

The story behind each page is made through the API with the test tokens (the server takes them
beside the provider's, as `gridgov serve --demo --oidc` does); the person at the page is a user
of the provider with the same claims (`keycloak.person`). Without a running provider these skip
(in CI they fail): `bash scripts/keycloak.sh start`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.events import Role
from tests.fixtures.browser import console_errors, screenshot
from tests.fixtures.http import Api
from tests.fixtures.keycloak import Keycloak, Login
from tests.fixtures.live import serving
from tests.fixtures.pages import Person, awarded_with_photos, clean, named_district, no_codes, photo, text, until
from tests.fixtures.rewards import rewards

DESK, PHONE = (1280, 900), (390, 844)
OFFICER = "officer-温江-1-1"
CODES = ("fire-lane", "grid-patrol", "blocked_fire_lane")


@pytest.fixture
def provider_server(tmp_path: Path, keycloak: Keycloak) -> Iterator[tuple[str, Api]]:
    """A live server whose pages sign in through the provider."""
    with serving(tmp_path, keycloak.settings()) as (base, api, _):
        yield base, api


def district(api: Api) -> dict[str, Any]:
    return named_district(api, OFFICER, ("grid-patrol", "Walking the grid"))


# --- signing in and out, as a person does -------------------------------------------------------
def signs_in(driver: Any, base: str, keycloak: Keycloak, login: Login, where: str, size: tuple[int, int],
             shot: str | None = None) -> None:
    """At `where` (a page and section), signed out: 登录, the provider's own login page, and back to `where`."""
    driver.set_window_size(*size)
    driver.get(f"{base}{where}")
    until(driver, lambda d: d.find_element("id", "signin").is_displayed(), "the 登录 button")
    assert not driver.find_element("tag name", "main").is_displayed()
    if shot:
        screenshot(driver, f"{shot}-{size[0]}")
    person = Person(driver)
    person.click("#signin-link")
    until(driver, lambda d: d.current_url.startswith(keycloak.url) and d.find_elements("id", "kc-login"),
          "the provider's own login page")
    person.fill("#username", login.username)
    person.fill("#password", login.password)
    person.click("#kc-login")
    until(driver, lambda d: d.current_url == f"{base}{where}", f"back at {where}")
    assert person.actions == 4, person.actions  # 登录, the name, the password, its sign-in button
    until(driver, lambda d: d.find_element("id", "live").get_attribute("data-state") == "on"
          or where.startswith("/#") or where == "/", "the page is live")
    session = next(c for c in driver.get_cookies() if c["name"] == "gridgov_session")
    assert (session["httpOnly"], session["secure"], session["sameSite"], session["path"]) == (True, True, "Lax", "/")
    assert driver.execute_script("return document.cookie").find("gridgov_session") < 0


def signs_out(driver: Any, base: str, keycloak: Keycloak) -> None:
    """退出: the session ends here and at the provider; the front door, signed out; 登录 asks for the password again."""
    Person(driver).click("#signout button")
    until(driver, lambda d: d.current_url in (base, f"{base}/"), "the front door")
    until(driver, lambda d: d.find_element("id", "signin").is_displayed(), "signed out")
    assert not [c for c in driver.get_cookies() if c["name"] == "gridgov_session"]
    driver.find_element("id", "signin-link").click()
    until(driver, lambda d: d.current_url.startswith(keycloak.url) and d.find_elements("id", "password"),
          "the provider asks for the password again")
    assert driver.find_element("id", "password").is_displayed()


# --- each person ---------------------------------------------------------------------------------
def test_the_officer_signs_in_judges_a_clue_and_signs_out(provider_server: tuple[str, Api], browser,  # type: ignore[no-untyped-def]  # noqa: E501
                                                           keycloak: Keycloak) -> None:
    base, api = provider_server
    s = district(api)
    clue = api.command("report-clue", {"rider_id": s["rider_id"], "grid_id": s["grid"], "category": "blocked_fire_lane",
                                       "text": "消防通道被电动车堵住", "location": {"lat": 30.6806, "lon": 103.8506},
                                       "evidence_hashes": [photo(api, s["rider"], "green")]}, s["rider"])["result"]["clue_id"]
    login = keycloak.person("grid_officer", ["温江"], [s["grid"]], OFFICER)
    signs_in(browser, base, keycloak, login, "/workbench#triage", DESK, shot="signin-workbench")
    assert "李网格" in text(browser, "#who")
    officer = Person(browser)
    officer.click_in_row("clue-queue", "clue", clue, "研判")
    officer.choose("#accept-rate", "清理消防通道 · ¥8.00")
    officer.click("#accept-form button")
    until(browser, lambda d: "受理为任务：已完成" in text(d, "#clue-detail .outcome"), "the answer beside the button")
    assert officer.actions <= 4, officer.actions
    assert api.query(f"/v1/clues/{clue}", s["officer"])["status"] == "accepted"
    no_codes(browser, CODES)
    screenshot(browser, "signin-officer-signed-in")
    clean(browser, refused="401")  # signed out at first: /auth/session
    # A command with the cookie but without the session's CSRF token (as another site's form would send it).
    refused = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/v1/commands/publish-task', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        "  body: JSON.stringify({grid_id: arguments[0], kind: '清理消防通道', rate_code: 'fire-lane'})})"
        "  .then(r => r.json().then(b => done([r.status, b.type])));", s["grid"])
    assert refused[0] == 403 and refused[1].endswith("csrf-token-missing"), refused
    assert all("status of 403" in e for e in console_errors(browser))
    assert api.query("/v1/board", s["officer"], district="温江")["counts"] == {"open": 1}, "nothing published"
    ended = next(c["value"] for c in browser.get_cookies() if c["name"] == "gridgov_session")
    signs_out(browser, base, keycloak)
    # The cookie of the ended session, replayed: refused in words.
    browser.get(f"{base}/healthz")
    browser.add_cookie({"name": "gridgov_session", "value": ended, "path": "/", "secure": True, "httpOnly": True})
    browser.get(f"{base}/workbench")
    until(browser, lambda d: d.find_element("id", "signin").is_displayed(), "登录 again")
    assert "登录已结束" in text(browser, "#signin-message")
    clean(browser, refused="401")


def test_the_admin_signs_in_decides_an_appeal_and_signs_out(provider_server: tuple[str, Api], browser,  # type: ignore[no-untyped-def]  # noqa: E501
                                                            keycloak: Keycloak) -> None:
    base, api = provider_server
    s = district(api)
    appeal = api.command("file-appeal", {"rider_id": s["rider_id"], "district": "温江", "text": "平台误判我超时",
                                         "subject": {"kind": "outside", "ref": "美团罚单 889"}},
                         s["rider"])["result"]["appeal_id"]
    login = keycloak.person("district_admin", ["温江"], [], "admin-温江")
    signs_in(browser, base, keycloak, login, "/workbench#appeals", DESK)
    admin = Person(browser)
    admin.click_in_row("appeal-queue", "appeal", appeal, "裁决")
    until(browser, lambda d: "平台误判我超时" in text(d, "#appeal-text"), "the appeal")
    admin.choose("#decision", "驳回申诉")
    admin.fill("#decide-reason", "罚单经核实无误")
    admin.click("#decide-form button")
    until(browser, lambda d: text(d, "#decide-confirm p"), "the confirmation in the page")
    admin.click("#decide-yes")
    until(browser, lambda d: "裁决：已完成" in text(d, "#appeal-detail .outcome"), "the answer beside the button")
    assert admin.actions <= 6, admin.actions
    assert api.query(f"/v1/appeals/{appeal}", s["admin"])["status"] == "decided"
    signs_out(browser, base, keycloak)
    clean(browser, refused="401")


def test_the_auditor_signs_in_opens_an_award_chain_and_signs_out(provider_server: tuple[str, Api], browser,  # type: ignore[no-untyped-def]  # noqa: E501
                                                                 keycloak: Keycloak) -> None:
    base, api = provider_server
    s = district(api)
    story = awarded_with_photos(api, s)
    login = keycloak.person("auditor", ["温江"], [], "auditor-温江")
    signs_in(browser, base, keycloak, login, "/audit", DESK)
    auditor = Person(browser)
    auditor.click_in_row("history", "kind", "SubsidyAwarded", "查看补贴链")
    until(browser, lambda d: d.find_element("id", "chain-card").is_displayed(), "the chain")
    until(browser, lambda d: len(d.find_elements("css selector", "#chain figure.evidence img")) == 2, "its photos")
    assert auditor.actions <= 3, auditor.actions
    assert story["done_photo"] in text(browser, "#chain")
    signs_out(browser, base, keycloak)
    clean(browser, refused="401")


def test_the_partner_signs_in_on_a_phone_confirms_a_meal_and_signs_out(provider_server: tuple[str, Api], browser,  # type: ignore[no-untyped-def]  # noqa: E501
                                                                       keycloak: Keycloak) -> None:
    base, api = provider_server
    s = district(api)
    awarded_with_photos(api, s)  # 8 points for 张三
    r = rewards(api, s, price=4)
    held = api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": r["item"]}, s["rider"])["result"]
    login = keycloak.person("partner", ["温江"], [], r["partner"])
    signs_in(browser, base, keycloak, login, "/partner", PHONE)
    canteen = Person(browser)
    canteen.fill("#confirm-code", held["code"])
    canteen.click("#confirm-do")
    until(browser, lambda d: "社区食堂工作餐" in text(d, "#hand-over"), "what to hand over")
    assert canteen.actions <= 2, canteen.actions
    signs_out(browser, base, keycloak)
    clean(browser, refused="401")


def test_the_rider_signs_in_on_a_phone_claims_a_task_and_signs_out(provider_server: tuple[str, Api], browser,  # type: ignore[no-untyped-def]  # noqa: E501
                                                                   keycloak: Keycloak) -> None:
    base, api = provider_server
    s = district(api)
    task = api.command("publish-task", {"grid_id": s["grid"], "kind": "清理消防通道", "rate_code": "fire-lane"},
                       s["officer"])["result"]["task_id"]
    login = keycloak.person(Role.RIDER.value, [], [], s["rider_id"])
    signs_in(browser, base, keycloak, login, "/rider", PHONE, shot="signin-rider")
    browser.set_window_size(*DESK)
    screenshot(browser, "signin-rider-1280-signed-in")
    browser.set_window_size(*PHONE)
    rider = Person(browser, rows="")
    rider.click_in_row("open-tasks", "task", task, "认领")
    until(browser, lambda d: d.find_elements("css selector", f"#my-tasks [data-task='{task}'][data-status='claimed']"),
          "my claimed task")
    assert rider.actions == 1, rider.actions
    assert "张三" in text(browser, "#who")
    signs_out(browser, base, keycloak)
    clean(browser, refused="401")
