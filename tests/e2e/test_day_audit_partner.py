"""A day at the counter and at the committee, in headless Chromium, counting what a person
does (each click and each field filled is one action): the canteen, at a phone's 390×844
with two meals waiting, confirms the older one with the six digits alone and one press, and
the page says what to hand over; the auditor opens an award's chain — in log order, each
step in words, who by name, the photos of the clue and of the completion with their
hashes — in at most three. The chain button stands only where an award exists. Nowhere a
rate code, an id, fen or UTC. The person and the page's helpers are tests/fixtures/pages.py's."""

from __future__ import annotations

import re
from typing import Any

from domain.events import Role
from tests.fixtures.browser import screenshot
from tests.fixtures.http import Api
from tests.fixtures.pages import (Person, awarded_with_photos, bearer, clean, named_district, no_codes, open_page,
                                  shown, text, until)
from tests.fixtures.rewards import rewards

DESK, PHONE = (1280, 900), (390, 844)
NOTE = "已联系物业挪车，通道已畅通"
# What no page may show: a rate code of the story (nor an id, fen or UTC: pages.no_codes).
CODES = ("fire-lane", "blocked_fire_lane")
RAW_WORDS = ("patrol", "piece", "remedy")  # codes the engine writes, and English words too


def words_only(driver: Any, english: bool = False) -> None:
    """The page's text holds no rate code, id, fen or UTC time."""
    no_codes(driver, CODES if english else CODES + RAW_WORDS, whole_words=True)


def in_english_too(driver: Any, sign: str) -> None:
    """The toggle, then the same scan in English (and back to Chinese)."""
    driver.find_element("id", "lang").click()
    until(driver, lambda d: sign in d.execute_script("return document.querySelector('main').innerText"), "English")
    words_only(driver, english=True)
    driver.find_element("id", "lang").click()


def both_sizes(driver: Any, name: str) -> None:
    driver.set_window_size(*DESK)
    screenshot(driver, f"{name}-1280")
    driver.set_window_size(*PHONE)
    screenshot(driver, f"{name}-390")


# --- the story, through the API ----------------------------------------------------------
def district(api: Api) -> dict[str, Any]:
    return named_district(api, "officer-温江-1-1", ("patrol", "Grid patrol"))


