"""The dashboard in a real browser (headless Chromium from Debian): it shows the
district's board, budgets and statistics, and a command made elsewhere appears
in its live list and its tables without a reload."""

from __future__ import annotations

from domain.events import Role
from tests.fixtures.http import Api, story


def cells(driver, table: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A table's first two columns, read in one go in the page (it re-renders them as events arrive)."""
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll(arguments[0] + ' tr')]"
        ".map(row => [row.cells[0].textContent, row.cells[1].textContent]))", f"#{table}")


def test_the_dashboard_shows_the_district_and_follows_it_live(server: tuple[str, Api],  # noqa: F811
                                                               browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, api = server
    s = story(api)
    token = api.token(Role.AUDITOR, "auditor-温江")["Authorization"].removeprefix("Bearer ")
    browser.get(f"{base}/dashboard#token={token}")
    wait = WebDriverWait(browser, 15)
    wait.until(lambda d: "live" in d.find_element(By.ID, "status").text)
    assert "温江" in browser.find_element(By.ID, "district").text
    wait.until(lambda d: cells(d, "board-counts").get("verified") == "1")
    wait.until(lambda d: cells(d, "budgets").get("2026-11") == "100000")
    wait.until(lambda d: cells(d, "stats").get("clues") == "1")

    # A command from elsewhere: the page shows it without a reload.
    api.command("publish-task", {"grid_id": s["grid"], "kind": "k", "rate_code": "fire-lane"}, s["officer"])
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#events tr[data-type='TaskPublished']"))
    wait.until(lambda d: cells(d, "board-counts").get("open") == "1")
    assert "error" not in browser.find_element(By.ID, "status").get_attribute("class")


def test_a_token_of_no_district_is_asked_for_another(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811,E501
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, api = server
    rider = api.token(Role.RIDER, "some-rider", [])["Authorization"].removeprefix("Bearer ")
    browser.get(f"{base}/dashboard#token={rider}")
    WebDriverWait(browser, 10).until(lambda d: "no district" in d.find_element(By.ID, "status").text)
    assert browser.find_element(By.ID, "token-form").is_displayed()
