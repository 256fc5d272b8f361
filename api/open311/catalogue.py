"""Open311's services: the clue categories (domain.clues.Category) in people's words, the questions some
of them ask (the spec's attributes), and the clue's text made from a request's description and answers.

Codes never reach a person: a service is named in words, and an answer is written into the clue's text as
`问题：回答` in words, so the officer reading the clue reads what the reporter said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from api.http.language import Language
from api.open311.wire import Open311Error
from domain import commands as c
from domain.clues import CATEGORY_WORDS, Category

# Sortable, as the spec's discovery asks: the last time the services or their definitions changed.
CHANGESET = "2026-12-05T22:00:00+08:00"
ANSWER_MAX = 200  # characters of one string answer
_TEXT = TypeAdapter(c.Text)
# The domain's own limit on a clue's text, read from its type so the two never differ.
TEXT_MAX = next(rule.max_length for rule in c.Text.__metadata__[0].metadata if hasattr(rule, "max_length"))

Words = tuple[str, str]  # (Chinese, English)


@dataclass(frozen=True)
class Choice:
    key: str
    name: Words


@dataclass(frozen=True)
class Question:
    code: str
    label: Words  # how the answer is introduced in the clue's text
    description: Words  # the question as the reporter reads it
    datatype: str  # "string" or "singlevaluelist" (the spec's names)
    required: bool
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Service:
    group: Words
    description: Words
    keywords: Words
    questions: tuple[Question, ...] = field(default=())


YES_NO_UNKNOWN = (Choice("yes", ("清醒", "Yes, conscious")), Choice("no", ("不清醒", "No, not conscious")),
                  Choice("unknown", ("不确定", "Not sure")))

SAFETY, FOOD, ORDER, WELFARE, OTHER = (("安全隐患", "Safety hazards"), ("食品", "Food"), ("治安", "Public order"),
                                       ("民生", "Residents' welfare"), ("其他", "Other"))

SERVICES: dict[Category, Service] = {
    Category.FAKE_MEAL_READY: Service(
        FOOD, ("商户在餐未做好时点了“已出餐”，骑手被迫等待或超时。",
               "A shop marked a meal ready before it was, leaving riders waiting or late."),
        ("虚假出餐,出餐,商户,等餐", "fake meal-ready,meal ready,shop,waiting")),
    Category.UNSAFE_FOOD: Service(
        FOOD, ("后厨脏乱、食材变质或无证经营等食品安全问题。",
               "Unsafe food: a dirty kitchen, spoiled ingredients, an unlicensed kitchen."),
        ("食品安全,后厨,变质,无证经营", "unsafe food,kitchen,spoiled,unlicensed"),
        (Question("shop_name", ("店铺", "Shop"), ("店铺名称（可不填）", "The shop's name (optional)"),
                  "string", False),)),
    Category.FIRE_HAZARD: Service(
        SAFETY, ("电动车楼道充电、私拉电线、堆放易燃物等火灾隐患。",
                 "A fire hazard: e-bikes charged in stairwells, loose wiring, things that burn piled up."),
        ("火灾隐患,电动车充电,飞线,易燃物", "fire hazard,e-bike charging,loose wiring,flammable"),
        (Question("floor", ("楼层", "Floor"), ("在几楼？（可不填）", "Which floor? (optional)"), "string", False),)),
    Category.BLOCKED_FIRE_LANE: Service(
        SAFETY, ("消防通道被车辆或杂物堵塞。", "A fire lane blocked by vehicles or clutter."),
        ("消防通道,堵塞,占道", "fire lane,blocked,obstruction")),
    Category.TRAFFIC_HAZARD: Service(
        SAFETY, ("路面坑洼、井盖缺失、信号灯故障等交通隐患。",
                 "A traffic hazard: potholes, a missing manhole cover, a broken traffic light."),
        ("交通隐患,坑洼,井盖,信号灯", "traffic hazard,pothole,manhole,traffic light")),
    Category.ELDERLY_FALL: Service(
        WELFARE, ("老人摔倒需要帮助；有生命危险请先拨打 120。",
                  "An elderly person has fallen and needs help; call 120 first if life is at risk."),
        ("老人摔倒,求助,独居老人", "elderly fall,help,living alone"),
        (Question("conscious", ("是否清醒", "Conscious"), ("老人是否清醒？", "Is the person conscious?"),
                  "singlevaluelist", True, YES_NO_UNKNOWN),)),
    Category.ROBBERY: Service(
        ORDER, ("抢劫、抢夺等治安事件；正在发生请先拨打 110。",
                "A robbery or snatching; call 110 first if it is happening now."),
        ("抢劫,抢夺,治安", "robbery,snatching,public order")),
    Category.OTHER: Service(
        OTHER, ("其他需要网格处理的问题。", "Anything else the grid should look at."),
        ("其他", "other")),
}


def _in(words: Words, language: Language) -> str:
    return words[0] if language == "zh" else words[1]


def service(code: str, status: int = 404, language: Language = "zh") -> Category:
    """The category a service code names: a path's unknown code is a 404, a form field's a 400."""
    try:
        return Category(code)
    except ValueError:
        shown = code[:40]
        raise Open311Error(status, f"没有这项服务：{shown}" if language == "zh"
                           else f"no such service_code: {shown}") from None


def services(language: Language) -> list[dict[str, Any]]:
    """The service list, in the spec's field order."""
    return [_listed(category, language) for category in Category]


