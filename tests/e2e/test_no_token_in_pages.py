"""No page holds a token (issue #31): the pages sign in through the server's session, whose
cookie is HttpOnly, so no script of a page, no address and no storage of the browser ever
holds an access token. After the day's story, each person's page is opened, used (the rider
claims a task through the page, which sends a command), reloaded and switched to English;
then the page's storage, its address and every address it asked, its HTML, the scripts it
runs and what they keep (GG.state) are scanned for the token itself and for any JWT's shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from domain.events import Role
from tests.fixtures.browser import screenshot
from tests.fixtures.http import Api, second_rider_and_task, story
from tests.fixtures.pages import bearer, clean, click_in_row, open_page, sign_in, until
from tests.fixtures.rewards import rewards

DESK, PHONE = (1366, 768), (390, 844)
# A JWT: three base64url parts, the first a JSON header ("{" is "eyJ" or "eyA" in base64url).
JWT = re.compile(r"ey[JA][A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")

# Everything of the page a script could read or a person could copy: storage, addresses, the HTML,
# the scripts' source, the shared state, and the cookies a script can see.
EVERYTHING = """
const done = arguments[arguments.length - 1];
const storage = s => Object.keys(s).map(k => `${k}=${s.getItem(k)}`).join("\\n");
const scripts = [...document.scripts].map(s => s.src).filter(Boolean);
Promise.all(scripts.map(src => fetch(src).then(r => r.text())))
  .then(sources => done({
    localStorage: storage(localStorage), sessionStorage: storage(sessionStorage),
    location: location.href, history: String(history.state),
    requested: performance.getEntriesByType("resource").map(e => e.name).join("\\n"),
    html: document.documentElement.outerHTML, scripts: sources.join("\\n"),
    state: JSON.stringify(GG.state), cookies: document.cookie,
  }), e => done({ error: String(e) }));
"""


def holds_no_token(driver: Any, token: str, page: str) -> None:
    seen = driver.execute_async_script(EVERYTHING)
    assert "error" not in seen, seen
    for where, found in seen.items():
        assert token not in found, f"/{page}: the token is in its {where}"
        assert not JWT.search(found), f"/{page}: a JWT in its {where}: {JWT.search(found).group()[:40]}…"
    assert "gridgov_session" not in seen["cookies"], f"/{page}: a script can read the session's cookie"


@pytest.mark.parametrize("page,who,size", [("workbench", "officer", DESK), ("workbench", "admin", DESK),
                                           ("rider", "rider", PHONE), ("audit", "auditor", DESK),
                                           ("partner", "canteen", PHONE), ("", "rider", PHONE)],
                         ids=["officer", "admin", "rider", "auditor", "partner", "home"])
def test_no_page_holds_a_token(server: tuple[str, Api], browser, page: str, who: str,  # type: ignore[no-untyped-def]
                               size: tuple[int, int]) -> None:
    base, api = server
    s = story(api)
    r = rewards(api, s)
    _, _, task = second_rider_and_task(api, s)
    people = {**s, "canteen": r["canteen"], "auditor": api.token(Role.AUDITOR, "auditor-温江")}
    token = bearer(people[who])
    if page:
        open_page(browser, base, page, token, size)
    else:
        browser.set_window_size(*size)
        sign_in(browser, base, token)
        browser.get(f"{base}/")
        until(browser, lambda d: d.find_element("id", "home-name").text == "骑手 · 张三", "who is signed in, by name")
        screenshot(browser, "home-signed-in")
    if page == "rider":  # a command sent by the page: its CSRF token travels, the access token does not
        click_in_row(browser, "open-tasks", "task", task, "认领")
        until(browser, lambda d: "认领：已完成" in d.execute_script("return document.body.innerText"), "claimed")
    holds_no_token(browser, token, page)
    browser.refresh()
    browser.find_element("id", "lang").click()
    until(browser, lambda d: d.execute_script("return document.documentElement.lang") == "en", "in English")
    holds_no_token(browser, token, page)
    clean(browser)
