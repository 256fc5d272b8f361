"""A day at the workbench, in headless Chromium at a desk's 1280×900, counting what a person
does (each click and each field filled is one action): the grid officer judges a clue (研判)
seeing its photo beside its likely duplicate's and accepts it; verifies a completion seeing
the rider's note and photo; the district admin decides an appeal after a confirmation that
says what it does and the budget it draws on, and the next appeal's form is empty; a rate
schedule's effective time is typed as a China day and time, said back in words, and one
already past is refused beside the button. Nowhere a rate code, an id, fen or UTC. The
person and the page's helpers are tests/fixtures/pages.py's."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from domain.clock import CHINA
from tests.fixtures.browser import screenshot
from tests.fixtures.http import Api
from tests.fixtures.pages import (Person, bearer, clean, named_district, no_codes, open_page, photo, shown, text,
                                  until)

DESK, PHONE = (1280, 900), (390, 844)
NOTE = "已联系物业挪车，通道已畅通"
# What no page may show: a rate code of the story (nor an id, fen or UTC: pages.no_codes).
CODES = ("fire-lane", "grid-patrol", "blocked_fire_lane")


# --- the story, through the API ----------------------------------------------------------
def district(api: Api) -> dict[str, Any]:
    return named_district(api, "officer-1", ("grid-patrol", "Walking the grid"))


def report(api: Api, s: dict[str, Any], words: str, where: dict[str, float], photos: list[str]) -> str:
    return api.command("report-clue", {"rider_id": s["rider_id"], "grid_id": s["grid"], "category": "blocked_fire_lane",
                                       "text": words, "location": where, "evidence_hashes": photos},
                       s["rider"])["result"]["clue_id"]


def words_only(driver: Any) -> None:
    """The page's text holds no rate code, id, fen or UTC time."""
    no_codes(driver, CODES)


def both_sizes(driver: Any, name: str) -> None:
    screenshot(driver, f"{name}-1280")
    driver.set_window_size(*PHONE)
    screenshot(driver, f"{name}-390")
    driver.set_window_size(*DESK)


# --- the officer ------------------------------------------------------------------------------
def test_the_officer_judges_a_clue_by_its_photos_and_verifies_a_completion_by_its_note(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = district(api)
    first = report(api, s, "楼道口堆满纸箱，消防通道过不去", {"lat": 30.6805, "lon": 103.8505},
                   [photo(api, s["rider"], "orange")])
    clue = report(api, s, "消防通道被电动车堵住", {"lat": 30.6806, "lon": 103.8506}, [photo(api, s["rider"], "green")])
    officer = Person(browser)
    open_page(browser, base, "workbench", bearer(s["officer"]), DESK)

    officer.click_in_row("clue-queue", "clue", clue, "研判")
    until(browser, lambda d: len(d.find_elements("css selector", "#clue-side > div[data-clue]")) == 2, "side by side")
    cards = browser.find_elements("css selector", "#clue-side > div[data-clue]")
    assert [c.get_attribute("data-clue") for c in cards] == [clue, first]
    assert cards[0].location["y"] == cards[1].location["y"], "the clue and its likely duplicate side by side"
    until(browser, lambda d: shown(d, f"#clue-side > div[data-clue='{clue}'] img") and
          shown(d, f"#clue-side > div[data-clue='{first}'] img"), "each card's photo")
    for card, words in zip(cards, ("消防通道被电动车堵住", "楼道口堆满纸箱")):
        assert words in card.text and "张三" in card.text and "年" in card.text, card.text
    # No code in the form: the rate by its name and amount, the task named after it.
    rates = [o.text for o in browser.find_elements("css selector", "#accept-rate option")]
    assert rates == ["清理消防通道 · ¥8.00", "网格巡查 · ¥5.00"], rates
    both_sizes(browser, "day-officer-judging")
    officer.choose("#accept-rate", "清理消防通道 · ¥8.00")
    assert browser.find_element("id", "accept-kind").get_attribute("value") == "清理消防通道"
    officer.click("#accept-form button")
    until(browser, lambda d: "受理为任务：已完成" in text(d, "#clue-detail .outcome"), "the answer beside the button")
    assert officer.actions <= 4, officer.actions
    print(f"judged and accepted in {officer.actions} actions")
    task = api.query(f"/v1/clues/{clue}", s["officer"])["task_id"]
    until(browser, lambda d: d.find_elements("css selector", f"#tasks tr[data-task='{task}']"), "the task on the board")
    assert "清理消防通道" in text(browser, f"#tasks tr[data-task='{task}']")

    # The rider does the work on its phone, with a note and a photo; the officer's board shows them live.
    api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"], "note": NOTE,
                                  "evidence_hashes": [photo(api, s["rider"], "blue")]}, s["rider"])
    row = f"#tasks tr[data-task='{task}'][data-status='awaiting_verification']"
    until(browser, lambda d: d.find_elements("css selector", row), "the completion arrives live")
    until(browser, lambda d: shown(d, f"{row} td.completion img"), "the completion's photo")
    seen = text(browser, row)
    both_sizes(browser, "day-officer-verifying")
    assert NOTE in seen and "张三" in seen and "待核验" in seen, seen
    verifier = Person(browser)
    verifier.click_in_row("tasks", "task", task, "核验通过")
    until(browser, lambda d: "核验通过：已完成" in text(d, f"#tasks tr[data-task='{task}'] .outcome"), "answered in the row")
    assert verifier.actions <= 2, verifier.actions
    print(f"verified in {verifier.actions} actions")
    assert api.query("/v1/board", s["officer"], district="温江")["counts"] == {"verified": 1}
    words_only(browser)
    both_sizes(browser, "day-officer-workbench")
    browser.find_element("id", "lang").click()
    until(browser, lambda d: "Clearing a fire lane" in text(d, f"#tasks tr[data-task='{task}']"), "the board in English")
    words_only(browser)
    assert "张三" in text(browser, "#tasks") and "This clue" in text(browser, "#clue-side")  # a name is a name
    screenshot(browser, "day-officer-workbench-english")
    clean(browser)


