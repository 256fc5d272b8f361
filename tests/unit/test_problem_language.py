"""Problems speak the caller's language: every code the engine can refuse with has
its Chinese and English words, and `Accept-Language` picks between them by quality."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

import api.http.operations  # noqa: F401  (declares ReadModelBehind)
from api.http.language import TEXTS, chosen, words
from domain.errors import DomainError
from transparency.log import AuditError

CJK = re.compile("[\u4e00-\u9fff]")


def every_subclass(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in every_subclass(direct))]


def test_every_refusal_has_words_in_both_languages() -> None:
    codes = {cls.code for cls in [*every_subclass(DomainError), *every_subclass(AuditError)]}
    missing = sorted(codes - TEXTS.keys())
    assert not missing, f"no words for {missing} in api/http/language.py"
    for code, (english, title, detail) in TEXTS.items():
        assert english and not CJK.search(english), code
        assert CJK.search(title) and CJK.search(detail), code


languages = st.sampled_from(["zh-CN", "zh", "zh-Hans-CN", "en-US", "en", "fr", "de-DE", "*", "ja"])
qualities = st.one_of(st.none(), st.sampled_from(["0", "0.1", "0.5", "0.9", "1", "1.0", "x", ""]))


def q(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


@given(st.lists(st.tuples(languages, qualities), max_size=6))
def test_the_language_is_the_best_quality_zh_or_en_named(parts: list[tuple[str, str | None]]) -> None:
    header = ", ".join(tag if quality is None else f"{tag};q={quality}" for tag, quality in parts)
    ranked = [(q(quality), tag.split("-")[0].lower()) for tag, quality in parts
              if tag.split("-")[0].lower() in ("zh", "en") and 0 < q(quality) <= 1]
    best = max((quality for quality, _ in ranked), default=None)
    expected = next((lang for quality, lang in ranked if quality == best), "en")
    assert chosen(header) == expected


@given(st.text(max_size=200))
def test_any_header_chooses_a_language(header: str) -> None:
    assert chosen(header) in ("zh", "en")


def test_english_keeps_the_domains_own_detail_and_chinese_has_its_own() -> None:
    assert words("task-already-claimed", "en", "TaskAlreadyClaimed", "task t is claimed by r") == \
        ("Task already claimed", "task t is claimed by r")
    title, detail = words("task-already-claimed", "zh", "TaskAlreadyClaimed", "task t is claimed by r")
    assert title == "任务已被认领" and CJK.search(detail)
    assert words("never-heard-of", "zh", "T", "d") == ("T", "d")
