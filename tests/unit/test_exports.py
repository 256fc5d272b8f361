"""The export's pieces that need no database: months as auditors name them, and
cells a spreadsheet must not run."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from domain.clock import local_month
from domain.errors import InvalidInput
from exports.build import Checkpoint, Export, Months
from exports.files import FORMULA_STARTS, _inert, xlsx
from projections.facts import ts

MONTHS = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2000, 2100), st.integers(1, 12))


@given(first=MONTHS, last=MONTHS)
def test_a_span_of_months_holds_exactly_their_instants(first: str, last: str) -> None:
    if last < first or Months(first, last).count > 24:
        with pytest.raises(InvalidInput):
            Months.parse(first, last)
        return
    span = Months.parse(first, last)
    since, until = span.utc_bounds()
    start = datetime.fromisoformat(since)
    end = datetime.fromisoformat(until)
    # The first instant is the first month's, in China; the instant before it is not in the span.
    assert local_month(start) == first and local_month(start - timedelta(microseconds=1)) < first
    assert local_month(end - timedelta(microseconds=1)) == last and local_month(end) > last
    assert ts(start) == since and ts(end) == until


@given(st.text(max_size=12) | st.sampled_from(["2026-00", "2026-13", "26-11", "2026-1", "2026-011", "２０２６-11"]))
def test_anything_else_is_refused_as_input(text: str) -> None:
    try:
        Months.parse(text, text)
    except InvalidInput:
        return
    assert len(text) == 7 and text[4] == "-" and text.replace("-", "").isascii() and 1 <= int(text[5:]) <= 12


@given(st.text(max_size=30))
def test_no_csv_cell_starts_a_formula_and_text_comes_back(text: str) -> None:
    cell = _inert(text)
    assert not cell[:1] in FORMULA_STARTS
    assert cell == text or cell == "'" + text


def test_xlsx_keeps_formula_like_text_as_text() -> None:
    export = Export("温江", Months("2026-11", "2026-11"), ts(datetime(2026, 11, 30, tzinfo=timezone.utc)),
                    "=cmd|' /C calc'!A0", Checkpoint(0, "00", None, None), [], [])
    book = load_workbook(io.BytesIO(xlsx(export)))
    cell = next(c for row in book["说明"].iter_rows() for c in row if c.value == "=cmd|' /C calc'!A0")
    assert cell.data_type == "s"


@given(st.integers(-10**15, 10**15))
def test_yuan_is_the_fen_to_the_fen_in_text(fen: int) -> None:
    from decimal import Decimal

    from exports.words import yuan

    shown = yuan(fen)
    assert shown == ("-" if fen < 0 else "") + f"¥{abs(Decimal(fen)) / 100:,.2f}"
    assert int(shown.replace("¥", "").replace(",", "").replace(".", "")) == fen


def test_every_audited_step_reads_in_words_without_ids_or_json() -> None:
    """Each stored sample of a kind the trail keeps, described as the export's 内容 column: no UUID, no raw field."""
    import json
    import re
    from pathlib import Path

    from exports.names import Names
    from exports.words import describe
    from projections.audit import AUDITED

    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
    names = Names(riders={}, grids={}, staff={})
    seen = set()
    for sample in sorted(Path(__file__).parents[1].joinpath("samples").glob("*.json")):
        kind = sample.name.split(".")[0]
        if kind not in AUDITED:
            continue
        state = {k: v for k, v in json.loads(sample.read_text())["state"].items() if k not in ("meta", "timestamp")}
        for lang in ("zh", "en"):
            words = describe(kind, state, lang, names, {"fire": ("火情处置", "Fire call")})
            assert not uuid.search(words) and "{" not in words and "_" not in words, (kind, lang, words)
        seen.add(kind)
    assert {"ClueReported", "SubsidyAwarded", "AppealDecided", "ClaimReleased"} <= seen


def test_a_rider_is_masked_whatever_the_name() -> None:
    from domain.names import masked

    assert [masked(n) for n in ("王小平", "王平", "欧阳小平", "王")] == ["王*平", "王*", "欧*平", "*"]