# --- the admin ------------------------------------------------------------------------------
def test_the_admin_decides_an_appeal_after_a_confirmation_and_the_next_form_is_empty(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = district(api)
    appeals = [api.command("file-appeal", {"rider_id": s["rider_id"], "district": "温江", "text": words,
                                           "subject": {"kind": "outside", "ref": ref}}, s["rider"])["result"]["appeal_id"]
               for words, ref in (("平台误判我超时", "美团罚单 889"), ("站点扣了我的押金", "押金 300 元"))]
    api.command("note-appeal", {"appeal_id": appeals[0], "text": "已致电平台核实罚单"}, s["admin"])
    month = datetime.now(CHINA).strftime("%Y-%m")  # the page draws on the budget of its own clock's month
    api.command("allocate-budget", {"district": "温江", "period": month, "fen": 100_000}, s["admin"])
    admin = Person(browser)
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)

    admin.click_in_row("appeal-queue", "appeal", appeals[0], "裁决")
    until(browser, lambda d: "已致电平台核实罚单" in text(d, "#appeal-notes"), "the note, readable")
    notes = text(browser, "#appeal-notes")
    assert "王主任" in notes and re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", notes), notes
    assert "张三" in text(browser, "#appeal-who")
    people = browser.execute_script("return [...document.querySelectorAll('#assignee option')].map(o => o.text)")
    assert people == ["请选择承办人", "王主任 · 区管理员 · 本人", "李网格 · 网格员"], people
    admin.choose("#decision", "支持申诉，补偿一笔金额")
    admin.fill("#remedy-yuan", "12.50")
    admin.fill("#decide-reason", "核实平台罚单有误，予以补偿")
    admin.click("#decide-form button")
    confirmation = until(browser, lambda d: text(d, "#decide-confirm p"), "the confirmation in the page")
    assert "¥12.50" in confirmation and "温江" in confirmation and "预算" in confirmation, confirmation
    assert "¥1,000.00" in confirmation and "¥987.50" in confirmation, confirmation
    assert api.query(f"/v1/appeals/{appeals[0]}", s["admin"])["status"] == "filed", "nothing decided before the confirmation"
    both_sizes(browser, "day-admin-confirming")
    admin.click("#decide-yes")
    until(browser, lambda d: "裁决：已完成" in text(d, "#appeal-detail .outcome"), "the answer beside the button")
    assert admin.actions <= 6, admin.actions
    print(f"decided with its confirmation in {admin.actions} actions")
    decided = api.query(f"/v1/appeals/{appeals[0]}", s["admin"])
    assert decided["status"] == "decided" and decided["remedy"] == {"kind": "award_fen", "fen": 1250}

    # The next appeal: nothing of the last decision carried over.
    Person(browser).click_in_row("appeal-queue", "appeal", appeals[1], "裁决")
    until(browser, lambda d: "站点扣了我的押金" in text(d, "#appeal-text"), "the next appeal")
    form = browser.execute_script("return ['decision', 'remedy-yuan', 'decide-reason', 'note-text', 'assignee']"
                                  ".map(id => document.getElementById(id).value)")
    assert form == ["", "", "", "", ""], form
    assert not browser.find_element("id", "decide-confirm").is_displayed()
    assert not browser.find_elements("css selector", "#appeal-detail .outcome")
    words_only(browser)
    both_sizes(browser, "day-admin-appeals")
    clean(browser)


def test_a_schedule_dated_in_the_past_is_refused_beside_the_button_and_now_is_taken(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = district(api)
    now = datetime.now(CHINA)
    api.clock.set(now)  # the server's clock is the browser's here
    past = now.replace(hour=0, minute=0) if now.hour or now.minute >= 10 else now - timedelta(hours=3)
    admin = Person(browser)
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)
    until(browser, lambda d: len(d.find_elements("css selector", "#schedule-rates tr[data-rate]")) == 2,
          "the form holds the schedule in force, by name")
    names = browser.execute_script("return [...document.querySelectorAll('#schedule-rates tr[data-rate] input')]"
                                   ".map(i => i.value)")
    assert names[:2] == ["清理消防通道", "Clearing a fire lane"], names
    admin.fill("#schedule-day", past.strftime("%Y-%m-%d"))
    admin.fill("#schedule-time", past.strftime("%H:%M"))
    said_back = text(browser, "#schedule-when")
    assert f"{past.year}年{past.month}月{past.day}日 {past:%H:%M}" in said_back and "已过去" in said_back, said_back
    admin.click("#schedule-form button.primary")
    until(browser, lambda d: "生效时间已过" in text(d, "#schedule-form + .outcome, #schedule-form .outcome"),
          "refused in words beside the button")
    assert len(api.query("/v1/districts/温江/rate-schedules", s["admin"])) == 1
    admin.fill("#schedule-day", now.strftime("%Y-%m-%d"))
    admin.fill("#schedule-time", now.strftime("%H:%M"))  # now, to the minute
    admin.click("#schedule-form button.primary")
    until(browser, lambda d: "发布新单价表：已完成" in text(d, "#schedule-form + .outcome, #schedule-form .outcome"),
          "taken")
    latest = api.query("/v1/districts/温江/rate-schedules", s["admin"])[0]
    assert latest["version"] == 2 and latest["rates"]["fire-lane"]["name_zh"] == "清理消防通道"
    words_only(browser)
    both_sizes(browser, "day-admin-rates")
    clean(browser, refused="422")
