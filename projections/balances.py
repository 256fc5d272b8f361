"""Subsidy balances per rider and month, budgets per district and month, and the
ledger of every movement, which answers "what was the balance at instant T"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.rates import BudgetAllocated, BudgetCommitted, BudgetReleased
from domain.subsidies import PayoutSettled, SubsidyAwarded, SubsidyCapped, SubsidyReversed
from projections.base import Projection
from projections.facts import Fact, ts
from projections.rows import Rows, Table
from projections.store import ReadStore


TEXT, NULLABLE, FEN = "TEXT NOT NULL", "TEXT", "BIGINT NOT NULL"
LEDGER_KIND = {"SubsidyAwarded": ("award", 1), "SubsidyReversed": ("reversal", -1), "PayoutSettled": ("payout", -1)}
BUDGET_COLUMN = {"BudgetAllocated": "allocated", "BudgetCommitted": "committed", "BudgetReleased": "released"}


class Balances(Projection):
    name = "balances"
    weight = 0.25
    by_stream = True  # an account's, a budget's rows, each by its own stream's events
    handles = (SubsidyAwarded, SubsidyCapped, SubsidyReversed, PayoutSettled, BudgetAllocated, BudgetCommitted,
               BudgetReleased)
    tables = {
        "accounts": Table({"account_id": TEXT, "rider_id": TEXT, "district": TEXT, "period": TEXT, "awarded": FEN,
                           "withheld": FEN, "reversed": FEN, "paid": FEN}, key=("account_id",)),
        "budgets": Table({"budget_id": TEXT, "district": TEXT, "period": TEXT, "allocated": FEN, "committed": FEN,
                          "released": FEN}, key=("budget_id",)),
        # One row per movement of a balance: what "the balance at instant T" sums.
        "ledger": Table({"stream_id": TEXT, "version": "BIGINT NOT NULL", "rider_id": TEXT, "district": TEXT,
                         "period": TEXT, "at": TEXT, "kind": TEXT, "piece_id": NULLABLE, "delta": FEN},
                        key=("stream_id", "version"), append_only=True),
        # An account is the rider's month in every district: each award's own district,
        # for the ledger row of its reversal.
        "pieces": Table({"account_id": TEXT, "piece_id": TEXT, "district": TEXT}, key=("account_id", "piece_id")),
    }
    indexes = {"accounts": ("rider_id", "district, period"), "ledger": ("rider_id, at",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        if fact.type == "SubsidyReversed":
            return [("accounts", (fact.stream,)), ("pieces", (fact.stream, fact.data["piece_id"]))]
        return [("budgets" if fact.type in BUDGET_COLUMN else "accounts", (fact.stream,))]

    def apply(self, rows: Rows, fact: Fact) -> None:
        d, key = fact.data, (fact.stream,)
        if fact.type in BUDGET_COLUMN:
            budget = rows.get("budgets", *key) or {"budget_id": fact.stream, "district": d["district"],
                                                    "period": d["period"], "allocated": 0, "committed": 0,
                                                    "released": 0}
            column = BUDGET_COLUMN[fact.type]
            rows.put("budgets", {**budget, column: budget[column] + d["fen"]})
            return
        account = rows.get("accounts", *key)
        match fact.type:
            case "SubsidyAwarded":
                account = account or {"account_id": fact.stream, "rider_id": d["rider_id"], "district": d["district"],
                                      "period": d["period"], "awarded": 0, "withheld": 0, "reversed": 0, "paid": 0}
                account = {**account, "awarded": account["awarded"] + d["fen"]}
            case "SubsidyCapped":
                account = {**account, "withheld": account["withheld"] + d["withheld_fen"]}
            case "SubsidyReversed":
                account = {**account, "reversed": account["reversed"] + d["fen"]}
            case "PayoutSettled":
                account = {**account, "paid": account["paid"] + d["fen"]}
        rows.put("accounts", account)
        district = account["district"]  # a payout settles the whole month: the account's first district
        if fact.type == "SubsidyAwarded":
            district = d["district"]
            rows.put("pieces", {"account_id": fact.stream, "piece_id": d["piece_id"], "district": district})
        elif fact.type == "SubsidyReversed":
            award = rows.get("pieces", fact.stream, d["piece_id"])
            district = award["district"] if award else district
        if fact.type in LEDGER_KIND:
            # An account's first event is always an award, so rider and month are known.
            kind, sign = LEDGER_KIND[fact.type]
            rows.add("ledger", {"stream_id": fact.stream, "version": fact.version, "rider_id": account["rider_id"],
                                "district": district, "period": account["period"], "at": fact.at,
                                "kind": kind, "piece_id": d.get("piece_id"), "delta": sign * d["fen"]})


# --- queries -------------------------------------------------------------------------

ACCOUNT_COLUMNS = ("account_id", "rider_id", "district", "period", "awarded", "withheld", "reversed", "paid")


def rider_balances(store: ReadStore, rider_id: str) -> dict[str, Any]:
    rows = store.read(f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM {Balances().t['accounts']} WHERE rider_id = ? "
                      "ORDER BY period, account_id", (rider_id,))
    months = [dict(zip(ACCOUNT_COLUMNS, row)) for row in rows]
    for month in months:
        month["payable"] = month["awarded"] - month["reversed"] - month["paid"]
    total = {k: sum(m[k] for m in months) for k in ("awarded", "withheld", "reversed", "paid", "payable")}
    return {"rider_id": rider_id, "months": months, "total": total}


def district_budgets(store: ReadStore, district: str, period: str | None = None) -> list[dict[str, Any]]:
    sql = (f"SELECT district, period, allocated, committed, released FROM {Balances().t['budgets']} "
           "WHERE district = ?" + (" AND period = ?" if period else "") + " ORDER BY period")
    rows = store.read(sql, (district, period) if period else (district,))
    return [{"district": d, "period": p, "allocated": a, "committed": c - r, "remaining": a - c + r}
            for d, p, a, c, r in rows]


def balance_as_of(store: ReadStore, rider_id: str, instant: datetime) -> int:
    """Awarded − reversed − paid over every event up to and including `instant`."""
    row = store.read(f"SELECT COALESCE(SUM(delta), 0) FROM {Balances().t['ledger']} WHERE rider_id = ? AND at <= ?",
                     (rider_id, ts(instant)))
    return int(row[0][0])
