"""A clue and its task as Open311 tells them: `open` or `closed`, and the richer story in words
(`status_notes`), who is responsible (`agency_responsible`) and what to expect (`service_notice`).

The notes name people's things only: a grid by its name, a clue repeated by its service and time (and its
service_request_id, the one id a client can look up); never a rate code, an event's name, an amount or a
UTC time. Free text an officer wrote (a rejection's reason) is kept, any id in it left out.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from api.http.language import Language
from domain.clues import CATEGORY_WORDS, Category

CHINA = timezone(timedelta(hours=8))
CLOSED_CLUE = frozenset({"rejected", "duplicate", "closed"})
CLOSED_TASK = frozenset({"verified", "cancelled"})
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
CANCELLED_PREFIX = "task cancelled: "  # how the engine closes a clue whose task was cancelled (application)

# (zh, en) of each step; {grid}, {clue}, {reason} filled in.
WORDS: dict[str, tuple[str, str]] = {
    "received": ("已收到，等待网格员受理。", "Received; waiting for the grid's officers to take it up."),
    "received_district": ("已收到，等待{district}的管理员分派网格。",
                          "Received; waiting for {district}'s admins to give it to a grid."),
    "likely": ("已收到；可能与{clue}重复，等待网格员核实。",
               "Received; it may repeat {clue}, which the grid's officers will check."),
    "accepted": ("已受理，已转为{grid}网格的任务，等待骑手认领。",
                 "Accepted into a task of grid {grid}, waiting for a rider to take it."),
    "claimed": ("已受理，{grid}网格的骑手已认领，正在处理。",
                "Accepted into a task of grid {grid}; a rider has taken it and is on it."),
    "done": ("{grid}网格的骑手已处理完毕，等待网格员核验。",
             "Done by a rider of grid {grid}, waiting for the grid's officers to check it."),
    "verified": ("已办结：{grid}网格的网格员已核验。", "Closed: the officers of grid {grid} checked the work."),
    "cancelled": ("已关闭：{grid}网格的任务已取消（{reason}）。", "Closed: the task of grid {grid} was cancelled ({reason})."),
    "duplicate": ("已关闭：与{clue}重复，并入该线索处理。", "Closed: a repeat of {clue}, followed up there."),
    "rejected": ("未受理：{reason}", "Not taken up: {reason}"),
    "closed": ("已关闭。", "Closed."),
    "a_clue": ("{time}上报的“{service}”（编号 {id}）", "the {service} reported {time} (request {id})"),
    "an_earlier_clue": ("此前上报的另一条线索", "an earlier report"),
    "notice_grid": ("由{district}{grid}网格的网格员受理，一般在 24 小时内处理。",
                    "The officers of grid {grid}, {district}, take it up, usually within 24 hours."),
    "notice_district": ("由{district}的管理员分派网格后处理。", "{district}'s admins give it to a grid first."),
    "agency_grid": ("{district} {grid}网格", "Grid {grid}, {district}"),
    "agency_district": ("{district}管理员", "{district}'s admins"),
}


def said(key: str, language: Language, **facts: str) -> str:
    return WORDS[key][0 if language == "zh" else 1].format(**facts)


def is_closed(clue_status: str, task_status: str | None) -> bool:
    """Closed exactly when the clue was rejected, repeated another or closed, or its task verified or cancelled."""
    return clue_status in CLOSED_CLUE or task_status in CLOSED_TASK


def task_now(task_status: str | None, claim_expires_at: str | None, now: datetime) -> str | None:
    """A claim past its expiry is open again, whether or not the sweep has said so yet (as the board shows it)."""
    if task_status == "claimed" and claim_expires_at is not None and claim_expires_at <= _utc_text(now):
        return "open"
    return task_status


def notes(request: dict[str, Any], language: Language, named: Callable[[str], dict[str, Any] | None]) -> str:
    """The request's story in words. `request`: a row of projections.open311.service_requests (the clue with
    its task's status); `named`: a clue the note may name (the original of a duplicate, a likely one)."""
    grid = request.get("grid_name") or "—"
    clue, task = request["status"], request.get("task_status")
    if clue == "duplicate":
        return said("duplicate", language, clue=_clue(request.get("duplicate_of"), language, named))
    if clue == "rejected":
        return said("rejected", language, reason=_free(request.get("reason")))
    if task == "verified":
        return said("verified", language, grid=grid)
    if task == "cancelled":
        return said("cancelled", language, grid=grid, reason=_free(_cancelled_reason(request.get("reason"))))
    if clue == "closed":
        return said("closed", language)
    if clue == "accepted":
        step = {"claimed": "claimed", "awaiting_verification": "done"}.get(task or "", "accepted")
        return said(step, language, grid=grid)
    if request.get("candidates"):
        return said("likely", language, clue=_clue(request["candidates"][0], language, named))
    if request.get("grid_id") is None:
        return said("received_district", language, district=request["district"])
    return said("received", language)


def notice(request: dict[str, Any], language: Language) -> str:
    """What to expect, and from whom."""
    if request.get("grid_id") is None:
        return said("notice_district", language, district=request["district"])
    return said("notice_grid", language, district=request["district"], grid=request.get("grid_name") or "—")


def agency(request: dict[str, Any], language: Language) -> str:
    """The grid and district responsible, by name (the district's admins while the clue is in no grid)."""
    if request.get("grid_id") is None:
        return said("agency_district", language, district=request["district"])
    return said("agency_grid", language, district=request["district"], grid=request.get("grid_name") or "—")


def service_name(category: str, language: Language) -> str:
    try:
        zh, en = CATEGORY_WORDS[Category(category)]
    except ValueError:
        return category
    return zh if language == "zh" else en


def china_time(utc_text: str | None) -> str | None:
    """A read model's UTC time as ISO 8601 with the +08:00 offset, to the second (the spec's w3 format)."""
    if not utc_text:
        return None
    when = datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    return when.astimezone(CHINA).replace(microsecond=0).isoformat()


def _clue(clue_id: str | None, language: Language, named: Callable[[str], dict[str, Any] | None]) -> str:
    found = named(clue_id) if clue_id else None
    if found is None:
        return said("an_earlier_clue", language)
    when = datetime.fromisoformat(found["reported_at"].replace("Z", "+00:00")).astimezone(CHINA)
    time = (f"{when.month}月{when.day}日 {when:%H:%M}" if language == "zh"
            else f"on {when.day} {when:%b} at {when:%H:%M}")
    return said("a_clue", language, time=time, service=service_name(found["category"], language), id=clue_id)


def _cancelled_reason(reason: str | None) -> str | None:
    if reason and reason.startswith(CANCELLED_PREFIX):
        return reason[len(CANCELLED_PREFIX):]
    return reason


def _free(text: str | None) -> str:
    """An officer's words, any id in them left out (a reader of the note cannot use one)."""
    return UUID_TEXT.sub("…", text or "").strip() or "—"


def _utc_text(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