# --- the partner ----------------------------------------------------------------------------
def test_the_canteen_confirms_with_the_six_digits_alone_and_is_told_what_to_hand_over(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = district(api)
    awarded_with_photos(api, s)  # 8 points for 张三
    r = rewards(api, s, price=4)
    held = [api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": r["item"]}, s["rider"])["result"]
            for _ in range(2)]
    open_page(browser, base, "partner", bearer(r["canteen"]), PHONE)
    until(browser, lambda d: len(d.find_elements("css selector", "#held tr[data-redemption]")) == 2, "two meals waiting")
    assert "张*" in text(browser, "#held") and "张三" not in text(browser, "#held"), "the rider masked"

    # The older one, which the page once could not reach without a reference: its code alone.
    canteen = Person(browser)
    canteen.fill("#confirm-code", held[0]["code"])
    canteen.click("#confirm-do")
    until(browser, lambda d: "社区食堂工作餐" in text(d, "#hand-over"), "what to hand over")
    handover = text(browser, "#hand-over")
    assert "请交付" in handover and "4 积分" in handover and "张*" in handover, handover
    assert canteen.actions <= 2, canteen.actions
    print(f"confirmed in {canteen.actions} actions")
    until(browser, lambda d: len(d.find_elements("css selector", "#held tr[data-redemption]")) == 1, "one left")
    assert browser.find_element("css selector", "#held tr[data-redemption]").get_attribute("data-redemption") \
        == held[1]["redemption_id"]
    mine = {x["redemption_id"]: x["status"] for x in api.query(f"/v1/riders/{s['rider_id']}/redemptions", s["rider"])}
    assert [mine[h["redemption_id"]] for h in held] == ["confirmed", "held"]
    assert browser.find_element("id", "confirm-code").get_attribute("value") == ""
    both_sizes(browser, "day-partner")  # ends at the phone's size

    # A wrong code is answered beside the button, in words, and counted against the counter's day.
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" != held[1]["code"])
    Person(browser).fill("#confirm-code", wrong)
    Person(browser).click("#confirm-do")
    until(browser, lambda d: "兑换码错误" in text(d, "#confirm-form + .outcome"),
          "the refusal beside the button")
    assert browser.find_element("id", "hand-over").get_attribute("hidden") is not None
    Person(browser).fill("#confirm-code", held[1]["code"])
    Person(browser).click("#confirm-do")
    until(browser, lambda d: not d.find_elements("css selector", "#held tr[data-redemption]"), "none left")
    words_only(browser)
    browser.set_window_size(*DESK)
    assert text(browser, "#who") == "合作商户 · 驿站食堂"  # the header names it, not by its token's id
    in_english_too(browser, "Six-digit code")
    clean(browser, refused="422")


# --- the auditor ------------------------------------------------------------------------------
def test_the_auditor_opens_an_award_chain_with_its_photos_in_log_order(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    base, api = server
    s = district(api)
    story = awarded_with_photos(api, s)
    # A task with no award: its rows offer no chain.
    unawarded = api.command("publish-task", {"grid_id": s["grid"], "kind": "网格巡查", "rate_code": "patrol"},
                            s["officer"])["result"]["task_id"]
    api.command("claim-task", {"task_id": unawarded, "rider_id": s["rider_id"]}, s["rider"])
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    open_page(browser, base, "audit", bearer(auditor), DESK)
    until(browser, lambda d: d.find_elements("css selector", "#history tr[data-kind='SubsidyAwarded']"), "the history")
    buttons = browser.execute_script(
        "return [...document.querySelectorAll('#history tr[data-subject]')]"
        ".filter(r => [...r.querySelectorAll('button')].some(b => b.textContent === '查看补贴链'))"
        ".map(r => r.dataset.subject)")
    assert story["task"] in buttons and unawarded not in buttons, buttons
    # Who by name, the whole id at hand; 详情 in words.
    verified = text(browser, "#history tr[data-kind='CompletionVerified']")
    assert "李网格" in verified and "网格员" in verified, verified
    assert browser.execute_script(
        "return document.querySelector(\"#history tr[data-kind='CompletionVerified'] .who-name\").dataset.id") \
        == "officer-温江-1-1"  # whole, kept for copying, not shown
    award_row = text(browser, "#history tr[data-kind='SubsidyAwarded']")
    assert "计件" in award_row and "清理消防通道" in award_row and "¥8.00" in award_row, award_row

    committee = Person(browser)
    committee.click_in_row("history", "kind", "SubsidyAwarded", "查看补贴链")
    until(browser, lambda d: d.find_element("id", "chain-card").is_displayed(), "the chain")
    until(browser, lambda d: shown(d, "#chain figure.evidence img") and
          len(d.find_elements("css selector", "#chain figure.evidence img")) == 2, "the clue's and the completion's photos")
    assert committee.actions <= 3, committee.actions
    print(f"opened the chain with its photos in {committee.actions} actions")
    chain = text(browser, "#chain")
    for hash_ in (story["clue_photo"], story["done_photo"]):
        assert f"SHA-256 {hash_}" in chain, "each photo named by the hash the log holds"
    assert NOTE in chain and "李网格" in chain and "张*" in chain and "张三" not in chain, chain
    positions = [int(p) for p in browser.execute_script(
        "return [...document.querySelectorAll('#chain li[data-position]')].map(li => li.dataset.position)") if p]
    assert positions == sorted(positions) and len(positions) >= 6, positions
    head = text(browser, "#chain-head")
    assert "¥8.00" in head and "清理消防通道" in head and "2026年11月" in head and "张*" in head, head
    words_only(browser)
    in_english_too(browser, "Award: piece of work")
    both_sizes(browser, "day-audit")
    clean(browser)


def test_two_meals_with_one_code_are_told_apart_on_the_row(server, browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """One in a million a pair: the page says two share the code, and each row then confirms its own with it."""
    import domain.redemptions

    base, api = server
    s = district(api)
    awarded_with_photos(api, s)
    r = rewards(api, s, price=4)
    monkeypatch.setattr(domain.redemptions, "code_of", lambda key: "123456")  # both holds drawn to one code
    held = [api.command("redeem-item", {"rider_id": s["rider_id"], "item_id": r["item"]}, s["rider"])["result"]
            for _ in range(2)]
    open_page(browser, base, "partner", bearer(r["canteen"]), PHONE)
    until(browser, lambda d: len(d.find_elements("css selector", "#held tr[data-redemption]")) == 2, "two meals waiting")
    canteen = Person(browser)
    canteen.fill("#confirm-code", "123456")
    canteen.click("#confirm-do")
    until(browser, lambda d: "兑换码重复" in text(d, "#confirm-form + .outcome"), "said: two share the code")
    canteen.click_in_row("held", "redemption", held[1]["redemption_id"], "核销这一份")
    until(browser, lambda d: "社区食堂工作餐" in text(d, "#hand-over"), "what to hand over")
    mine = {x["redemption_id"]: x["status"] for x in api.query(f"/v1/riders/{s['rider_id']}/redemptions", s["rider"])}
    assert [mine[h["redemption_id"]] for h in held] == ["held", "confirmed"]
    clean(browser, refused="409")


def test_the_auditor_narrows_the_history_by_days_typed_as_china_writes_them(server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """The filter's days are typed as China writes them (2026-11-02 or 2026年11月2日), said back in
    words beside the filter, and sent as China days; a day that is no day, or a range that ends
    before it starts, is refused there in words and nothing is asked. Never the browser's mm/dd/yyyy."""
    base, api = server
    s = district(api)
    awarded_with_photos(api, s)  # the story's steps, all on 2 November 2026 (China)
    auditor = api.token(Role.AUDITOR, "auditor-温江")
    open_page(browser, base, "audit", bearer(auditor), DESK)
    until(browser, lambda d: d.find_elements("css selector", "#history tr[data-kind='SubsidyAwarded']"), "the history")
    assert {browser.find_element("id", box).get_attribute("type") for box in ("f-from", "f-to")} == {"text"}

    def steps() -> int:
        return len(browser.find_elements("css selector", "#history tr[data-kind]"))

    everything = steps()
    beside = "#filter-form + .outcome"
    committee = Person(browser)
    # The day after: nothing happened then.
    committee.fill("#f-from", "2026年11月3日")
    committee.fill("#f-to", "2026-11-30")
    until(browser, lambda d: text(d, "#f-days") == "2026年11月3日 – 2026年11月30日", "the days said back in words")
    committee.click("#filter-form button.primary")
    until(browser, lambda d: steps() == 0 and "0" in text(d, beside), "nothing on those days")
    # The story's day, in both ways of writing it: every step again.
    committee.fill("#f-from", "2026-11-02")
    committee.fill("#f-to", "2026年11月2日")
    committee.click("#filter-form button.primary")
    until(browser, lambda d: steps() == everything, "the story's day holds every step")
    assert text(browser, "#f-days") == "2026年11月2日 – 2026年11月2日"
    # A day that is no day is refused beside the filter, in words; the list stays as it was.
    committee.fill("#f-to", "2026年2月30日")
    until(browser, lambda d: "2026-12-05" in text(d, "#f-days"), "said at once what a day looks like")
    committee.click("#filter-form button.primary")
    until(browser, lambda d: "2026年12月5日" in text(d, beside) and "problem" in
          d.find_element("css selector", beside).get_attribute("class"), "the refusal beside the filter")
    assert steps() == everything
    # A range that ends before it starts, likewise.
    committee.fill("#f-to", "2026-11-01")
    committee.click("#filter-form button.primary")
    until(browser, lambda d: "早于" in text(d, beside), "the range refused in words")
    assert steps() == everything
    committee.fill("#f-to", "")
    committee.click("#filter-form button.primary")
    until(browser, lambda d: "problem" not in d.find_element("css selector", beside).get_attribute("class"),
          "an open end is no refusal")
    assert text(browser, "#f-days") == "2026年11月2日起"

    # Nowhere the browser's own format, in the text or in the boxes.
    shown_text = browser.execute_script("return document.body.innerText")
    values = browser.execute_script("return [...document.querySelectorAll('input')].map(i => i.value + ' ' + i.placeholder)")
    for seen in (shown_text, *values):
        assert not re.search(r"mm/dd/yyyy|\d{1,2}/\d{1,2}/\d{4}", seen, re.I), seen
    # What the page says back, typed back, is the same day, every day of seven years, in both languages.
    wrong = browser.execute_script("""
        const wrong = [];
        for (const lang of ["zh", "en"]) {
          GG.state.lang = lang;
          for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2031, 0, 1); t += 86400000) {
            const day = new Date(t).toISOString().slice(0, 10);
            if (GG.readDay(day) !== day || GG.readDay(GG.day(day)) !== day) wrong.push([lang, day, GG.day(day)]);
          }
        }
        GG.state.lang = "zh";
        for (const no of ["2026-02-29", "2026年2月30日", "2026-13-01", "12/05/2026", "2026年12月", "昨天", "2026-11-02x"])
          if (GG.readDay(no) !== null) wrong.push(no);
        return wrong;""")
    assert wrong == [], wrong[:5]
    in_english_too(browser, "Subsidy history")
    both_sizes(browser, "day-audit-days")
    clean(browser)
