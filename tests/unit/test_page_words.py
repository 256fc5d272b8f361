"""Every word the pages show exists in both languages: the keys the HTML and the
scripts name, and one per event type, clue category, status, role, remedy and
appeal subject the engine has (a new one without words would show as its key)."""

from __future__ import annotations

import re
from pathlib import Path

from domain.appeals import RemedyKind, SubjectKind, Verdict
from domain.clues import CATEGORY_WORDS, Category, ClueStatus
from domain.events import EVENT_TYPES
from domain.tasks import TaskStatus
from api.http.auth import TOKEN_ROLES

PAGES = Path(__file__).resolve().parents[2] / "api" / "http" / "pages"
CJK = re.compile("[\u4e00-\u9fff]")


def words() -> dict[str, dict[str, str]]:
    text = (PAGES / "i18n.js").read_text(encoding="utf-8")
    zh, en = text.split("\n  en: {")
    pairs = lambda block: dict(re.findall(r'"([A-Za-z0-9_.]+)": "((?:[^"\\]|\\.)*)"', block))  # noqa: E731
    return {"zh": pairs(zh), "en": pairs(en)}


def test_both_languages_have_the_same_keys_and_chinese_is_chinese() -> None:
    w = words()
    assert set(w["zh"]) == set(w["en"]), sorted(set(w["zh"]) ^ set(w["en"]))
    not_chinese = [k for k, v in w["zh"].items() if not CJK.search(v) and k != "lang.toggle"]
    assert not_chinese == [], not_chinese


def test_every_key_the_pages_name_has_words() -> None:
    named = set()
    for path in PAGES.glob("*.html"):
        named |= set(re.findall(r'data-t(?:-label|-placeholder)?="([^"$]+)"', path.read_text(encoding="utf-8")))
    for path in PAGES.glob("*.js"):
        named |= set(re.findall(r'\bt\("([A-Za-z0-9_.]+)"\)', path.read_text(encoding="utf-8")))
    assert len(named) > 100  # the patterns above found the pages' keys
    missing = sorted(named - set(words()["zh"]))
    assert missing == [], missing


def test_every_kind_of_thing_the_engine_names_has_words() -> None:
    keys = set(words()["zh"])
    wanted = ({f"ev.{name}" for name in EVENT_TYPES} | {f"cat.{c.value}" for c in Category}
              | {f"st.{s.value}" for s in ClueStatus} | {f"st.{s.value}" for s in TaskStatus}
              | {f"st.{s}" for s in ("filed", "assigned", "decided")} | {f"st.{v.value}" for v in Verdict}
              | {f"role.{r.value}" for r in TOKEN_ROLES} | {f"remedy.{r.value}" for r in RemedyKind}
              | {f"subject.{k.value}" for k in SubjectKind})
    assert sorted(wanted - keys) == []


def test_the_engine_names_categories_in_the_pages_words() -> None:
    """A rate named like a category takes the engine's words for it (domain/rates.py): the same as the pages'."""
    w = words()
    assert {c.value: (w["zh"][f"cat.{c.value}"], w["en"][f"cat.{c.value}"]) for c in Category} == {
        c.value: words for c, words in CATEGORY_WORDS.items()}
