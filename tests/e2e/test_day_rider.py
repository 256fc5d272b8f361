"""A rider's day on the phone (headless Chromium at 390×844), counting what a person does
(each click, each field filled, each file chosen is one action): a clue reported with a
photo from the camera's file input, where the rider stands deciding the grid; a task
claimed and completed with a photo; giving up asked first, in words, in the page; a piece
paid ¥0.00 explained (the month's budget ran out) and appealed from its row; a task the
officer publishes arriving on the open page without a tap. Nowhere an id, a rate code,
fen or UTC. The person and the page's helpers are tests/fixtures/pages.py's."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

from PIL import Image

from domain.events import Role
from tests.fixtures.browser import screenshot
from tests.fixtures.http import Api
from tests.fixtures.pages import Person, bearer, clean, fits, no_codes, open_page, text, until

DESK, PHONE = (1280, 900), (390, 844)
HERE = {"lat": 30.6801, "lon": 103.8502}  # inside 柳城-1's boundary
# What no page may show: a rate code of the story (nor an id, fen or UTC: pages.no_codes).
CODES = ("fire-lane", "patrol", "blocked_fire_lane", "day_cap", "month_cap")  # and "budget" in Chinese: see the test


# --- the story, through the API ----------------------------------------------------------
def rectangle(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                [west, south]]]}


def district(api: Api, budget: int = 100_000) -> dict[str, Any]:
    """温江 drawn, with two grids drawn in it (柳城-1, where 张三 rides, and 柳城-2 beside it), their
    officer, a schedule whose kinds are named, a month's budget."""
    admin = api.token(Role.DISTRICT_ADMIN, "admin-温江")
    api.command("set-district-boundary", {"district": "温江", "boundary": rectangle(103.80, 30.65, 103.90, 30.72)}, admin)
    grids = []
    for name, west in (("柳城-1", 103.84), ("柳城-2", 103.86)):
        grid = api.command("register-grid", {"district": "温江", "street": "柳城街道", "community": "光华社区",
                                             "name": name}, admin)["result"]["grid_id"]
        api.command("set-grid-boundary", {"grid_id": grid, "boundary": rectangle(west, 30.67, west + 0.02, 30.69)},
                    admin)
        api.command("assign-officer", {"grid_id": grid, "officer_id": "officer-1"}, admin)
        grids.append(grid)
    api.command("issue-rate-schedule", {"district": "温江", "effective_from": "2026-11-01T00:00:00+08:00", "rates": {
        "fire-lane": {"fen": 800, "points": 8, "name_zh": "清理消防通道", "name_en": "Clearing a fire lane"},
        "patrol": {"fen": 500, "points": 5, "name_zh": "网格巡查", "name_en": "Grid patrol"}},
        "cap_day_fen": 5000, "cap_month_fen": 50000}, admin)
    api.command("allocate-budget", {"district": "温江", "period": "2026-11", "fen": budget}, admin)
    rider_id = api.command("register-rider", {"platform": "meituan", "station": "温江站", "name": "张三",
                                              "phone": "13800000000"}, admin)["result"]["rider_id"]
    rider = api.token(Role.RIDER, rider_id, [])
    api.command("join-grid", {"rider_id": rider_id, "grid_id": grids[0]}, rider)
    officer = api.token(Role.GRID_OFFICER, "officer-1", grids=grids)
    return {"admin": admin, "grid": grids[0], "other_grid": grids[1], "rider_id": rider_id, "rider": rider,
            "officer": officer}


def publish(api: Api, s: dict[str, Any], grid: str, kind: str = "清理消防通道") -> str:
    return api.command("publish-task", {"grid_id": grid, "kind": kind, "rate_code": "fire-lane"},
                       s["officer"])["result"]["task_id"]


def picture(folder: Path, name: str, colour: str) -> Path:
    """A photo as a phone's camera gives it, a new one each time (a few pixels at random)."""
    path = folder / name
    jpeg = io.BytesIO()
    image = Image.new("RGB", (640, 480), colour)
    image.paste(Image.frombytes("RGB", (16, 16), os.urandom(16 * 16 * 3)), (0, 0))
    image.save(jpeg, "JPEG")
    path.write_bytes(jpeg.getvalue())
    return path


def stand_at(driver: Any, base: str, where: dict[str, float]) -> None:
    """The phone's position, as the browser's geolocation gives it (the permission granted)."""
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                           {"latitude": where["lat"], "longitude": where["lon"], "accuracy": 10})


