"""The pages in headless Chromium, one test per person's work: the officer triages a
clue into a task and verifies the work, the admin decides an appeal, the rider
reports, claims and completes on a phone-sized screen, the auditor narrows the
history and opens an award's chain; the rider redeems points for a meal and the
canteen confirms it with the rider's code, the admin keeps the rewards. Changes
made elsewhere arrive live; the words are Chinese until the toggle; a token of
another district sees nothing; the console stays clean. Each test leaves a
screenshot in the test output folder."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any, Callable

import pytest

from api.http.auth import mint
from domain.clock import CHINA
from domain.events import Role
from tests.fixtures.browser import chromium, drawn, screenshot
from tests.fixtures.http import SECRET, Api, second_rider_and_task, story
from tests.fixtures.pages import bearer, clean, click_in_row, fits, open_page, press, sign_in, text, until
from tests.fixtures.rewards import rewards

DESK, PHONE = (1366, 768), (390, 844)


def rows(driver: Any, table: str, attribute: str) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll(`#${arguments[0]} tr[data-${arguments[1]}]`)]"
        ".map(r => r.dataset[arguments[1]])", table, attribute)


def said(driver: Any, words: str) -> str:
    """Waits for the result line, or an answer beside the button pressed, to say `words`; gives it."""
    find = ("return [...document.querySelectorAll('#result, .outcome')].map(e => e.innerText)"
            ".find(t => t.includes(arguments[0])) || ''")
    return until(driver, lambda d: d.execute_script(find, words), f"the page says {words!r}")


def report_clue(api: Api, s: dict[str, Any], text: str = "消防通道被电动车堵住",
                where: dict[str, float] | None = None) -> str:
    return api.command("report-clue", {"rider_id": s["rider_id"], "grid_id": s["grid"], "category": "blocked_fire_lane",
                                       "text": text, "location": where or {"lat": 30.681, "lon": 103.851}},
                       s["rider"])["result"]["clue_id"]


def test_the_officer_triages_a_clue_into_a_task_and_verifies_the_work(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from selenium.webdriver.support.ui import Select

    base, api = server
    s = story(api)
    report_clue(api, s, "楼道里堆满纸箱", {"lat": 30.6805, "lon": 103.8505})  # a likely duplicate's original
    clue = report_clue(api, s)
    open_page(browser, base, "workbench", bearer(s["officer"]), DESK)
    assert "网格工作台" in browser.title and browser.find_element("css selector", "html").get_attribute("lang") == "zh-CN"

    click_in_row(browser, "clue-queue", "clue", clue, "研判")
    until(browser, lambda d: d.find_element("id", "clue-detail").is_displayed(), "the clue's detail")
    # The likely duplicate beside it, and both on the small map.
    until(browser, lambda d: len(d.find_elements("css selector", "#clue-side > div[data-clue]")) == 2, "side by side")
    browser.find_element("id", "accept-kind").clear()
    browser.find_element("id", "accept-kind").send_keys("清理消防通道")
    Select(browser.find_element("id", "accept-rate")).select_by_value("fire-lane")
    press(browser, "#accept-form button")
    said(browser, "受理为任务：已完成")
    task = api.query(f"/v1/clues/{clue}", s["officer"])["task_id"]
    until(browser, lambda d: task in rows(d, "tasks", "task"), "the new task on the board")
    assert clue not in rows(browser, "clue-queue", "clue")

    # The rider does the work on its phone: the officer's board shows it without a reload.
    api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"], "note": "已清理"}, s["rider"])
    started = time.monotonic()
    until(browser, lambda d: d.find_elements("css selector", f"#tasks tr[data-task='{task}'][data-status='awaiting_verification']"),
          "the completion arrives live")
    print(f"a completion made elsewhere appeared after {time.monotonic() - started:.2f} s")
    click_in_row(browser, "tasks", "task", task, "核验通过")
    said(browser, "核验通过：已完成")
    assert api.query("/v1/board", s["officer"], district="温江")["counts"] == {"verified": 2}
    screenshot(browser, "officer-workbench")
    assert fits(browser)
    clean(browser)


def test_the_admin_decides_an_appeal_with_the_budget_it_draws_on_in_view(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from selenium.webdriver.support.ui import Select

    base, api = server
    s = story(api)
    appeal = api.command("file-appeal", {"rider_id": s["rider_id"], "district": "温江", "text": "平台误判我超时",
                                         "subject": {"kind": "outside", "ref": "美团罚单 889"}},
                         s["rider"])["result"]["appeal_id"]
    # The page shows the budget of the month its own clock is in (the server's here is the tests' manual one).
    browser_month = datetime.now(CHINA).strftime("%Y-%m")
    api.command("allocate-budget", {"district": "温江", "period": browser_month, "fen": 100_000}, s["admin"])
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)
    click_in_row(browser, "appeal-queue", "appeal", appeal, "裁决")
    Select(browser.find_element("id", "assignee")).select_by_value("admin-温江")  # the district's people, by name
    press(browser, "#assign-form button")
    said(browser, "分派：已完成")
    Select(browser.find_element("id", "decision")).select_by_value("award_fen")
    budget = browser.find_element("id", "remedy-budget").text
    assert "预算" in budget and "¥" in budget, budget
    amount = browser.find_element("id", "remedy-yuan")
    amount.clear()
    amount.send_keys("99999999")  # past what the month has left: the shortfall shows before the press
    until(browser, lambda d: "预算不足" in d.find_element("id", "remedy-budget").text, "the shortfall in view")
    amount.clear()
    amount.send_keys("12.50")
    until(browser, lambda d: "预算不足" not in d.find_element("id", "remedy-budget").text, "no shortfall")
    browser.find_element("id", "decide-reason").send_keys("核实平台罚单有误，予以补偿")
    press(browser, "#decide-form button")
    assert "¥12.50" in until(browser, lambda d: text(d, "#decide-confirm p"), "the decision said before it is made")
    press(browser, "#decide-yes")
    said(browser, "裁决：已完成")
    decided = api.query(f"/v1/appeals/{appeal}", s["admin"])
    assert decided["status"] == "decided" and decided["remedy"] == {"kind": "award_fen", "fen": 1250}
    until(browser, lambda d: "已裁决" in text(d, f"#appeal-queue tr[data-appeal='{appeal}']"), "the queue shows the decision")
    screenshot(browser, "admin-workbench")
    clean(browser)


def test_the_admin_issues_a_rate_schedule_in_yuan_and_it_is_kept_in_fen(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = story(api)
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)
    until(browser, lambda d: len(d.find_elements("css selector", "#schedule-rates tr[data-rate]")) == 1,
          "the form holds the schedule in force")
    # The story's one rate was issued before names: the admin names it (a code never shows).
    browser.find_element("css selector", "#schedule-rates tr[data-rate] input").send_keys("清理消防通道")
    press(browser, "#add-rate")
    name_zh, name_en, amount, points = browser.find_elements("css selector",
                                                             "#schedule-rates tr[data-rate]:last-child input")
    name_zh.send_keys("探访独居老人")
    name_en.send_keys("Elderly visit")
    amount.send_keys("12.5")
    points.clear()
    points.send_keys("12")
    for field, typed in (("schedule-day", "2026-12-01"), ("schedule-time", "00:00")):
        browser.find_element("id", field).clear()
        browser.find_element("id", field).send_keys(typed)
    assert "2026年12月1日 00:00" in text(browser, "#schedule-when")
    press(browser, "#schedule-form button.primary")
    said(browser, "发布新单价表：已完成")
    latest = api.query("/v1/districts/温江/rate-schedules", s["admin"])[0]
    assert latest["version"] == 2 and latest["effective_from"].startswith("2026-11-30T16:00")  # China midnight
    assert {code: (r["fen"], r["points"], r["name_zh"]) for code, r in latest["rates"].items()} == {
        "fire-lane": (800, 8, "清理消防通道"), "elderly-visit": (1250, 12, "探访独居老人")}
    assert (latest["cap_day_fen"], latest["cap_month_fen"]) == (5000, 50000)
    screenshot(browser, "admin-rate-schedule")
    clean(browser)


def test_the_rider_reports_claims_and_completes_on_a_phone(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from selenium.webdriver.support.ui import Select

    base, api = server
    s = story(api)
    open_page(browser, base, "rider", bearer(s["rider"]), PHONE)
    until(browser, lambda d: "¥8.00" in d.find_element("id", "payable").text, "the balance in yuan")
    for name, value in (("lat", "30.6801"), ("lon", "103.8502")):
        browser.find_element("id", name).send_keys(value)
    Select(browser.find_element("id", "report-category")).select_by_value("fire_hazard")
    browser.find_element("id", "report-text").send_keys("电动车在楼道里充电")
    press(browser, "#report-form button")
    said(browser, "上报线索：已完成")
    until(browser, lambda d: "电动车在楼道里充电" in d.find_element("id", "my-clues").text, "my clue in my list")
    clue = next(c for c in api.query(f"/v1/riders/{s['rider_id']}/clues", s["rider"])["clues"] if c["category"] == "fire_hazard")
    assert clue["location"] == {"lat": 30.6801, "lon": 103.8502}

    # The officer accepts it elsewhere: the task appears among those near the rider.
    task = api.command("accept-clue", {"clue_id": clue["clue_id"], "kind": "fire", "rate_code": "fire-lane"},
                       s["officer"])["result"]["task_id"]
    until(browser, lambda d: task in rows(d, "open-tasks", "task"), "the new task nearby, live")
    assert " m" in browser.find_element("css selector", f"#open-tasks tr[data-task='{task}']").text  # its distance
    click_in_row(browser, "open-tasks", "task", task, "认领")
    said(browser, "认领：已完成")
    until(browser, lambda d: d.find_elements("css selector", f"#my-tasks [data-task='{task}'][data-status='claimed']"),
          "my claimed task")
    press(browser, f"#my-tasks [data-task='{task}'] button.wide")  # 完成: the task card's big button
    said(browser, "完成：已完成")
    until(browser, lambda d: d.find_elements(
        "css selector", f"#my-tasks [data-task='{task}'][data-status='awaiting_verification']"), "awaiting verification")
    screenshot(browser, "rider-phone")
    assert fits(browser)
    clean(browser)


def test_the_rider_redeems_a_meal_and_the_canteen_confirms_it_with_the_code(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from selenium.webdriver.common.keys import Keys

    base, api = server
    s = story(api)
    r = rewards(api, s)
    open_page(browser, base, "rider", bearer(s["rider"]), PHONE)
    # Where the rider stands: the station 1.1 km away, its services in words.
    browser.find_element("id", "lat").send_keys("30.69")
    browser.find_element("id", "lon").send_keys("103.85", Keys.TAB)
    until(browser, lambda d: rows(d, "stations", "station") == [r["station"]], "the station nearby")
    station = text(browser, f"#stations tr[data-station='{r['station']}']")
    assert "柳城骑手驿站" in station and "1.1 km" in station and "充电、食堂" in station, station
    until(browser, lambda d: text(d, "#points") == "8", "8 points available")
    click_in_row(browser, "catalogue", "item", r["item"], "兑换")
    assert "8 积分" in until(browser, lambda d: text(d, "#ask-text"), "asked before the points are spent")
    press(browser, "#ask-yes")
    said(browser, "兑换：已完成")
    until(browser, lambda d: len(text(d, "#codes .code")) == 6, "the code, large")
    code = text(browser, "#codes .code")
    assert code.isdigit() and "社区食堂工作餐" in text(browser, "#codes") and "驿站食堂" in text(browser, "#codes")
    assert "领取截止" in text(browser, "#codes")
    until(browser, lambda d: (text(d, "#points"), text(d, "#points-held"), text(d, "#points-spent")) == ("0", "8", "0"),
          "available / held / spent")
    redemption = api.query(f"/v1/riders/{s['rider_id']}/redemptions", s["rider"])[0]["redemption_id"]
    assert browser.find_elements("css selector", f"#redemptions tr[data-redemption='{redemption}'][data-status='held']")
    # The API answers the code once: the phone keeps it, and a reload still shows it.
    browser.refresh()
    until(browser, lambda d: text(d, f"#codes [data-redemption='{redemption}'] .code") == code, "the code after a reload")
    # The partner types the six digits alone: no reference beside the code, only the meal, the partner
    # and the time to collect by, in China's words.
    card = text(browser, f"#codes [data-redemption='{redemption}']")
    assert "编号" not in card and redemption[:8] not in card and not re.search(r"\b[0-9a-f]{8}\b", card), card
    assert re.search(r"领取截止 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", card), card
    screenshot(browser, "rider-redeems")
    browser.set_window_size(*DESK)
    screenshot(browser, "rider-redeems-1280")
    browser.set_window_size(*PHONE)
    clean(browser)

    # The canteen, at its counter (a device of its own), types the code the rider shows.
    with chromium() as counter:
        open_page(counter, base, "partner", bearer(r["canteen"]), PHONE)
        until(counter, lambda d: rows(d, "held", "redemption") == [redemption], "the hold in the canteen's queue")
        assert "社区食堂工作餐" in text(counter, "#held")
        until(counter, lambda d: text(d, "#partner-name") == "驿站食堂 · 食堂 · 柳城骑手驿站 · 温江", "its name and station")
        counter.find_element("id", "confirm-code").send_keys(code)
        press(counter, "#confirm-form button")
        said(counter, "确认领取：已完成")
        until(counter, lambda d: rows(d, "held", "redemption") == [], "the queue empty")
        until(counter, lambda d: rows(d, "closed", "redemption") == [redemption], "among the confirmed")
        screenshot(counter, "partner-confirms")
        assert fits(counter)
        clean(counter)

    # The rider's phone shows it collected, live; the code is gone from it.
    until(browser, lambda d: d.find_elements(
        "css selector", f"#redemptions tr[data-redemption='{redemption}'][data-status='confirmed']"), "collected, live")
    assert "已领取" in text(browser, f"#redemptions tr[data-redemption='{redemption}']")
    until(browser, lambda d: (text(d, "#points"), text(d, "#points-held"), text(d, "#points-spent")) == ("0", "0", "8"),
          "the points spent")
    assert not browser.find_elements("css selector", "#codes .code")
    assert browser.execute_script("return localStorage.getItem(arguments[0])", f"gg.code.{redemption}") is None
    screenshot(browser, "rider-collected")
    assert fits(browser)
    clean(browser)


def test_a_wrong_code_is_refused_in_chinese_and_the_partner_can_refuse(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = story(api)
    r = rewards(api, s)
    held = api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": r["item"]}, s["rider"])["result"]
    # A partner at the front door is told who it is, and goes to its own page from there.
    browser.set_window_size(*PHONE)
    sign_in(browser, base, bearer(r["canteen"]))
    browser.get(f"{base}/")
    until(browser, lambda d: "合作商户" in text(d, "#home-who"), "the front door says who is signed in")
    press(browser, "#home-mine")
    until(browser, lambda d: d.current_url.endswith("/partner"), "the partner's page")
    until(browser, lambda d: rows(d, "held", "redemption") == [held["redemption_id"]], "the hold in the queue")
    code = browser.find_element("id", "confirm-code")
    code.send_keys("12345")
    press(browser, "#confirm-form button")
    said(browser, "兑换码须为六位数字")
    code.clear()
    code.send_keys("000000" if held["code"] != "000000" else "111111")
    press(browser, "#confirm-form button")
    problem = said(browser, "兑换码错误")
    assert "确认领取：未能完成" in problem and "六位数字" in problem, problem
    assert "problem" in browser.find_element("css selector", "#confirm-form + .outcome").get_attribute("class")
    assert rows(browser, "held", "redemption") == [held["redemption_id"]]  # still waiting
    screenshot(browser, "partner-wrong-code")
    # Sold out after all: refused with a reason, the points go back to the rider.
    browser.find_element("css selector", f"#held tr[data-redemption='{held['redemption_id']}'] input").send_keys("今日已售罄")
    click_in_row(browser, "held", "redemption", held["redemption_id"], "拒绝")
    said(browser, "拒绝：已完成")
    until(browser, lambda d: rows(d, "held", "redemption") == [], "the queue empty")
    points = api.query(f"/v1/riders/{s['rider_id']}/points", s["rider"])
    assert (points["available"], points["held"]) == (8, 0)
    clean(browser, refused="422")


def test_wrong_codes_lock_a_redemption_and_the_rider_gets_a_new_code_in_one_press(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = story(api)
    r = rewards(api, s)
    held = api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": r["item"]}, s["rider"])["result"]
    redemption, wrong = held["redemption_id"], "000000" if held["code"] != "000000" else "111111"
    # A counter's API client names the redemption: five wrong codes for it lock it (the page's
    # codes alone name none, and count against the counter's day instead: test_day_audit_partner).
    open_page(browser, base, "partner", bearer(r["canteen"]), PHONE)
    until(browser, lambda d: rows(d, "held", "redemption") == [redemption], "the hold in the queue")
    for _ in range(5):
        api.command("confirm-redemption", {"redemption_id": redemption, "code": wrong}, r["canteen"], status=422)
    until(browser, lambda d: rows(d, "held", "redemption") == [], "locked: no longer waiting at the counter")
    # Its right code at the counter says why, in words.
    browser.find_element("id", "confirm-code").send_keys(held["code"])
    press(browser, "#confirm-form button")
    said(browser, "兑换已锁定")
    clean(browser, refused="409")
    # The rider's phone (a device of its own) says why, and one press gives a new code; the collection time stays.
    with chromium() as phone:
        open_page(phone, base, "rider", bearer(s["rider"]), PHONE)
        card = f"#codes [data-redemption='{redemption}']"
        until(phone, lambda d: "锁定" in text(d, card), "the card says it is locked")
        assert not phone.find_elements("css selector", f"{card} .code")  # the dead code is not shown
        screenshot(phone, "rider-locked-code")
        press(phone, f"{card} button")
        said(phone, "换一个新兑换码：已完成")
        until(phone, lambda d: len(text(d, f"{card} .code")) == 6, "the new code, large")
        fresh = text(phone, f"{card} .code")
        assert "领取截止" in text(phone, card)
        clean(phone)
    # Back at the counter the new code confirms it.
    until(browser, lambda d: rows(d, "held", "redemption") == [redemption], "waiting again")
    code = browser.find_element("id", "confirm-code")
    code.clear()
    code.send_keys(fresh)
    press(browser, "#confirm-form button")
    said(browser, "确认领取：已完成")
    assert api.query(f"/v1/riders/{s['rider_id']}/redemptions", s["rider"])[0]["status"] == "confirmed"
    clean(browser)


def test_the_admin_keeps_the_rewards_on_the_workbench(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from selenium.webdriver.support.ui import Select

    base, api = server
    s = story(api)
    # Kept elsewhere, before the page opens: a station with a shop at it (no items yet), and a closed station.
    place = {"address": "温泉大道1号", "location": {"lat": 30.69, "lon": 103.84}, "hours": "全天", "services": ["water"]}
    elsewhere = api.command("register-station", {"district": "温江", "description": {"name": "温泉大道驿站", **place}},
                            s["admin"])["result"]["station_id"]
    shop = api.command("register-partner", {"district": "温江", "name": "鱼凫便利店", "kind": "shop",
                                            "station_id": elsewhere}, s["admin"])["result"]["partner_id"]
    closed = api.command("register-station", {"district": "温江", "description": {"name": "老驿站", **place}},
                         s["admin"])["result"]["station_id"]
    api.command("close-station", {"station_id": closed, "reason": "搬迁"}, s["admin"])
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)
    until(browser, lambda d: rows(d, "partner-list", "partner") == [shop], "a partner without items, from the API")
    assert "温泉大道驿站" in text(browser, f"#partner-list tr[data-partner='{shop}']")
    assert rows(browser, "station-list", "station") == [elsewhere]  # the open ones
    press(browser, "#stations-closed")
    until(browser, lambda d: set(rows(d, "station-list", "station")) == {elsewhere, closed}, "the closed one too, on asking")
    assert "已关闭" in text(browser, f"#station-list tr[data-station='{closed}'][data-open='false']")
    assert not browser.find_elements("css selector", f"#station-list tr[data-station='{closed}'] button")
    press(browser, "#stations-closed")
    assert text(browser, "#policy-line") == "现行规则：尚未设定，积分永不清零"
    for field, value in (("station-name", "柳城骑手驿站"), ("station-address", "柳城街道1号"), ("station-lat", "30.68"),
                         ("station-lon", "103.85")):
        browser.find_element("id", field).send_keys(value)
    for service in ("charging", "canteen"):
        press(browser, f"#station-services input[value='{service}']")
    press(browser, "#station-form button")
    said(browser, "登记驿站：已完成")
    until(browser, lambda d: len(rows(d, "station-list", "station")) == 2, "the station listed")
    station = next(n for n in rows(browser, "station-list", "station") if n != elsewhere)
    assert "柳城骑手驿站" in text(browser, f"#station-list tr[data-station='{station}']")
    assert "充电、食堂" in text(browser, f"#station-list tr[data-station='{station}']")

    browser.find_element("id", "partner-name").send_keys("驿站食堂")
    Select(browser.find_element("id", "partner-kind")).select_by_value("canteen")
    until(browser, lambda d: d.find_elements("css selector", f"#partner-station option[value='{station}']"), "the station to choose")
    Select(browser.find_element("id", "partner-station")).select_by_value(station)
    press(browser, "#partner-form button")
    said(browser, "登记合作商户：已完成")
    until(browser, lambda d: len(rows(d, "partner-list", "partner")) == 2, "the partner listed, before it has items")
    partner = next(p for p in rows(browser, "partner-list", "partner") if p != shop)
    assert "柳城骑手驿站" in text(browser, f"#partner-list tr[data-partner='{partner}']")
    assert partner not in text(browser, f"#partner-list tr[data-partner='{partner}']")  # its id on copy, not shown
    assert "复制编号" in text(browser, f"#partner-list tr[data-partner='{partner}']")

    Select(browser.find_element("id", "item-partner")).select_by_value(partner)
    for field, value in (("item-name", "社区食堂工作餐"), ("item-price", "8"), ("item-stock", "5")):
        browser.find_element("id", field).send_keys(value)
    browser.execute_script("document.getElementById('item-from').value = '2026-11-01';"
                           "document.getElementById('item-to').value = '2027-10-31';")
    hold = browser.find_element("id", "item-hold")
    hold.clear()
    hold.send_keys("60")
    press(browser, "#item-form button")
    said(browser, "上架商品：已完成")
    offered = api.query("/v1/districts/温江/catalogue", s["admin"])
    assert [(i["name"], i["partner_id"], i["price_points"], i["available"], i["hold_minutes"]) for i in offered] == \
        [("社区食堂工作餐", partner, 8, 5, 60)]
    item = offered[0]["item_id"]
    # The days are China's: from the first day's midnight to the midnight after the last.
    assert (offered[0]["valid_from"], offered[0]["valid_to"]) == ("2026-11-01T00:00:00+08:00", "2027-11-01T00:00:00+08:00")
    until(browser, lambda d: d.find_elements("css selector", f"#item-list tr[data-item='{item}'][data-status='onoffer']"),
          "the item on offer")
    assert "2026年11月1日 – 2027年10月31日" in text(browser, f"#item-list tr[data-item='{item}']")

    # A new price and more stock.
    price, added = browser.find_elements("css selector", f"#item-list tr[data-item='{item}'] input")[:2]
    price.clear()
    price.send_keys("6")
    added.clear()
    added.send_keys("3")
    click_in_row(browser, "item-list", "item", item, "修订")
    said(browser, "修订：已完成")
    revised = api.query("/v1/districts/温江/catalogue", s["admin"])[0]
    assert (revised["price_points"], revised["stock"], revised["version"]) == (6, 8, 2)

    browser.find_element("id", "policy-months").send_keys("12")
    press(browser, "#policy-form button")
    said(browser, "积分清零规则：已完成")
    until(browser, lambda d: text(d, "#policy-line").startswith("现行规则：12 个月后清零 · 版本 1 · 设定于 "),
          "the policy in force beside its form")
    until(browser, lambda d: "暂无" in text(d, "#handed-out"), "the month's table (nothing handed out yet)")
    screenshot(browser, "admin-rewards")
    assert fits(browser)
    clean(browser)

    # After a reload the lists are the API's: nothing of them is kept in the browser.
    browser.refresh()
    until(browser, lambda d: d.find_element("id", "live").get_attribute("data-state") == "on", "live again")
    until(browser, lambda d: set(rows(d, "partner-list", "partner")) == {partner, shop}, "both partners after a reload")
    assert "柳城骑手驿站" in text(browser, f"#partner-list tr[data-partner='{partner}']")
    assert set(rows(browser, "station-list", "station")) == {station, elsewhere}
    assert text(browser, "#policy-line").startswith("现行规则：12 个月后清零 · 版本 1")
    assert browser.execute_script("return Object.keys(localStorage).filter(k => k.startsWith('gg.partners'))") == []
    clean(browser)


def test_the_auditor_narrows_the_history_and_opens_a_chain(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    from selenium.webdriver.support.ui import Select

    base, api = server
    s = story(api)
    report_clue(api, s)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    open_page(browser, base, "audit", bearer(auditor), DESK)
    until(browser, lambda d: len(rows(d, "history", "kind")) >= 10, "the district's history")
    Select(browser.find_element("id", "f-kind")).select_by_value("SubsidyAwarded")
    press(browser, "#filter-form button.primary")
    until(browser, lambda d: set(rows(d, "history", "kind")) == {"SubsidyAwarded"}, "only awards")
    click_in_row(browser, "history", "subject", s["task"], "查看补贴链")
    until(browser, lambda d: d.find_element("id", "chain-card").is_displayed(), "the chain")
    kinds = browser.execute_script("return [...document.querySelectorAll('#chain li')].map(li => li.dataset.kind)")
    assert {"ClueReported", "TaskClaimed", "CompletionVerified", "SubsidyAwarded"} <= set(kinds), kinds
    assert "¥8.00" in browser.find_element("id", "chain").text
    # On paper: no forms or buttons, a line saying what was printed and when.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element("id", "filter-form").is_displayed()
    assert "补贴审计" in browser.find_element("id", "print-head").text
    screenshot(browser, "auditor-print")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    screenshot(browser, "auditor-view")
    clean(browser)


def test_words_are_chinese_until_the_toggle_and_english_after(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = story(api)
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)
    heading = lambda d: d.find_element("css selector", "#triage h2").text  # noqa: E731
    assert heading(browser) == "线索研判"
    # The budgets come in a fetch of their own, after the page is live: on a loaded machine, later.
    until(browser, lambda d: "¥1,000.00" in d.find_element("id", "budgets").text, "the budgets, in yuan")
    press(browser, "#lang")
    until(browser, lambda d: heading(d) == "Clue triage", "English after the toggle")
    assert browser.find_element("css selector", "html").get_attribute("lang") == "en"
    assert browser.find_element("id", "live").text == "Live" and "District admin" in browser.find_element("id", "who").text
    until(browser, lambda d: "Remaining" in d.find_element("id", "budgets").text, "the tables in English")
    # A refusal, in the page's language: the task was verified already.
    browser.execute_script("GG.command('verify-completion', {task_id: arguments[0]}, 'Verify')", s["task"])
    said(browser, "Task not awaiting verification")
    screenshot(browser, "workbench-english")
    press(browser, "#lang")
    until(browser, lambda d: heading(d) == "线索研判", "Chinese again")
    clean(browser, refused="409")


def test_a_token_of_another_district_sees_nothing_of_this_one(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = story(api)
    report_clue(api, s)
    other = api.token(Role.DISTRICT_ADMIN, "admin-锦江", ["锦江"])
    api.command("register-grid", {"district": "锦江", "street": "春熙路街道", "community": "和平社区", "name": "锦江-1"}, other)
    open_page(browser, base, "workbench", bearer(other), DESK)
    until(browser, lambda d: "暂无" in d.find_element("id", "tasks").text, "an empty board")
    publish = api.command("publish-task", {"grid_id": s["grid"], "kind": "patrol", "rate_code": "fire-lane"},
                          s["officer"])["result"]["task_id"]
    # Then news of its own district: the stream is in log order, so once this is shown,
    #温江's task would have been too, were it let through.
    api.command("allocate-budget", {"district": "锦江", "period": "2026-11", "fen": 100}, other)
    until(browser, lambda d: rows(d, "events", "type") == ["BudgetAllocated"], "锦江's own news, alone")
    text = browser.find_element("tag name", "main").text
    assert "温江" not in text and publish[:8] not in text
    assert rows(browser, "clue-queue", "clue") == []
    screenshot(browser, "other-district")
    clean(browser)


def token_session(driver: Any, token: str) -> int:
    """What /auth/token-session answers the page's origin for `token` (204: a session; 401: none)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/auth/token-session', {method: 'POST', headers: {Authorization: `Bearer ${arguments[0]}`}})"
        "  .then(r => done(r.status));", token)


