"""The maps draw the grids' boundaries, shaded by their open clues, with their names inside: on the workbench and
the audit page, in headless Chromium."""

from __future__ import annotations

from typing import Any, Callable

from domain.events import Role
from tests.fixtures.browser import console_errors, screenshot
from tests.fixtures.http import SECRET, Api, story  # noqa: F401
from tests.fixtures.pages import sign_in

DESK = (1366, 768)
DEADLINE_S = 20


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                [west, south]]]}


def until(driver: Any, check: Callable[[Any], Any], what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, DEADLINE_S, poll_frequency=0.05).until(check, message=what)


# The map's polygons as the page drew them: (kind, name, fill) of each, from the ECharts instance.
POLYGONS = """
const chart = echarts.getInstanceByDom(document.getElementById('map'));
if (!chart) return null;
const series = chart.getOption().series.find(s => s.type === 'custom');
if (!series) return null;
return series.data.map((d, i) => {
  const p = d.feature.properties;
  return [p.kind, p.name || p.district, p.open_clues == null ? null : p.open_clues];
});
"""


def test_the_maps_draw_the_grids_shaded_by_their_open_clues(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = story(api)  # 温江, grid 柳城-1 with a rider in it
    admin = s["admin"]
    api.command("set-district-boundary", {"district": "温江", "boundary": box(103.80, 30.64, 103.90, 30.72)}, admin)
    api.command("set-grid-boundary", {"grid_id": s["grid"], "boundary": box(103.80, 30.68, 103.85, 30.72)}, admin)
    api.command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区", "name": "柳城-2",
                                  "boundary": box(103.85, 30.68, 103.90, 30.72)}, admin)
    for lon in (103.86, 103.87, 103.88):  # three open clues in 柳城-2, none (open) in 柳城-1
        api.command("report-clue", {"rider_id": s["rider_id"], "category": "other", "text": "井盖缺失",
                                    "location": {"lon": lon, "lat": 30.70}}, s["rider"])
    expected = {("district", "温江", None), ("grid", "柳城-1", 0), ("grid", "柳城-2", 3)}
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    for page, headers in (("workbench", admin), ("audit", auditor)):
        browser.set_window_size(*DESK)
        sign_in(browser, base, headers["Authorization"].removeprefix("Bearer "))
        browser.get(f"{base}/{page}")
        drawn = until(browser, lambda d: d.execute_script(POLYGONS), f"{page}: the map's boundaries")
        assert {tuple(p) for p in drawn} == expected
        fills = browser.execute_script(
            "const c = echarts.getInstanceByDom(document.getElementById('map'));"
            "const chart = c.getModel().getSeriesByType('custom')[0];"
            "return chart.getData().mapArray(i => chart.getData().getItemGraphicEl(i).style.fill);")
        quiet, busy = fills[1], fills[2]  # the district's outline first, then the grids in the order drawn
        assert quiet != busy and fills[0] == "none"
        browser.execute_script("document.getElementById('map').scrollIntoView()")
        screenshot(browser, f"{page}-grid-map")
        assert not console_errors(browser)


def test_the_admin_places_a_clue_of_no_grid_into_a_grid_from_the_workbench(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from selenium.webdriver.support.ui import Select

    base, api = server
    s = story(api)
    admin = s["admin"]
    api.command("set-district-boundary", {"district": "温江", "boundary": box(103.80, 30.64, 103.90, 30.72)}, admin)
    api.command("set-grid-boundary", {"grid_id": s["grid"], "boundary": box(103.80, 30.68, 103.85, 30.72)}, admin)
    clue = api.command("report-clue", {"rider_id": s["rider_id"], "category": "other", "text": "路灯不亮",
                                       "location": {"lon": 103.87, "lat": 30.65}}, s["rider"])["result"]["clue_id"]
    browser.set_window_size(*DESK)
    sign_in(browser, base, admin["Authorization"].removeprefix("Bearer "))
    browser.get(f"{base}/workbench")
    row = f"#clue-queue tr[data-clue='{clue}']"
    assert "待区里分派" in until(browser, lambda d: d.execute_script(
        "const r = document.querySelector(arguments[0]); return r && r.innerText", row), "the clue in no grid listed")
    browser.execute_script("document.querySelector(arguments[0] + ' button').click()", row)  # 研判
    until(browser, lambda d: d.find_element("id", "accept-grid-label").is_displayed(), "the grid to place it in")
    Select(browser.find_element("id", "accept-grid")).select_by_value(s["grid"])
    browser.find_element("id", "accept-kind").send_keys("路灯报修")
    browser.execute_script("document.querySelector('#accept-form button').click()")
    until(browser, lambda d: api.query(f"/v1/clues/{clue}", admin)["status"] == "accepted", "the clue accepted")
    assert api.query(f"/v1/clues/{clue}", admin)["grid_id"] == s["grid"]
    screenshot(browser, "admin-places-a-clue")
    assert not console_errors(browser)
