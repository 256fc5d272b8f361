"""A rider's name as most readers see it (domain/names.masked, for the API's answers and the exports): its first and last characters, the middle
masked; for any name, in any script."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.names import _graphemes, masked

# Names of any script: Han, Latin with accents (precomposed and combining), Cyrillic, Arabic, emoji, spaces.
letters = st.characters(categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="*")
names = st.text(letters, min_size=1, max_size=30).filter(lambda n: n.strip())


@given(names)
def test_only_the_first_and_last_characters_are_kept(name: str) -> None:
    chars = list(_graphemes(name.strip()))
    shown = masked(name)
    if len(chars) >= 3:
        assert shown == chars[0] + "*" + chars[-1]
    elif len(chars) == 2:
        assert shown == chars[0] + "*"
    else:
        assert shown == "*"
    assert "*" in shown


@given(names)
def test_a_name_of_two_characters_or_more_is_never_shown_whole(name: str) -> None:
    if len(list(_graphemes(name.strip()))) >= 2:
        assert masked(name) != name.strip()
        assert name.strip() not in masked(name)


# Characters that stand alone (no mark, modifier or joiner attaches to them or they to another).
bases = st.characters(categories=("L", "N", "P"), exclude_characters="*")


@given(bases, st.text(bases, min_size=1, max_size=20), st.text(bases, min_size=1, max_size=20), bases)
def test_the_middle_tells_nothing(first: str, middle: str, other_middle: str, last: str) -> None:
    """Two names that differ only in the middle are shown alike: the mask hides even its length."""
    assert masked(first + middle + last) == masked(first + other_middle + last) == first + "*" + last


def test_as_people_see_them() -> None:
    assert masked("王小平") == "王*平"
    assert masked("王五") == "王*"
    assert masked("欧阳娜娜") == "欧*娜"
    assert masked("王") == "*"
    assert masked("John Smith") == "J*h"
    assert masked("Zoe\u0308 Ade\u0301") == "Z*e\u0301"  # the accent stays with its letter
    assert masked("👩🏽‍🚒 Li") == "👩🏽‍🚒*i"
