"""No page shows the engine's words: after the demo's day and a short story through
each page, every page (the workbench as an officer and as an admin, the rider's and the
partner's on a phone, the auditor's, the home page) is read in Chinese and in English
— its rendered text, its inputs' values and options, titles — after opening what a
person opens (a clue to judge, an appeal, a chain, every <details>). Found, with its
page, language and element, and each failing test prints every one:

- a rate or category code, or another snake_case word of the engine (and, on a
  Chinese page, any lowercase ASCII word: the engine's English is a code there);
- an event type's name (`TaskClaimed`) or a `gridgov.` name;
- a UUID or a hex fragment of 8 characters or more (a photo's whole 64-character
  hash is the one hex an auditor's chain may show: it is the proof);
- an amount in fen: a number next to 分/fen, or any amount of the day's events'
  fen fields printed without ¥;
- a UTC or ISO time (`2026-11-02T…`, `…T14:33Z`, `UTC`, `+00:00`) or a browser's
  `11/2/2026`.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
import uvicorn

import application.service  # noqa: F401  (imports every aggregate module, filling EVENT_TYPES)
from api.http.app import app_of
from api.http.auth import mint
from domain import appeals, clues, events, partners, redemptions, stations, subsidies, tasks
from domain.clock import ManualClock
from domain.events import EVENT_TYPES, Role
from domain.places import GridBoundarySet
from gridgov import bootstrap
from gridgov.demo import DAY_START, RATES, Demo
from gridgov.first_run import demo_partner, demo_people
from gridgov.settings import load_settings
from tests.fixtures.browser import screenshot
from tests.fixtures.http import SECRET
from tests.fixtures.pages import sign_in

DESK, PHONE = (1366, 768), (390, 844)
DEADLINE_S = 20
RIDERS = 40  # the demo's day at a size a test can wait for

# --- what no page may show ------------------------------------------------------------------
ENUMS = (clues.Category, clues.ClueStatus, tasks.TaskStatus, tasks.ReleaseReason, appeals.SubjectKind,
         appeals.Verdict, appeals.RemedyKind, subsidies.AwardKind, subsidies.Limit, redemptions.RedemptionStatus,
         partners.PartnerKind, stations.Service, events.Role)
CODES = {member.value for enum in ENUMS for member in enum} | set(RATES)
JOINED_CODES = sorted(code for code in CODES if re.search(r"[_-]", code))
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
KEBAB_CODE = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, JOINED_CODES)) + r")(?![\w-])")
ASCII_WORD = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")
EVENT_NAME = re.compile(r"\b(?:" + "|".join(sorted(EVENT_TYPES, key=len, reverse=True)) + r")\b|\bgridgov\.\w+")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
HEX_RUN = re.compile(r"(?<![0-9a-fA-F])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}(?![0-9a-fA-F])")
WHOLE_HASH = re.compile(r"^[0-9a-f]{64}$")
FEN_WORD = re.compile(r"\d[\d,]*\s*(?:分(?!钟)|fen\b)|\bfen\b", re.IGNORECASE)
INTEGER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\d,]|\.\d)")
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|T\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?Z\b|\bUTC\b|\+00:00|"
                      r"\b\d{1,2}/\d{1,2}/\d{4}\b")

# What a person opens to look closer, and nothing that acts: judge a clue, view an appeal, a chain.
OPENERS = ("研判", "查看", "查看补贴链", "Triage", "View", "View chain")
# The first button shown whose text is the word (as a person sees it: laid out, not in a hidden part).
FIRST_SHOWN_BUTTON = """
return [...document.querySelectorAll('button')].find(b => (b.offsetParent || b.getClientRects().length)
  && !b.closest('[hidden]') && b.innerText.trim() === arguments[0]) || null;
"""

# The text, values, options and titles of what is shown: (where, what, the string).
READ_PAGE = """
const out = [];
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
const where = e => { const parts = []; for (let n = e; n && n !== document.body && parts.length < 4; n = n.parentElement)
  parts.unshift(name(n)); return parts.join(' > '); };
