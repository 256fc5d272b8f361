"""A rider's name as those who may not see it whole are shown it (王小平 → 王*平): one rule for
the API's answers and the auditors' exports alike."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

MASK = "*"


def masked(name: str) -> str:
    """A name as shown to those who may not see it whole: its first and last characters with the middle masked
    (王小平 → 王*平), a two-character name its first (王五 → 王*), one character nothing (*). Characters are
    what a reader sees as one (a letter with its accents, an emoji with its modifiers), so no mark is split off."""
    chars = list(_graphemes(name.strip()))
    if len(chars) <= 1:
        return MASK
    if len(chars) == 2:
        return chars[0] + MASK
    return chars[0] + MASK + chars[-1]


def _graphemes(text: str) -> Iterator[str]:
    """Approximately the user-perceived characters of `text`: a base character with the combining marks,
    variation selectors, emoji modifiers and zero-width-joined characters that follow it."""
    cluster = ""
    for ch in text:
        joins = (unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch == "\u200d" or "\ufe00" <= ch <= "\ufe0f"
                 or "\U0001f3fb" <= ch <= "\U0001f3ff" or "\U000e0020" <= ch <= "\U000e007f"
                 or cluster.endswith("\u200d"))
        if cluster and not joins:
            yield cluster
            cluster = ""
        cluster += ch
    if cluster:
        yield cluster
