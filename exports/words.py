"""A step of an award's chain in words, for the export's 内容 column: what was
decided and why, amounts in ¥, people and grids by name, times in China's. Ids,
codes and raw fields stay out (the ids have columns of their own); each photo is
named by its SHA-256 in the 照片 column, which is what the log holds of it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from domain.clock import CHINA
from domain.clues import CATEGORY_WORDS, Category
from exports.names import Names

Pair = tuple[str, str]
RELEASES = {"expired": ("认领超时", "claim expired"), "withdrawn": ("骑手放弃", "given up by the rider"),
            "reassigned": ("改派", "reassigned")}
LIMITS = {"day_cap": ("日封顶", "day cap"), "month_cap": ("月封顶", "month cap"),
          "budget": ("当月预算用尽", "the month's budget ran out")}
OUTCOMES = {"upheld": ("支持", "upheld"), "dismissed": ("驳回", "dismissed")}
REMEDIES = {"none": ("无补救", "no remedy"), "reinstate_award": ("恢复被撤销的补贴", "reinstate the award"),
            "award_fen": ("补发", "pay")}
SUBJECTS = {"clue": ("线索", "a clue"), "task": ("任务", "a task"), "award": ("补贴", "an award"),
            "outside": ("平台外事项", "a matter outside the engine")}
# The engine's own reasons for closing a clue (application/handlers.py), in words.
CLOSINGS = {"task verified": ("任务核验通过", "task verified"), "task cancelled": ("任务取消", "task cancelled")}
CODE = re.compile(r"[a-z0-9_-]+")  # a task kind typed as a code says nothing the rate's name does not
AWARD_KINDS = {"piece": ("计件", "piece of work"), "remedy": ("申诉补救", "appeal remedy")}
LABELS: dict[str, Pair] = {
    "category": ("类别", "category"), "text": ("说明", "text"), "note": ("完成说明", "completion note"),
    "reason": ("原因", "reason"), "task": ("任务", "task"), "rider": ("骑手", "rider"), "grid": ("网格", "grid"),
    "rate": ("单价", "rate"), "award": ("补贴类别", "award"), "limit": ("封顶", "limit"),
    "outcome": ("裁决", "outcome"), "remedy": ("补救", "remedy"), "subject": ("申诉对象", "about"),
    "assignee": ("承办人", "assigned to"), "place": ("位置", "place"), "due": ("期限", "due"),
    "claim": ("认领时限", "time to complete"), "until": ("认领至", "claimed until"),
    "candidates": ("疑似重复", "likely duplicates"), "batch": ("发放批次", "payout batch"),
    "photos": ("照片", "photos"),
}


def yuan(fen: int | None) -> str:
    """Integer fen as ¥ text with two decimals, by integer arithmetic (never a float)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def china_time(utc_text: str) -> str:
    return datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def photos(detail: dict[str, Any]) -> str:
    """The SHA-256 of each photo the step cites, one a line."""
    return "\n".join(detail.get("evidence_hashes") or ())


def describe(kind: str, detail: dict[str, Any], lang: str, names: Names,
             rate_names: dict[str, Pair] | None = None) -> str:
    """The step's own facts in words, `；`-separated (`; ` in English)."""
    en = lang != "zh"

    def say(pair: Pair) -> str:
        return pair[en]

    def words(table: dict[str, Pair], value: Any) -> str:
        return say(table[value]) if value in table else str(value)

    parts: list[tuple[str, str]] = []

    def add(label: str, value: str) -> None:
        if value:
            parts.append((say(LABELS[label]), value))

    d = detail
    if "category" in d and d["category"] in {c.value for c in Category}:
        add("category", say(CATEGORY_WORDS[Category(d["category"])]))
    if kind == "TaskPublished" and d.get("kind") and not CODE.fullmatch(str(d["kind"])):
        add("task", str(d["kind"]))
    if kind in ("SubsidyAwarded",) and d.get("kind"):
        add("award", words(AWARD_KINDS, d["kind"]))
    if d.get("rate_code") and rate_names and d["rate_code"] in rate_names:
        add("rate", say(rate_names[d["rate_code"]]) + (f" {yuan(d['rate_fen'])}" if "rate_fen" in d else ""))
    elif "rate_fen" in d:
        add("rate", yuan(d["rate_fen"]))
    for field, label in (("rider_id", "rider"), ("reporter_id", "rider")):
        if d.get(field) and kind not in ("SubsidyAwarded", "SubsidyCapped", "SubsidyReversed"):
            add(label, names.rider(d[field], lang))
    if d.get("grid_id"):
        add("grid", names.grid(d["grid_id"]))
    location = d.get("location") or ({"lat": d["lat"], "lon": d["lon"]} if "lat" in d and "lon" in d else None)
    if location:
        add("place", f"{location['lat']:.5f}, {location['lon']:.5f}")
    if d.get("duplicate_candidates"):
        add("candidates", str(len(d["duplicate_candidates"])))
    if "limit" in d:
        add("limit", words(LIMITS, d["limit"]))
    if "outcome" in d:
        add("outcome", words(OUTCOMES, d["outcome"]))
    if isinstance(d.get("remedy"), dict):
        remedy = d["remedy"]
        add("remedy", words(REMEDIES, remedy.get("kind")) + (f" {yuan(remedy['fen'])}" if remedy.get("fen") else ""))
    if isinstance(d.get("subject"), dict):
        subject = d["subject"]
        shown = words(SUBJECTS, subject.get("kind"))
        if subject.get("kind") == "outside" and subject.get("ref"):
            shown += f"：{subject['ref']}" if not en else f": {subject['ref']}"
        if subject.get("period"):
            shown += f" ({subject['period']})"
        add("subject", shown)
    if d.get("assignee_id"):
        add("assignee", names.person(d["assignee_id"], "", lang))
    if d.get("claim_ttl_s"):
        minutes = int(d["claim_ttl_s"]) // 60
        add("claim", f"{minutes} 分钟" if not en else f"{minutes} min")
    if d.get("due"):
        add("due", china_time(d["due"]))
    if kind == "TaskClaimed" and d.get("expires_at"):
        add("until", china_time(d["expires_at"]))
    if d.get("batch_id"):
        add("batch", str(d["batch_id"]))
    if kind == "ClaimReleased" and d.get("reason"):
        add("reason", words(RELEASES, d["reason"]))
    elif kind == "ClueClosed" and d.get("reason"):
        closing, _, why = str(d["reason"]).partition(": ")
        add("reason", words(CLOSINGS, closing) + (("：" if not en else ": ") + why if why else ""))
    elif d.get("reason"):
        add("reason", str(d["reason"]))
    if d.get("text"):
        add("text", str(d["text"]))
    if d.get("note"):
        add("note", str(d["note"]))
    if d.get("evidence_hashes"):
        add("photos", f"{len(d['evidence_hashes'])} 张" if not en else str(len(d["evidence_hashes"])))
    joiner, colon = ("; ", ": ") if en else ("；", "：")
    return joiner.join(f"{label}{colon}{value}" for label, value in parts)