def _listed(category: Category, language: Language) -> dict[str, Any]:
    entry = SERVICES[category]
    return {"service_code": category.value, "service_name": _in(CATEGORY_WORDS[category], language),
            "description": _in(entry.description, language), "metadata": bool(entry.questions),
            "type": "realtime", "keywords": _in(entry.keywords, language), "group": _in(entry.group, language)}


def definition(code: str, language: Language) -> dict[str, Any]:
    """A service's definition: its questions as the spec's attributes (404 for an unknown code)."""
    category = service(code, 404, language)
    return {"service_code": category.value,
            "attributes": [_attribute(question, order, language)
                           for order, question in enumerate(SERVICES[category].questions, start=1)]}


def _attribute(question: Question, order: int, language: Language) -> dict[str, Any]:
    described = None if question.choices else (f"不超过 {ANSWER_MAX} 个字" if language == "zh"
                                                else f"at most {ANSWER_MAX} characters")
    return {"variable": True, "code": question.code, "datatype": question.datatype, "required": question.required,
            "datatype_description": described, "order": order, "description": _in(question.description, language),
            "values": [{"key": choice.key, "name": _in(choice.name, language)} for choice in question.choices]}


def report_text(code: str, description: str | None, attributes: dict[str, list[str]], language: Language) -> str:
    """The clue's text: the description, then each answer as `问题：回答` in words, in the questions' order.
    Anything the service does not ask, a missing required answer, a choice not offered, or nothing said at
    all is a 400 in `language`; the text returned is always a valid domain Text."""
    zh = language == "zh"
    questions = SERVICES[service(code, 400, language)].questions
    asked = {question.code for question in questions}
    unknown = sorted(set(attributes) - asked)
    if unknown:
        shown = unknown[0][:40]
        raise Open311Error(400, f"这项服务没有这个问题：{shown}" if zh else f"this service asks no attribute {shown}")
    lines = [description.strip()] if description and description.strip() else []
    for question in questions:
        answer = _answer(question, attributes.get(question.code, []), language)
        if answer is not None:
            lines.append(f"{_in(question.label, language)}{'：' if zh else ': '}{answer}")
    if not lines:
        raise Open311Error(400, "请描述要上报的情况。" if zh else "say what you are reporting: a description is needed")
    text = "\n".join(lines)
    try:
        return _TEXT.validate_python(text)
    except ValidationError as e:
        raise Open311Error(400, _text_refused(e, zh)) from None


def _answer(question: Question, given: list[str], language: Language) -> str | None:
    zh = language == "zh"
    said = [value.strip() for value in given if isinstance(value, str) and value.strip()]
    label = _in(question.description, language)
    if not said:
        if question.required:
            raise Open311Error(400, f"请回答：{label}" if zh else f"required attribute {question.code}: {label}")
        return None
    if len(said) > 1:
        raise Open311Error(400, f"只能有一个回答：{label}" if zh else f"one answer only for {question.code}")
    if question.choices:
        choice = next((choice for choice in question.choices if choice.key == said[0]), None)
        if choice is None:
            keys = ", ".join(choice.key for choice in question.choices)
            raise Open311Error(400, f"“{label}”的回答只能是：{keys}" if zh
                               else f"{question.code} takes one of: {keys}")
        return _in(choice.name, language)
    if len(said[0]) > ANSWER_MAX or "\n" in said[0] or "\r" in said[0]:
        raise Open311Error(400, f"“{label}”的回答须为一行，不超过 {ANSWER_MAX} 个字" if zh
                           else f"{question.code}: one line of at most {ANSWER_MAX} characters")
    return said[0]


def _text_refused(e: ValidationError, zh: bool) -> str:
    kind = e.errors()[0]["type"]
    if kind == "string_too_long":
        return (f"描述太长：连同回答不能超过 {TEXT_MAX} 个字。" if zh
                else f"too long: at most {TEXT_MAX} characters in all")
    if kind == "control_character":
        return "描述中含有不可见的控制字符。" if zh else "the description holds control characters"
    return "描述中没有可读的文字。" if zh else "the description holds no visible text"
