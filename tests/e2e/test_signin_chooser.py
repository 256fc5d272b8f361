"""`gridgov serve --demo` as a person meets it in headless Chromium: the auditor's page
signed out, 登录, the demo's people to choose from, 审计员 pressed, back at the page signed
in — the session cookie taken by the browser from http://127.0.0.1 though it is Secure
(Chromium counts loopback as a secure origin), HttpOnly and SameSite=Lax, so the page's
script never sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.http.auth import mint
from domain.events import Role
from tests.fixtures.browser import screenshot
from tests.fixtures.http import SECRET
from tests.fixtures.live import serving
from tests.fixtures.pages import press, until

PHONE, DESK = (390, 844), (1280, 900)


def test_the_demos_chooser_signs_the_auditor_in_and_back_to_the_page(tmp_path: Path, browser: Any) -> None:
    people = {"district_admin": mint(SECRET, "admin-温江", Role.DISTRICT_ADMIN, ["温江"]),
              "auditor": mint(SECRET, "auditor-温江", Role.AUDITOR, ["温江"])}
    with serving(tmp_path, demo_people=people) as (base, _, _):
        for size, name in ((PHONE, "phone"), (DESK, "desk")):
            browser.delete_all_cookies()
            browser.set_window_size(*size)
            browser.get(f"{base}/auth/login?next=%2Faudit")
            until(browser, lambda d: d.find_elements("css selector", "button[data-role='auditor']"),
                  "the demo's people to choose from")
            screenshot(browser, f"signin-chooser-{name}")
            assert "eyJ" not in browser.page_source, "no token on the chooser"
            press(browser, "button[data-role='auditor']")
            until(browser, lambda d: d.current_url == f"{base}/audit", "back at the auditor's page")
            cookie = next(c for c in browser.get_cookies() if c["name"] == "gridgov_session")
            assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
            assert browser.execute_script("return document.cookie").find("gridgov_session") < 0
            session = browser.execute_async_script(
                "const done = arguments[0]; fetch('/auth/session').then(r => r.json()).then(done)")
            assert session["role"] == "auditor"