def signed_out(driver: Any, next_path: str) -> str:
    """Waits for the 登录 button, aimed back at `next_path`, with the page's work hidden; gives the reason shown."""
    until(driver, lambda d: d.find_element("id", "signin").is_displayed(), "the 登录 button")
    link = driver.find_element("id", "signin-link")
    assert link.text == "登录"
    assert link.get_attribute("href").endswith(f"/auth/login?next={next_path}"), link.get_attribute("href")
    assert not driver.find_element("tag name", "main").is_displayed()
    assert not driver.find_element("id", "signout").is_displayed()
    return driver.find_element("id", "signin-message").text


def test_signed_out_a_page_offers_登录_and_keeps_the_place(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = story(api)
    _, _, task = second_rider_and_task(api, s)
    browser.set_window_size(*DESK)
    browser.get(f"{base}/workbench#appeals")
    # The reason in a person's words: not signed in, not the API's words about tokens.
    assert signed_out(browser, "%2Fworkbench%23appeals") == "尚未登录。"
    screenshot(browser, "signin-desk")
    # An expired token or one signed with another secret gets no session: the page stays signed out.
    expired = mint(SECRET, "admin-温江", Role.DISTRICT_ADMIN, ["温江"], ttl_s=-60)
    forged = mint("another-secret-of-at-least-thirty-two-bytes", "admin-温江", Role.DISTRICT_ADMIN, ["温江"])
    assert (token_session(browser, expired), token_session(browser, forged)) == (401, 401)
    browser.refresh()
    signed_out(browser, "%2Fworkbench%23appeals")
    # A forged cookie is refused in words.
    browser.add_cookie({"name": "gridgov_session", "value": "forged-" + "0" * 40, "path": "/"})
    browser.refresh()
    assert "登录已结束" in signed_out(browser, "%2Fworkbench%23appeals")
    # Signed in, the session ending mid-work: the next action brings 登录 back, aimed at this page.
    open_page(browser, base, "rider", bearer(s["rider"]), PHONE)
    browser.delete_cookie("gridgov_session")
    browser.add_cookie({"name": "gridgov_session", "value": "ended-" + "0" * 40, "path": "/"})
    # The press may come after a read of the page's own found the session ended (then the button is hidden).
    click_in_row(browser, "open-tasks", "task", task, "认领", click=lambda b: browser.execute_script("arguments[0].click()", b))
    assert "登录已结束" in signed_out(browser, "%2Frider")
    assert api.query("/v1/board", s["officer"], district="温江")["counts"].get("claimed", 0) == 0  # nothing done
    screenshot(browser, "signin-phone")
    clean(browser, refused="401")


def test_a_staff_account_of_no_district_is_told_so_and_can_sign_out(server: tuple[str, Api], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """登录 again would come straight back (the provider gives the same account): the way on is 退出."""
    base, _ = server
    browser.set_window_size(*DESK)
    browser.get(f"{base}/auth/session")
    assert token_session(browser, mint(SECRET, "officer-nowhere", Role.GRID_OFFICER, [], [])) == 204
    browser.get(f"{base}/workbench")
    until(browser, lambda d: d.find_element("id", "signin").is_displayed(), "the no-district notice")
    assert "没有分配到任何区" in text(browser, "#signin-message")
    assert not browser.find_element("id", "signin-link").is_displayed()
    press(browser, "#signout button")
    until(browser, lambda d: d.get_cookie("gridgov_session") is None, "the session's cookie cleared")
    browser.get(f"{base}/workbench")
    assert signed_out(browser, "%2Fworkbench") == "尚未登录。"


def test_the_connection_state_tells_the_truth(stoppable_server: tuple[str, Api, Callable[[], None]], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api, stop = stoppable_server
    s = story(api)
    open_page(browser, base, "workbench", bearer(s["admin"]), DESK)
    assert browser.find_element("id", "live").text == "实时更新中"
    stop()
    until(browser, lambda d: d.find_element("id", "live").get_attribute("data-state") in ("lost", "stale"),
          "not 'live' over a stopped server")
    assert "中断" in browser.find_element("id", "live").text or "重连" in browser.find_element("id", "live").text
    screenshot(browser, "connection-lost")


@pytest.mark.parametrize("page,size", [("workbench", PHONE), ("rider", DESK), ("audit", PHONE), ("partner", DESK)])
def test_each_page_is_usable_at_the_other_size_too(server: tuple[str, Api], browser, page: str,  # type: ignore[no-untyped-def]
                                                   size: tuple[int, int]) -> None:
    base, api = server
    s = story(api)
    canteen = rewards(api, s)["canteen"]
    token = {"workbench": s["admin"], "rider": s["rider"], "audit": api.token(Role.AUDITOR, "auditor-温江"),
             "partner": canteen}[page]
    open_page(browser, base, page, bearer(token), size)
    until(browser, drawn, "every table drawn")
    assert fits(browser), f"{page} scrolls sideways at {size}"
    screenshot(browser, f"{page}-{size[0]}x{size[1]}")
    clean(browser)
