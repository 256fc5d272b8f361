"""axe-core (vendored, tests/fixtures/vendor/axe-core) run inside each page as its
people see it: no serious or critical accessibility violations, in Chinese and
in English, and on the token form. The district has a station, a partner, an
item and a redemption held, so the rewards' lists and forms are there too."""

from __future__ import annotations

import pytest

from domain.events import Role
from tests.fixtures.browser import axe_violations, drawn, screenshot
from tests.fixtures.http import Api, story
from tests.fixtures.rewards import rewards
from tests.fixtures.pages import sign_in

DESK, PHONE = (1366, 768), (390, 844)


@pytest.mark.parametrize("page,role,size", [("workbench", Role.DISTRICT_ADMIN, DESK), ("workbench", Role.GRID_OFFICER, DESK),
                                            ("rider", Role.RIDER, PHONE), ("audit", Role.AUDITOR, DESK),
                                            ("partner", Role.PARTNER, PHONE)])
def test_no_serious_violations(server: tuple[str, Api], browser, page: str, role: Role,  # type: ignore[no-untyped-def]
                               size: tuple[int, int]) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    base, api = server
    s = story(api)
    r = rewards(api, s)
    api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": r["item"]}, s["rider"])
    token = {Role.DISTRICT_ADMIN: s["admin"], Role.GRID_OFFICER: s["officer"], Role.RIDER: s["rider"],
             Role.AUDITOR: api.token(Role.AUDITOR, "auditor-温江"), Role.PARTNER: r["canteen"]}[role]
    browser.set_window_size(*size)
    sign_in(browser, base, token["Authorization"].removeprefix("Bearer "))
    browser.get(f"{base}/{page}")
    WebDriverWait(browser, 20).until(lambda d: d.find_element("id", "live").get_attribute("data-state") == "on")
    WebDriverWait(browser, 20).until(drawn)
    for language in ("zh", "en"):
        found = axe_violations(browser)
        assert not found, f"{page} ({language}): {found}"
        browser.find_element("id", "lang").click()
    screenshot(browser, f"axe-{page}-{role.value}")


def test_signing_in_has_no_serious_violations(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    browser.get(f"{base}/")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(lambda d: d.find_element("id", "signin").is_displayed())
    assert not axe_violations(browser)
    screenshot(browser, "axe-signin")
