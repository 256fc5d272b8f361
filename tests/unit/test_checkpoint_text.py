"""A checkpoint's text from outside (a kept file, a witness) is parsed or refused as a bad
note: never another error. Found: "²" passed str.isdigit() and then broke int()."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transparency.checkpoints import BadNote, parse_checkpoint

ROOT = base64.b64encode(bytes(32)).decode()


@given(size=st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=6))
def test_a_size_in_any_digits_is_a_number_or_a_bad_note(size: str) -> None:
    text = f"gridgov.test/log\n{size}\n{ROOT}\n"
    if size.isascii() and (size == "0" or not size.startswith("0")):
        assert parse_checkpoint(text).size == int(size)
    else:
        with pytest.raises(BadNote):
            parse_checkpoint(text)


@given(st.text(max_size=200))
def test_any_text_is_a_checkpoint_or_a_bad_note(text: str) -> None:
    try:
        parse_checkpoint(text)
    except BadNote:
        pass
