"""The language of an Open311 answer: `locale` first, then Accept-Language, Chinese when neither names zh or
en with a quality above zero (a client that refuses English is not answered in it)."""

from __future__ import annotations

import pytest

from api.open311.wire import language_from


@pytest.mark.parametrize(("locale", "accept", "expected"), [
    (None, None, "zh"),
    (None, "fr", "zh"),
    (None, "en-GB", "en"),
    (None, "en-US,en;q=0.9", "en"),
    (None, "zh-CN,en;q=0.5", "zh"),
    (None, "en,zh;q=0.5", "en"),
    (None, "en;q=0, fr", "zh"),
    (None, "*", "zh"),
    ("en", "zh-CN", "en"),
    ("zh_CN", "en", "zh"),
    ("en_GB", None, "en"),
    ("fr", "en", "en"),
    ("en;q=0", "en", "en"),
    ("", "en", "en"),
])
def test_the_language_asked_for(locale: str | None, accept: str | None, expected: str) -> None:
    assert language_from(locale, accept) == expected