def uploaded(driver: Any, box: str, count: int) -> bool:
    """Whether `count` photos of the box have their hash (uploaded) and show a thumbnail."""
    return driver.execute_script(
        "const figures = [...document.querySelectorAll(arguments[0] + ' figure.thumb')];"
        "return figures.length === arguments[1] && figures.every(f => f.dataset.sha256 &&"
        " f.querySelector('img').complete && f.querySelector('img').naturalWidth > 0);", box, count)


def words_only(driver: Any, english: bool = False) -> None:
    """The page's text holds no rate code, id, fen or UTC time (in English, "patrol" is a word too)."""
    no_codes(driver, [code for code in CODES if not (english and code.isalpha())])


def both_sizes(driver: Any, name: str) -> None:
    screenshot(driver, f"{name}-390")
    driver.set_window_size(*DESK)
    screenshot(driver, f"{name}-1280")
    driver.set_window_size(*PHONE)


# --- the rider ------------------------------------------------------------------------------
def test_the_rider_reports_a_clue_with_a_photo_where_it_stands(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = district(api)
    rider = Person(browser, rows="")
    stand_at(browser, base, HERE)
    open_page(browser, base, "rider", bearer(s["rider"]), PHONE)
    assert not browser.find_elements("id", "report-grid")  # no grid to choose: the place decides

    rider.click("#locate")
    until(browser, lambda d: "30.68010" in text(d, "#report-where"), "the place, said above the form")
    rider.choose_value("#report-category", "blocked_fire_lane")
    rider.fill("#report-text", "消防通道被电动车堵住")
    rider.take_photo("[data-photos='report'] input[type=file]", picture(tmp_path, "IMG_0001.jpg", "orange"))
    until(browser, lambda d: uploaded(d, "[data-photos='report']", 1), "the photo uploaded, its thumbnail shown")
    rider.click("#report-send")
    until(browser, lambda d: "上报线索：已完成" in text(d, "#report-form + .outcome"), "the answer beside the form")
    assert "归入网格 柳城街道 · 柳城-1" in text(browser, "#report-form + .outcome")
    assert rider.actions <= 6, rider.actions
    print(f"reported a clue with a photo in {rider.actions} actions")
    clue = api.query(f"/v1/riders/{s['rider_id']}/clues", s["rider"])["clues"][0]
    assert clue["grid_id"] == s["grid"] and len(clue["evidence_hashes"]) == 1
    assert (clue["location"], clue["category"]) == (HERE, "blocked_fire_lane")
    # The form is empty again, and the clue is in my list with its photo.
    assert browser.find_element("id", "report-text").get_attribute("value") == ""
    assert not browser.find_elements("css selector", "[data-photos='report'] figure")
    until(browser, lambda d: "消防通道被电动车堵住" in text(d, "#my-clues"), "my clue in my list")
    until(browser, lambda d: d.execute_script(
        "const i = document.querySelector('#my-clues img'); return i && i.complete && i.naturalWidth > 0"), "its photo")

    # A file that is not a photo is refused beside the input, in words; nothing is attached.
    fake = tmp_path / "IMG_0002.jpg"
    fake.write_text("not a picture at all")
    rider.take_photo("[data-photos='report'] input[type=file]", fake)
    until(browser, lambda d: "不是照片" in text(d, "[data-photos='report'] .photo-note"), "the refusal beside the input")
    assert "IMG_0002.jpg" in text(browser, "[data-photos='report'] .photo-note")
    assert not browser.find_elements("css selector", "[data-photos='report'] figure")
    # The clue's task done and verified elsewhere: the clue is closed, said in words (the engine's own
    # "task verified" is no person's reason).
    task = api.command("accept-clue", {"clue_id": clue["clue_id"], "kind": "清理消防通道", "rate_code": "fire-lane"},
                       s["officer"])["result"]["task_id"]
    api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("verify-completion", {"task_id": task}, s["officer"])
    until(browser, lambda d: "已办结" in text(d, f"#my-clues tr[data-clue='{clue['clue_id']}']"), "the clue closed, live")
    assert "verified" not in text(browser, "#my-clues")
    # A clue rejected: its reason in the row, and an appeal from the row with the clue already chosen.
    rejected = api.command("report-clue", {"rider_id": s["rider_id"], "category": "other", "text": "小区里流浪狗追人",
                                           "location": HERE}, s["rider"])["result"]["clue_id"]
    api.command("reject-clue", {"clue_id": rejected, "reason": "不属于网格事项，已转告社区"}, s["officer"])
    row = f"#my-clues tr[data-clue='{rejected}']"
    until(browser, lambda d: "不属于网格事项" in text(d, row), "the reason, live")
    rider.actions = 0
    rider.click_in_row("my-clues", "clue", rejected, "申诉")
    assert "小区里流浪狗追人" in until(browser, lambda d: text(d, "#ask-text"), "the question names the clue")
    rider.fill("#ask-input", "狗在网格里的小区，追伤过骑手")
    rider.click("#ask-yes")
    until(browser, lambda d: "提交申诉：已完成" in text(d, "#clues-said + .outcome"), "the answer above my clues")
    until(browser, lambda d: "已申诉" in text(d, row), "the row says it is appealed")
    assert rider.actions == 3
    appeal = api.query(f"/v1/riders/{s['rider_id']}/appeals", s["rider"])["appeals"][0]
    assert appeal["subject"]["kind"] == "clue" and appeal["subject"]["ref"] == rejected
    words_only(browser)
    assert fits(browser)
    both_sizes(browser, "rider-day-report")
    clean(browser, refused="422")


def test_the_rider_claims_and_completes_with_a_photo_and_is_asked_before_giving_up(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = district(api)
    task = publish(api, s, s["grid"])
    rider = Person(browser, rows="")
    open_page(browser, base, "rider", bearer(s["rider"]), PHONE)
    # The task by name, its grid by name, what it pays.
    until(browser, lambda d: all(w in text(d, f"#open-tasks tr[data-task='{task}']") for w in (
        "清理消防通道", "柳城街道 · 柳城-1", "¥8.00 · 8 积分")), "the task, its grid and its pay in words")

    rider.click_in_row("open-tasks", "task", task, "认领")
    card = f"#my-tasks [data-task='{task}'][data-status='claimed']"
    until(browser, lambda d: d.find_elements("css selector", card), "my claimed task")
    rider.take_photo(f"{card} input[type=file]", picture(tmp_path, "IMG_0003.jpg", "blue"))
    until(browser, lambda d: uploaded(d, card, 1), "the photo uploaded")
    rider.fill(f"{card} textarea", "已联系物业挪车，通道已畅通")
    # 完成 is the card's big button at its bottom; 放弃 is small, below and apart.
    done, give_up = (browser.find_element("css selector", f"{card} button.wide"),
                     browser.find_element("css selector", f"{card} .give-up button"))
    assert done.text == "完成" and give_up.text == "放弃"
    assert give_up.size["height"] < done.size["height"] and give_up.size["width"] < done.size["width"] / 2
    assert give_up.location["y"] >= done.location["y"] + done.size["height"] + 16
    photos = browser.find_element("css selector", f"{card} [data-photos]")
    assert done.location["y"] > photos.location["y"]
    rider.click(done)
    awaiting = f"#my-tasks [data-task='{task}'][data-status='awaiting_verification']"
    until(browser, lambda d: "完成：已完成" in text(d, f"#my-tasks [data-task='{task}'] .outcome"), "the answer beside it")
    until(browser, lambda d: d.find_elements("css selector", awaiting), "awaiting verification")
    assert rider.actions <= 5, rider.actions
    print(f"claimed and completed with a photo in {rider.actions} actions")
    mine = {t["task_id"]: t for t in api.query(f"/v1/riders/{s['rider_id']}/tasks", s["rider"])["tasks"]}
    assert mine[task]["completion_note"] == "已联系物业挪车，通道已畅通" and len(mine[task]["completion_evidence"]) == 1
    until(browser, lambda d: "已联系物业挪车" in text(d, awaiting), "the note on the card")

    # Giving up is asked first, in words, in the page: 取消 keeps the task, 放弃 gives it up.
    other = publish(api, s, s["grid"], "巡查楼道")
    rider.click_in_row("open-tasks", "task", other, "认领")
    claimed = f"#my-tasks [data-task='{other}'][data-status='claimed']"
    until(browser, lambda d: d.find_elements("css selector", claimed), "the second task claimed")
    rider.click(f"{claimed} .give-up button")
    until(browser, lambda d: d.find_element("id", "ask").is_displayed(), "the question")
    assert "确定放弃这个任务吗" in text(browser, "#ask-text") and "巡查楼道" in text(browser, "#ask-text")
    both_sizes(browser, "rider-day-give-up-asked")
    rider.click("#ask-no")
    until(browser, lambda d: not d.find_element("id", "ask").is_displayed(), "the question gone")
    assert browser.find_elements("css selector", claimed)
    rider.click(f"{claimed} .give-up button")
    rider.click("#ask-yes")
    until(browser, lambda d: "放弃：已完成" in text(d, "#mine .outcome"), "given up, said in the card's place")
    until(browser, lambda d: not d.find_elements("css selector", claimed), "no longer mine")
    words_only(browser)
    assert fits(browser)
    both_sizes(browser, "rider-day-tasks")
    clean(browser)


def verified(api: Api, s: dict[str, Any]) -> str:
    task = publish(api, s, s["grid"])
    api.command("claim-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("complete-task", {"task_id": task, "rider_id": s["rider_id"]}, s["rider"])
    api.command("verify-completion", {"task_id": task}, s["officer"])
    return task


def test_a_piece_withheld_is_explained_and_appealed_from_its_row(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, api = server
    s = district(api, budget=800)  # one piece's worth: the second finds the budget spent
    paid, unpaid = verified(api, s), verified(api, s)
    rider = Person(browser, rows="")
    open_page(browser, base, "rider", bearer(s["rider"]), PHONE)
    row = f"#pieces tr[data-piece='{unpaid}']"
    # The task's name may come a moment after the piece (its read model may lag the pieces'): wait for both.
    until(browser, lambda d: all(w in text(d, row) for w in ("当月区里的补贴预算已用完", "清理消防通道")),
          "why it was not paid, and for which task")
    shown = text(browser, row)
    assert "¥0.00" in shown and "未发 ¥8.00" in shown and "清理消防通道" in shown, shown
    assert "budget" not in shown and "预算" not in text(browser, f"#pieces tr[data-piece='{paid}']")
    assert "¥8.00" in text(browser, f"#pieces tr[data-piece='{paid}']")

    rider.click_in_row("pieces", "piece", unpaid, "申诉")
    until(browser, lambda d: d.find_element("id", "ask").is_displayed(), "the appeal, its piece named")
    assert "清理消防通道" in text(browser, "#ask-text") and "¥0.00" in text(browser, "#ask-text")
    rider.fill("#ask-input", "预算用完不是我的错，请补发")
    rider.click("#ask-yes")
    until(browser, lambda d: "提交申诉：已完成" in text(d, "#money .outcome"), "the answer beside the list")
    assert rider.actions <= 3, rider.actions
    until(browser, lambda d: "已申诉" in text(d, row), "the row says it is appealed")
    appeal = api.query(f"/v1/riders/{s['rider_id']}/appeals", s["rider"])["appeals"][0]
    assert appeal["subject"] == {"kind": "award", "ref": unpaid, "period": "2026-11"}
    assert appeal["district"] == "温江" and appeal["text"] == "预算用完不是我的错，请补发"
    until(browser, lambda d: "清理消防通道" in text(d, "#my-appeals"), "my appeal names the piece")
    # The caller line names the rider, not its id.
    until(browser, lambda d: d.execute_script("return document.getElementById('who').textContent") == "骑手 · 张三",
          "the rider by name in the caller line")
    words_only(browser)
    assert fits(browser)
    both_sizes(browser, "rider-day-money")
    # In English too: the reason in words, still no code.
    browser.find_element("id", "lang").click()
    until(browser, lambda d: "the district's budget for the month ran out" in text(d, row), "the reason in English")
    words_only(browser, english=True)
    clean(browser)


def test_a_task_the_officer_publishes_appears_without_a_tap(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, api = server
    s = district(api)
    open_page(browser, base, "rider", bearer(s["rider"]), PHONE)
    until(browser, lambda d: d.find_elements("css selector", "#open-tasks thead"), "the list drawn")
    started = time.monotonic()
    elsewhere = publish(api, s, s["other_grid"], "别处的任务")
    task = publish(api, s, s["grid"], "清理楼道杂物")
    until(browser, lambda d: d.find_elements("css selector", f"#open-tasks tr[data-task='{task}']"), "the new task, live")
    print(f"a task published by the officer appeared after {time.monotonic() - started:.2f} s")
    assert "清理楼道杂物" in text(browser, f"#open-tasks tr[data-task='{task}']")
    assert not browser.find_elements("css selector", f"#open-tasks tr[data-task='{elsewhere}']")
    # Claimed by someone else: it leaves the list, again without a tap.
    other_id = api.command("register-rider", {"platform": "eleme", "station": "温江站", "name": "李四",
                                              "phone": "13900000000"}, s["admin"])["result"]["rider_id"]
    other = api.token(Role.RIDER, other_id, [])
    api.command("join-grid", {"rider_id": other_id, "grid_id": s["grid"]}, other)
    api.command("claim-task", {"task_id": task, "rider_id": other_id}, other)
    until(browser, lambda d: not d.find_elements("css selector", f"#open-tasks tr[data-task='{task}']"),
          "claimed by another, gone")
    words_only(browser)
    clean(browser)
