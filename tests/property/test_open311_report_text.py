"""An Open311 request's clue text, as properties of api/open311/catalogue.report_text: for any service code,
description and attribute dict it either refuses with the spec's 400 (Open311Error, nothing else) or gives a
text the domain takes as it is (domain Text); a well-formed answer is always taken, written in words (the
question's label and the choice's name, never its key), in the questions' order, the same every time."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st
from pydantic import TypeAdapter

from api.open311 import catalogue
from api.open311.wire import Open311Error
from domain import commands as c
from domain.clues import Category

TEXT = TypeAdapter(c.Text)
CODES = [category.value for category in Category]
QUESTION_CODES = sorted({q.code for s in catalogue.SERVICES.values() for q in s.questions})
LANGUAGES = st.sampled_from(["zh", "en"])
KEYS = st.one_of(st.sampled_from(QUESTION_CODES), st.text(max_size=20))
VALUES = st.one_of(st.sampled_from(["yes", "no", "unknown", "", " ", "3", "店"]), st.text(max_size=300))


@given(code=st.one_of(st.sampled_from(CODES), st.text(max_size=20)),
       description=st.one_of(st.none(), st.text(max_size=40), st.text(min_size=1990, max_size=2100)),
       attributes=st.dictionaries(KEYS, st.lists(VALUES, max_size=3), max_size=4), language=LANGUAGES)
def test_a_text_fits_the_domain_or_is_a_400(code: str, description: str | None,
                                            attributes: dict[str, list[str]], language: Any) -> None:
    try:
        text = catalogue.report_text(code, description, attributes, language)
    except Open311Error as refused:
        assert refused.status == 400 and refused.description
        return
    assert TEXT.validate_python(text) == text
    assert catalogue.report_text(code, description, attributes, language) == text


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[Category, str, dict[str, list[str]]]:
    """A service, a description a person would write, and answers to some of its questions (every required one)."""
    category = draw(st.sampled_from(list(Category)))
    description = draw(st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=500).filter(
        lambda said: said.strip() != ""))
    answers: dict[str, list[str]] = {}
    for question in catalogue.SERVICES[category].questions:
        if question.required or draw(st.booleans()):
            answers[question.code] = [draw(st.sampled_from([choice.key for choice in question.choices])
                                           if question.choices else st.from_regex(r"[0-9A-Za-z一-龥]{1,20}",
                                                                                  fullmatch=True))]
    return category, description, answers


@given(case=well_formed(), language=LANGUAGES)
def test_answers_are_written_in_words_in_the_questions_order(case: tuple[Category, str, dict[str, list[str]]],
                                                             language: Any) -> None:
    category, description, answers = case
    lines = catalogue.report_text(category.value, description, answers, language).split("\n")
    assert lines[0] == description.strip()
    said = [question for question in catalogue.SERVICES[category].questions if question.code in answers]
    assert len(lines) == 1 + len(said)
    for line, question in zip(lines[1:], said):
        label = question.label[0] if language == "zh" else question.label[1]
        given_answer = answers[question.code][0]
        words = next((choice.name for choice in question.choices if choice.key == given_answer), None)
        shown = given_answer if words is None else (words[0] if language == "zh" else words[1])
        assert line == f"{label}{'：' if language == 'zh' else ': '}{shown}"


def test_what_a_service_asks_is_refused_when_missing_or_not_offered() -> None:
    for attributes in ({}, {"conscious": ["maybe"]}, {"conscious": ["yes", "no"]}, {"conscious": [" "]}):
        try:
            catalogue.report_text("elderly_fall", "路口有老人摔倒", attributes, "zh")
        except Open311Error as refused:
            assert refused.status == 400
        else:
            raise AssertionError(f"taken: {attributes}")
    for code, attributes in (("robbery", {"floor": ["3"]}), ("no_such", {}), ("other", {})):
        try:
            catalogue.report_text(code, None if code == "other" else "x", attributes, "en")
        except Open311Error as refused:
            assert refused.status == 400
        else:
            raise AssertionError(f"taken: {code} {attributes}")
