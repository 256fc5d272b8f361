"""An export as files an auditor opens: one XLSX workbook (XlsxWriter), or a ZIP of
CSV files (UTF-8 with a byte-order mark, which Excel needs to read Chinese) with
the signed checkpoint beside them as `checkpoint.txt`, exactly as signed, so
that `gridgov audit verify --checkpoint checkpoint.txt` takes it as it is.

Headers and labels are Chinese by default, English on request; the columns and
their order are the same in both. Each table reads first as a person reads it —
riders by a masked name, grids and staff by name, each step in words, amounts in ¥
as text (two decimals, worked out in integers) — then, for machines, the ids, the
event type, the log position and leaf index, and the amounts in integer fen, which
the totals re-add to the balances read model in.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any, Iterator, Literal

import xlsxwriter

from domain.clock import CHINA
from exports.build import Export, Months
from exports.words import describe, photos, yuan

Lang = Literal["zh", "en"]
Format = Literal["xlsx", "csv"]
MEDIA_TYPE = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "csv": "application/zip"}

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# column: (中文, English)
HEADERS = {
    "piece_id": ("计件编号", "piece id"), "rider_id": ("骑手编号", "rider id"), "grid_id": ("网格编号", "grid id"),
    "rider_name": ("骑手", "rider"), "grid_name": ("网格", "grid"), "actor_name": ("操作人", "by"),
    "period": ("月份", "month"), "step": ("环节", "step"), "kind": ("事件类型", "event type"),
    "what": ("内容", "what"), "photos": ("照片（SHA-256）", "photos (SHA-256)"),
    "actor_id": ("操作人编号", "actor id"), "actor_role": ("角色", "role"), "at": ("时间（北京时间）", "time (Asia/Shanghai)"),
    "position": ("日志位置", "log position"), "leaf_index": ("叶子序号", "leaf index"),
    "rate_version": ("费率版本", "rate version"), "awarded_fen": ("奖励（分）", "awarded (fen)"),
    "withheld_fen": ("封顶扣减（分）", "withheld (fen)"), "reversed_fen": ("撤销（分）", "reversed (fen)"),
    "paid_fen": ("已发放（分）", "paid (fen)"), "payable_fen": ("应付余额（分）", "payable (fen)"),
    "awarded_yuan": ("奖励（元）", "awarded (¥)"), "withheld_yuan": ("封顶扣减（元）", "withheld (¥)"),
    "reversed_yuan": ("撤销（元）", "reversed (¥)"), "paid_yuan": ("已发放（元）", "paid (¥)"),
    "payable_yuan": ("应付余额（元）", "payable (¥)"), "account_id": ("补贴账户", "subsidy account"),
    "batch_id": ("发放批次", "payout batch"), "awards": ("奖励笔数", "awards"), "riders": ("骑手人数", "riders"),
    "column": ("科目", "amount"), "exported": ("导出合计（分）", "exported (fen)"),
    "read_model": ("余额读模型（分）", "balances read model (fen)"), "exported_yuan": ("导出合计（元）", "exported (¥)"),
    "read_model_yuan": ("余额读模型（元）", "balances read model (¥)"), "item": ("项目", "item"), "value": ("内容", "value"),
}
# An amount a difference is in, by name.
AMOUNT_WORDS = {"awarded_fen": ("奖励", "awarded"), "withheld_fen": ("封顶扣减", "withheld"),
                "reversed_fen": ("撤销", "reversed"), "paid_fen": ("已发放", "paid")}
STEPS = {
    "ClueReported": ("线索直报", "clue reported"), "ClueMarkedDuplicate": ("标记疑似重复", "marked duplicate"),
    "DuplicateLinked": ("关联重复线索", "duplicate linked"), "ClueAccepted": ("线索受理", "clue accepted"),
    "ClueRejected": ("线索不予受理", "clue rejected"), "ClueClosed": ("线索办结", "clue closed"),
    "TaskPublished": ("任务发布", "task published"), "TaskClaimed": ("服务认领", "task claimed"),
    "ClaimReleased": ("认领释放", "claim released"), "TaskCompleted": ("任务完成", "task completed"),
    "CompletionVerified": ("完成核验通过", "completion verified"),
    "CompletionRejected": ("完成核验退回", "completion rejected"), "TaskCancelled": ("任务取消", "task cancelled"),
    "SubsidyAwarded": ("计件补贴", "subsidy awarded"), "SubsidyCapped": ("封顶扣减", "subsidy capped"),
    "SubsidyReversed": ("补贴撤销", "subsidy reversed"), "AwardReinstated": ("补贴恢复", "award reinstated"),
    "PayoutSettled": ("补贴发放", "payout settled"), "AppealFiled": ("提出申诉", "appeal filed"),
    "AppealAssigned": ("申诉分派", "appeal assigned"), "AppealNoted": ("申诉记录", "appeal noted"),
    "AppealDecided": ("申诉决定", "appeal decided"),
}
ROLES = {"rider": ("骑手", "rider"), "grid_officer": ("网格员", "grid officer"),
         "district_admin": ("区管理员", "district admin"), "auditor": ("审计人员", "auditor"),
         "service": ("服务账号", "service"), "system": ("系统", "system")}
# sheet (and CSV file) : (中文, English, columns): what a person reads, then what a machine does.
TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "steps": ("奖励链", "award chains", (
        "period", "rider_name", "grid_name", "step", "what", "photos", "actor_name", "actor_role", "at",
        "awarded_yuan", "withheld_yuan", "reversed_yuan", "rate_version",
        "piece_id", "rider_id", "grid_id", "actor_id", "kind", "position", "leaf_index",
        "awarded_fen", "withheld_fen", "reversed_fen")),
    "payouts": ("发放", "payouts", ("period", "rider_name", "paid_yuan", "batch_id", "actor_name", "actor_role", "at",
                                    "rider_id", "account_id", "actor_id", "paid_fen", "position", "leaf_index")),
    "by_rider": ("骑手月度合计", "per rider and month", (
        "period", "rider_name", "awards", "awarded_yuan", "withheld_yuan", "reversed_yuan", "paid_yuan",
        "payable_yuan", "rider_id", "awarded_fen", "withheld_fen", "reversed_fen", "paid_fen", "payable_fen")),
    "by_grid": ("网格月度合计", "per grid and month", (
        "period", "grid_name", "awards", "awarded_yuan", "withheld_yuan", "reversed_yuan",
        "grid_id", "awarded_fen", "withheld_fen", "reversed_fen")),
    "by_month": ("月度合计", "per month", (
        "period", "riders", "awards", "awarded_yuan", "withheld_yuan", "reversed_yuan", "paid_yuan", "payable_yuan",
        "awarded_fen", "withheld_fen", "reversed_fen", "paid_fen", "payable_fen")),
    "differences": ("对账差异", "differences", ("period", "rider_name", "column", "exported_yuan", "read_model_yuan",
                                             "rider_id", "exported", "read_model")),
}


def filename(district: str, months: Months, fmt: Format) -> str:
    span = months.first if months.first == months.last else f"{months.first}_{months.last}"
    return f"gridgov-audit-{district}-{span}.{'xlsx' if fmt == 'xlsx' else 'zip'}"


def write(export: Export, fmt: Format, lang: Lang = "zh") -> bytes:
    return xlsx(export, lang) if fmt == "xlsx" else csv_zip(export, lang)


def xlsx(export: Export, lang: Lang = "zh") -> bytes:
    out = io.BytesIO()
    # constant_memory: each row goes to the file as it is written, not kept as cells.
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    summary = book.add_worksheet(_say(("说明", "summary"), lang))
    summary.set_column(0, 0, 24)
    summary.set_column(1, 1, 100)
    for r, row in enumerate(_summary(export, lang)):
        summary.write_row(r, 0, row)
    for name, (zh, en, columns) in TABLES.items():
        sheet = book.add_worksheet(_say((zh, en), lang))
        sheet.write_row(0, 0, [_say(HEADERS[c], lang) for c in columns])
        sheet.freeze_panes(1, 0)
        for r, row in enumerate(_table(export, name, lang), start=1):
            sheet.write_row(r, 0, row)
    book.close()
    return out.getvalue()


def csv_zip(export: Export, lang: Lang = "zh") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("summary.csv", _csv(_summary(export, lang)))
        for name, (_, _, columns) in TABLES.items():
            zipped.writestr(f"{name}.csv", _csv([[_say(HEADERS[c], lang) for c in columns],
                                                 *_table(export, name, lang)]))
        if export.checkpoint.note is not None:
            zipped.writestr("checkpoint.txt", export.checkpoint.note)
    return out.getvalue()


def _csv(rows: Any) -> str:
    text = io.StringIO()
    writer = csv.writer(text)
    text.write("\ufeff")
    writer.writerows([_inert(cell) for cell in row] for row in rows)
    return text.getvalue()


def _inert(cell: Any) -> Any:
    """Text a spreadsheet would run as a formula (a batch named `=HYPERLINK(…)`) is
    kept as text by a leading apostrophe (OWASP's advice on CSV injection)."""
    if isinstance(cell, str) and cell[:1] in FORMULA_STARTS:
        return "'" + cell
    return cell


def _table(export: Export, name: str, lang: Lang) -> Iterator[list[Any]]:
    columns = TABLES[name][2]
    for row in getattr(export, name):
        yield [_cell(export, row, column, lang) for column in columns]


def _cell(export: Export, row: dict[str, Any], column: str, lang: Lang) -> Any:
    names = export.names
    if column == "step":
        return _say(STEPS.get(row["kind"], (row["kind"], row["kind"])), lang)
    if column.endswith("_yuan"):  # the fen beside it, as ¥ text
        base = column.removesuffix("_yuan")
        return yuan(row.get(f"{base}_fen", row.get(base)))
    if column == "rider_name":
        return names.rider(row["rider_id"], lang)
    if column == "grid_name":
        return names.grid(row["grid_id"])
    if column == "actor_name":
        return names.person(row["actor_id"], row["actor_role"], lang)
    if column == "what":
        return describe(row["kind"], row["detail"], lang, names, export.rate_names)
    if column == "photos":
        return photos(row["detail"])
    value = row.get(column)
    if column == "actor_role":
        return _say(ROLES.get(value, (value, value)), lang)
    if column == "column":
        return _say(AMOUNT_WORDS[value], lang)
    if column == "at":
        return china_time(value)
    return value


def china_time(utc_text: str) -> str:
    return datetime.fromisoformat(utc_text).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _summary(export: Export, lang: Lang) -> list[list[Any]]:
    checkpoint = export.checkpoint
    zh = lang == "zh"
    if export.reconciled:
        reconciled = ("每位骑手每月的合计与余额读模型逐分一致" if zh
                      else "every rider's month re-adds to the balances read model, to the fen")
    else:
        reconciled = (f"{len(export.differences)} 处与余额读模型不一致，见“对账差异”" if zh
                      else f"{len(export.differences)} amounts differ from the balances read model: see differences")
    lines = [
        (("区", "district"), export.district),
        (("月份", "months"), f"{export.months.first} … {export.months.last}"),
        (("导出时间（北京时间）", "taken at (Asia/Shanghai)"), china_time(export.taken_at)),
        (("导出人", "taken by"), export.taken_by),
        (("奖励笔数", "awards"), export.awards),
        (("环节行数", "chain steps"), len(export.steps)),
        (("发放笔数", "payouts"), len(export.payouts)),
        (("对账", "reconciliation"), reconciled),
        (("检查点树大小", "checkpoint tree size"), checkpoint.size),
        (("检查点根哈希", "checkpoint root hash"), checkpoint.root),
        (("检查点签名", "signed checkpoint"), checkpoint.note if checkpoint.note is not None else
         ("未签名：本服务器未配置签名密钥（AUDIT_KEY_FILE）" if zh else "unsigned: this server has no AUDIT_KEY_FILE")),
        (("验证公钥", "verifier key"), checkpoint.verifier_key or ""),
        (("如何验证", "how to verify"),
         "每行的日志位置可用 `gridgov audit prove inclusion --position N --size 树大小` 或 "
         "GET /v1/audit/proofs/inclusion?position=N&size=树大小 证明其在本检查点内" if zh else
         "prove any row's log position in this checkpoint with `gridgov audit prove inclusion --position N "
         "--size SIZE`, or GET /v1/audit/proofs/inclusion?position=N&size=SIZE"),
    ]
    return [[_say(HEADERS["item"], lang), _say(HEADERS["value"], lang)],
            *([_say(label, lang), value] for label, value in lines)]


def _say(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]
