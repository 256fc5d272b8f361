"""Subsidy balances per rider and month, budgets per district and month, and the
ledger of every movement, which answers "what was the balance at instant T"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from domain.budgets import BudgetAllocated, BudgetCommitted, BudgetReleased
from domain.rates import RateScheduleIssued
from domain.subsidies import PayoutSettled, SubsidyAwarded, SubsidyCapped, SubsidyReversed
from projections.base import Projection
from projections.facts import Fact, china_day, ts, ts_text
from projections.rows import BatchRows, Table
from projections.stores import ReadStore


TEXT, NULLABLE, FEN = "TEXT NOT NULL", "TEXT", "BIGINT NOT NULL"
LEDGER_KIND = {"SubsidyAwarded": ("award", 1), "SubsidyReversed": ("reversal", -1), "PayoutSettled": ("payout", -1)}
BUDGET_COLUMN = {"BudgetAllocated": "allocated", "BudgetCommitted": "committed", "BudgetReleased": "released"}
SLICE_COLUMN = {"SubsidyAwarded": ("awarded", "fen"), "SubsidyCapped": ("withheld", "withheld_fen"),
                "SubsidyReversed": ("reversed", "fen"), "PayoutSettled": ("paid", "fen")}
# Events about a piece of the month, which belong to that piece's district.
OF_A_PIECE = {"SubsidyCapped", "SubsidyReversed"}


class Balances(Projection):
    """Money belongs to the district of its piece: a rider's month is one account
    (one stream), kept here as one row per district it holds money of."""

    name = "balances"
    weight = 0.25
    by_stream = True  # an account's, a budget's rows, each by its own stream's events
    handles = (SubsidyAwarded, SubsidyCapped, SubsidyReversed, PayoutSettled, BudgetAllocated, BudgetCommitted,
               BudgetReleased, RateScheduleIssued)
    tables = {
        # A rider's month: who and when, and where a payout that named no district (v1) went.
        "months": Table({"account_id": TEXT, "rider_id": TEXT, "period": TEXT, "first_district": TEXT},
                        key=("account_id",)),
        # The month's slice in one district.
        "slices": Table({"account_id": TEXT, "district": TEXT, "rider_id": TEXT, "period": TEXT, "awarded": FEN,
                         "withheld": FEN, "reversed": FEN, "paid": FEN}, key=("account_id", "district")),
        "budgets": Table({"budget_id": TEXT, "district": TEXT, "period": TEXT, "allocated": FEN, "committed": FEN,
                          "released": FEN}, key=("budget_id",)),
        # One row per movement of a balance: what "the balance at instant T" sums.
        "ledger": Table({"stream_id": TEXT, "version": "BIGINT NOT NULL", "rider_id": TEXT, "district": TEXT,
                         "period": TEXT, "at": TEXT, "kind": TEXT, "piece_id": NULLABLE, "delta": FEN},
                        key=("stream_id", "version"), append_only=True),
        # A district's rate schedules, every version (what a piece pays comes from here).
        "schedules": Table({"district": TEXT, "version": "BIGINT NOT NULL", "effective_from": TEXT, "rates": TEXT,
                            "cap_day_fen": FEN, "cap_month_fen": FEN, "issued_at": TEXT, "issued_by": TEXT},
                           key=("district", "version"), append_only=True),
        # Each award's own district, for its cap and its reversal.
        "pieces": Table({"account_id": TEXT, "piece_id": TEXT, "district": TEXT}, key=("account_id", "piece_id")),
    }
    indexes = {"slices": ("rider_id", "district, period"), "ledger": ("rider_id, at",)}

    def district_of(self, rows: BatchRows, fact: Fact) -> tuple[str, dict[str, Any] | None]:
        """The district a subsidy event's money belongs to, and the month's row."""
        d = fact.data
        month = None if fact.version == 1 else rows.get("months", fact.stream)
        if fact.type == "SubsidyAwarded":
            return d["district"], month
        if fact.type in OF_A_PIECE:
            piece = rows.get("pieces", fact.stream, d["piece_id"])
            return (piece["district"] if piece else month["first_district"]), month
        return d.get("district") or month["first_district"], month

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        if fact.type == "RateScheduleIssued":
            return []
        if fact.type in BUDGET_COLUMN:
            return [("budgets", (fact.stream,))]
        # Which slice a cap, reversal or payout touches is known only from these two.
        keys: list[tuple[str, tuple[Any, ...]]] = [("months", (fact.stream,))]
        if fact.type in OF_A_PIECE:
            keys.append(("pieces", (fact.stream, fact.data["piece_id"])))
        if fact.type == "SubsidyAwarded" or fact.data.get("district"):
            keys.append(("slices", (fact.stream, fact.data["district"])))
        return keys

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        if fact.type == "RateScheduleIssued":
            rows.add("schedules", {"district": d["district"], "version": d["version"],
                                   "effective_from": ts_text(d["effective_from"]),
                                   "rates": orjson.dumps(d["rates"], option=orjson.OPT_SORT_KEYS).decode(),
                                   "cap_day_fen": d["cap_day_fen"], "cap_month_fen": d["cap_month_fen"],
                                   "issued_at": fact.at, "issued_by": d["meta"]["actor"]["id"]})
            return
        if fact.type in BUDGET_COLUMN:
            budget = rows.get("budgets", fact.stream) or {"budget_id": fact.stream, "district": d["district"],
                                                          "period": d["period"], "allocated": 0, "committed": 0,
                                                          "released": 0}
            column = BUDGET_COLUMN[fact.type]
            rows.put("budgets", {**budget, column: budget[column] + d["fen"]})
            return
        district, month = self.district_of(rows, fact)
        if month is None:  # an account's first event is always an award
            month = {"account_id": fact.stream, "rider_id": d["rider_id"], "period": d["period"],
                     "first_district": district}
            rows.put("months", month)
        if fact.type == "SubsidyAwarded":
            rows.put("pieces", {"account_id": fact.stream, "piece_id": d["piece_id"], "district": district})
        column, field = SLICE_COLUMN[fact.type]
        piece = rows.get("slices", fact.stream, district) or {
            "account_id": fact.stream, "district": district, "rider_id": month["rider_id"],
            "period": month["period"], "awarded": 0, "withheld": 0, "reversed": 0, "paid": 0}
        rows.put("slices", {**piece, column: piece[column] + d[field]})
        if fact.type in LEDGER_KIND:
            kind, sign = LEDGER_KIND[fact.type]
            rows.add("ledger", {"stream_id": fact.stream, "version": fact.version, "rider_id": month["rider_id"],
                                "district": district, "period": month["period"], "at": fact.at,
                                "kind": kind, "piece_id": d.get("piece_id"), "delta": sign * d[field]})


# --- queries -------------------------------------------------------------------------

SLICE_COLUMNS = ("account_id", "rider_id", "district", "period", "awarded", "withheld", "reversed", "paid")
AMOUNTS = ("awarded", "withheld", "reversed", "paid", "payable")
SLICE_AMOUNTS = AMOUNTS[:4]


def rider_balances(store: ReadStore, rider_id: str, districts: set[str] | None = None) -> dict[str, Any]:
    """A rider's months, each split by district (`months`: one row per month and
    district), and their sum. `districts`: only those slices (a district's viewer)."""
    rows = store.read(f"SELECT {', '.join(SLICE_COLUMNS)} FROM {Balances().table_names['slices']} WHERE rider_id = ? "
                      "ORDER BY period, district", (rider_id,))
    months = [dict(zip(SLICE_COLUMNS, row)) for row in rows]
    months = [m for m in months if districts is None or m["district"] in districts]
    for month in months:
        month["payable"] = month["awarded"] - month["reversed"] - month["paid"]
    total = {k: sum(m[k] for m in months) for k in AMOUNTS}
    return {"rider_id": rider_id, "months": months, "total": total}


def district_budgets(store: ReadStore, district: str, period: str | None = None) -> list[dict[str, Any]]:
    sql = (f"SELECT district, period, allocated, committed, released FROM {Balances().table_names['budgets']} "
           "WHERE district = ?" + (" AND period = ?" if period else "") + " ORDER BY period")
    rows = store.read(sql, (district, period) if period else (district,))
    return [{"district": d, "period": p, "allocated": a, "committed": c - r, "remaining": a - c + r}
            for d, p, a, c, r in rows]


def balance_as_of(store: ReadStore, rider_id: str, instant: datetime) -> int:
    """Awarded − reversed − paid over every event up to and including `instant`."""
    row = store.read(f"SELECT COALESCE(SUM(delta), 0) FROM {Balances().table_names['ledger']} WHERE rider_id = ? AND at <= ?",
                     (rider_id, ts(instant)))
    return int(row[0][0])


def _named(rates: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A row folded before rates had names (RateScheduleIssued v1, folded by older code) answers them as unnamed."""
    return {code: {"name_zh": None, "name_en": None, **rate} for code, rate in rates.items()}


def rate_schedules(store: ReadStore, district: str) -> list[dict[str, Any]]:
    """Every version of a district's rate schedule, newest first."""
    rows = store.read(f"SELECT district, version, effective_from, rates, cap_day_fen, cap_month_fen, issued_at, "
                      f"issued_by FROM {Balances().table_names['schedules']} WHERE district = ? ORDER BY version DESC",
                      (district,))
    return [{"district": d, "version": v, "effective_from": e, "rates": _named(orjson.loads(r)), "cap_day_fen": cd,
             "cap_month_fen": cm, "issued_at": at, "issued_by": by} for d, v, e, r, cd, cm, at, by in rows]


def latest_budget_period(store: ReadStore, district: str) -> str | None:
    """The last month a district has a budget for: what its charts show by default."""
    row = store.read(f"SELECT MAX(period) FROM {Balances().table_names['budgets']} WHERE district = ?", (district,))
    return row[0][0] if row else None


def subsidy_per_day(store: ReadStore, district: str, period: str) -> dict[str, Any]:
    """A district's month day by day in China time: subsidy awarded and reversed (fen),
    beside the month's budget — what the dashboards chart."""
    rows = store.read(f"SELECT at, kind, delta FROM {Balances().table_names['ledger']} "
                      "WHERE district = ? AND period = ? AND kind IN ('award', 'reversal')", (district, period))
    days: dict[str, dict[str, int]] = {}
    for at, kind, delta in rows:
        day = days.setdefault(china_day(at), {"awarded_fen": 0, "reversed_fen": 0})
        day["awarded_fen" if kind == "award" else "reversed_fen"] += abs(int(delta))
    budget = district_budgets(store, district, period)
    return {"district": district, "period": period,
            "budget": budget[0] if budget else {"district": district, "period": period, "allocated": 0,
                                                "committed": 0, "remaining": 0},
            "days": [{"day": day, **amounts} for day, amounts in sorted(days.items())]}


def district_slices(store: ReadStore, district: str, first: str, last: str) -> dict[tuple[str, str], dict[str, int]]:
    """A district's rider months from `first` to `last`, by (rider, month): awarded,
    withheld, reversed and paid (fen) — what an audit export re-adds to."""
    rows = store.read(f"SELECT rider_id, period, {', '.join(SLICE_AMOUNTS)} FROM {Balances().table_names['slices']} "
                      "WHERE district = ? AND period >= ? AND period <= ?", (district, first, last))
    return {(rider, period): dict(zip(SLICE_AMOUNTS, amounts)) for rider, period, *amounts in rows}


def totals(store: ReadStore) -> tuple[int, int, int]:
    """Subsidy awarded, reversed and paid over every rider and district (fen)."""
    awarded, reversed_, paid = store.read(f"SELECT SUM(awarded), SUM(reversed), SUM(paid) "
                                          f"FROM {Balances().table_names['slices']}")[0]
    return int(awarded or 0), int(reversed_ or 0), int(paid or 0)