// Text marked as another language than the page's (an English name typed beside the Chinese one) is that language.
const lang = e => (e.closest('[lang]') || document.documentElement).getAttribute('lang');
const shown = e => !!(e.offsetParent || e.getClientRects().length) && !e.closest('[hidden]');
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode, parent = node.parentElement;
  if (!parent || ['SCRIPT', 'STYLE', 'TEMPLATE'].includes(parent.tagName) || !shown(parent)) continue;
  if (parent.closest('select')) continue;
  const text = node.textContent.trim();
  if (text) out.push([where(parent), 'text', text, lang(parent)]);
}
for (const e of document.querySelectorAll('input, textarea')) {
  if (!shown(e) || ['password', 'hidden', 'file', 'checkbox', 'radio'].includes(e.type) || e.id === 'signout-csrf')
    continue;  // a box's value is sent, never shown
  if (e.value) out.push([where(e), 'value', e.value, lang(e)]);
}
for (const e of document.querySelectorAll('select')) {
  if (!shown(e)) continue;
  for (const o of e.options) if (o.text.trim()) out.push([where(e), 'option', o.text.trim(), lang(o)]);
}
for (const e of document.querySelectorAll('[title]')) if (e.title) out.push([where(e), 'title', e.title, lang(e)]);
out.push(['head > title', 'title', document.title, document.documentElement.lang]);
return out;
"""


def offences(strings: list[list[str]], language: str, page: str, amounts: set[int]) -> list[str]:
    """Each string a page may not show, as `[where] (what) «text»: why`."""
    found = []
    for where, what, text, lang in strings:
        def say(why: str, bit: str) -> None:
            found.append(f"[{where}] ({what}) «{text[:120]}»: {why} {bit!r}")

        for match in SNAKE.finditer(text):
            say("an engine's snake_case word", match.group())
        for match in KEBAB_CODE.finditer(text):
            say("a rate or category code", match.group())
        if language == "zh" and not lang.startswith("en"):
            ids = [m.span() for m in UUID.finditer(text)]
            for match in ASCII_WORD.finditer(text):
                if not SNAKE.search(match.group()) and not any(a <= match.start() < b for a, b in ids):
                    say("an engine's word on a Chinese page", match.group())
        for match in EVENT_NAME.finditer(text):
            say("an event type's name", match.group())
        for match in UUID.finditer(text):
            say("a UUID", match.group())
        for match in HEX_RUN.finditer(text):
            if UUID.search(text) or (page == "audit" and WHOLE_HASH.match(match.group())):
                continue
            say("a hex fragment", match.group())
        for match in FEN_WORD.finditer(text):
            say("an amount in fen", match.group())
        for match in INTEGER.finditer(text):
            before = text[:match.start()].rstrip()
            if int(match.group(1).replace(",", "")) in amounts and not before.endswith(("¥", "-¥")):
                say("a fen amount of the day without ¥", match.group())
        for match in UTC_TIME.finditer(text):
            say("a UTC or browser's time", match.group())
    return found


# --- the demo's day, served ---------------------------------------------------------------------
class Served:
    def __init__(self, base: str, tokens: dict[str, str], amounts: set[int]) -> None:
        self.base, self.tokens, self.amounts = base, tokens, amounts


def amounts_of_the_day(app: Any) -> set[int]:
    """Every amount of fen the day's events hold, of 100 fen or more (smaller ones are too like counts), that no
    other number of the day is (a stock of 500 is no ¥5.00): a number that can only be money."""
    found: set[int] = set()
    others: set[int] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, int) and not isinstance(value, bool):
            (found if "fen" in key else others).add(value)

    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        walk(app.mapper.decode_state(notification.state))
    return {fen for fen in found - others if fen >= 100}


def a_short_story(api: httpx.Client, tokens: dict[str, str], people: dict[str, Any], where: dict[str, float]) -> None:
    """Through the API, what the pages then show: a report accepted, claimed and done, waiting for the officer;
    a meal held for the partner."""
    def command(name: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        response = api.post(f"/v1/commands/{name}", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return response.json()["result"]

    rider, officer = people["rider"].sub, tokens["grid_officer"]
    clue = command("report-clue", {"rider_id": rider, "category": "blocked_fire_lane",
                                   "text": "小区东门消防通道被三辆电动车堵住", "location": where},
                   tokens["rider"])["clue_id"]
    task = command("accept-clue", {"clue_id": clue, "kind": "清理消防通道", "rate_code": "fire-lane"}, officer)["task_id"]
    command("claim-task", {"task_id": task, "rider_id": rider}, tokens["rider"])
    command("complete-task", {"task_id": task, "rider_id": rider, "note": "已联系物业挪车，通道已畅通"}, tokens["rider"])
    catalogue = api.get("/v1/districts/温江/catalogue", headers={"Authorization": f"Bearer {tokens['rider']}"}).json()
    items = catalogue.get("items", catalogue) if isinstance(catalogue, dict) else catalogue
    cheapest = min(items, key=lambda i: i["price_points"]) if items else None
    if cheapest is not None:
        api.post("/v1/commands/redeem-item", json={"rider_id": rider, "item_id": cheapest["item_id"]},
                 headers={"Authorization": f"Bearer {tokens['rider']}"})  # the rider may have too few points


def middle_of(app: Any, grid_id: str) -> dict[str, float]:
    """A place inside the grid (the middle of its boundary's ring), where its officer's clue is reported."""
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, GridBoundarySet) and str(event.grid_id) == grid_id:
            ring = event.boundary.ring[:-1]
            return {"lon": sum(p[0] for p in ring) / len(ring), "lat": sum(p[1] for p in ring) / len(ring)}
    raise AssertionError(f"the demo drew no boundary for grid {grid_id}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("demo")
    clock = ManualClock(DAY_START)
    engine = bootstrap.bootstrap(load_settings({
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite"),
        "READMODEL_SQLITE_DBNAME": str(folder / "readmodels.sqlite"), "GRIDGOV_BLOBS_DIR": str(folder / "photos")}),
        clock=clock)
    Demo(engine.app, clock, 7, riders=RIDERS).run()
    people = demo_people(engine.app)
    partner = demo_partner(engine.app)
    assert partner is not None and {"rider", "grid_officer"} <= set(people)
    tokens = {role: mint(SECRET, who.sub, who.role, list(who.districts), list(who.grids))
              for role, who in {**people, "partner": partner}.items()}
    server = uvicorn.Server(uvicorn.Config(app_of(engine.follow(interval=0.02), SECRET), host="127.0.0.1", port=0,
                                           log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_S
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    with httpx.Client(base_url=base, timeout=30) as api:
        a_short_story(api, tokens, people, middle_of(engine.app, people["grid_officer"].grids[0]))
        # The pages read what the follower has applied: wait until it has the story.
        while engine.follower.feed.position() < engine.follower.feed.head():
            assert time.monotonic() < deadline + 60, "the read models did not catch up"
            time.sleep(0.05)
    yield Served(base, tokens, amounts_of_the_day(engine.app))
    server.should_exit = True
    thread.join(timeout=10)
    engine.close()


# --- reading the pages -----------------------------------------------------------------------
def until(driver: Any, check: Callable[[Any], Any], what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, DEADLINE_S, poll_frequency=0.05).until(check, message=what)


def settled(driver: Any) -> None:
    """Until the page's text stops changing for a moment (its reads answered and drawn), within the deadline."""
    last, steady, deadline = None, 0, time.monotonic() + DEADLINE_S
    while steady < 6 and time.monotonic() < deadline:
        now = driver.execute_script("return document.body.innerText")
        steady = steady + 1 if now == last else 0
        last = now
        time.sleep(0.05)


def opened(driver: Any, base: str, page: str, token: str | None, language: str, size: tuple[int, int]) -> None:
    driver.set_window_size(*size)
    if token:
        sign_in(driver, base, token)
    driver.get(f"{base}/{page}")
    driver.execute_script("localStorage.setItem('gg.lang', arguments[0])", language)
    driver.refresh()  # the session stays: it is the browser's cookie
    until(driver, lambda d: d.execute_script("return document.documentElement.lang") ==
          ("zh-CN" if language == "zh" else "en"), f"{page} in {language}")
    if token:
        until(driver, lambda d: d.find_element("id", "live").get_attribute("data-state") == "on", f"{page} is live")
    settled(driver)


def read_everything(driver: Any) -> list[list[str]]:
    """The page as it is, then after opening each kind of closer look once (and every <details>)."""
    driver.execute_script("for (const d of document.querySelectorAll('details')) d.open = true")
    strings = driver.execute_script(READ_PAGE)
    for word in OPENERS:
        # One look in the page, not two WebDriver calls per button: the auditor's page has hundreds
        # (each subsidy's chain), and asking each was 40 of the test's 60 s.
        button = driver.execute_script(FIRST_SHOWN_BUTTON, word)
        if button is None:
            continue
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)
        settled(driver)
        driver.execute_script("for (const d of document.querySelectorAll('details')) d.open = true")
        strings += driver.execute_script(READ_PAGE)
    return strings


PAGES = [("workbench", "grid_officer", DESK), ("workbench", "district_admin", DESK), ("rider", "rider", PHONE),
         ("partner", "partner", PHONE), ("audit", "auditor", DESK), ("", None, DESK)]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("page,role,size", PAGES, ids=[f"{p or 'home'}-{r or 'nobody'}" for p, r, _ in PAGES])
def test_the_page_shows_no_engine_words(served: Served, browser: Any, page: str, role: str | None,
                                        size: tuple[int, int], language: str) -> None:
    opened(browser, served.base, page, served.tokens[role] if role else None, language, size)
    strings = read_everything(browser)
    screenshot(browser, f"words-{page or 'home'}-{role or 'nobody'}-{language}")
    assert len(strings) > 3, "the page drew nothing to read"
    found = sorted(set(offences(strings, language, page or "home", served.amounts)))
    print(f"\n/{page} as {role} in {language}: {len(found)} engine words")
    for line in found:
        print("  ", line)
    assert found == [], f"/{page} as {role} in {language} shows {len(found)} engine words (printed above)"
