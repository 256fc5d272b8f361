"""What a rider's phone downloads to open its page, as Chromium counts it
(the Performance API's transferSize: headers and compressed bodies): under
150 KB, ECharts aside (the rider's page does not load it; the desk pages do,
once, cached). The scripts travel compressed."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.fixtures.browser import drawn
from tests.fixtures.http import Api, story
from tests.fixtures.pages import sign_in

BUDGET = 150 * 1024
PHONE = (390, 844)
WEIGHT = """
const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
return entries.map(e => ({name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize,
                          decoded: e.decodedBodySize, kind: e.initiatorType}));
"""


@pytest.mark.parametrize("page", ["rider", "partner"])
def test_a_phone_page_weighs_under_150_kb_with_its_scripts_compressed(server: tuple[str, Api], browser,  # type: ignore[no-untyped-def]
                                                                      page: str) -> None:
    from tests.fixtures.rewards import rewards

    base, api = server
    s = story(api)
    token = s["rider"] if page == "rider" else rewards(api, s)["canteen"]
    browser.set_window_size(*PHONE)
    sign_in(browser, base, token["Authorization"].removeprefix("Bearer "))
    browser.get(f"{base}/{page}")
    WebDriverWait(browser, 20).until(lambda d: d.find_element("id", "live").get_attribute("data-state") == "on")
    WebDriverWait(browser, 20).until(drawn)

    entries = [e for e in browser.execute_script(WEIGHT) if "echarts" not in e["name"]]
    scripts = [e for e in entries if e["name"].endswith(".js") and e["decoded"] > 4096]
    weight = sum(e["transfer"] for e in entries)  # the API's answers too
    print(f"/{page}: {weight} bytes transferred in {len(entries)} requests")
    assert 0 < weight <= BUDGET, entries
    assert scripts, entries
    for script in scripts:
        assert script["encoded"] < script["decoded"] / 2, f"{script['name']} travelled uncompressed: {script}"
