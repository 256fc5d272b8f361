"""Subsidy balances per rider and month, budgets per district and month, and the
ledger of every movement, which answers "what was the balance at instant T"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.rates import BudgetAllocated, BudgetCommitted, BudgetReleased
from domain.subsidies import PayoutSettled, SubsidyAwarded, SubsidyCapped, SubsidyReversed
from projections.base import Projection, ts
from projections.store import ReadStore, Tx


class Balances(Projection):
    name = "balances"
    handles = (SubsidyAwarded, SubsidyCapped, SubsidyReversed, PayoutSettled, BudgetAllocated, BudgetCommitted,
               BudgetReleased)
    tables = {
        "accounts": "account_id TEXT PRIMARY KEY, rider_id TEXT NOT NULL, district TEXT NOT NULL, "
                    "period TEXT NOT NULL, awarded BIGINT NOT NULL, withheld BIGINT NOT NULL, "
                    "reversed BIGINT NOT NULL, paid BIGINT NOT NULL",
        "budgets": "budget_id TEXT PRIMARY KEY, district TEXT NOT NULL, period TEXT NOT NULL, "
                   "allocated BIGINT NOT NULL, committed BIGINT NOT NULL, released BIGINT NOT NULL",
        # One row per movement of a balance; the key makes a redelivery a no-op even
        # if the streams table were lost.
        "ledger": "stream_id TEXT NOT NULL, version BIGINT NOT NULL, rider_id TEXT NOT NULL, district TEXT NOT NULL, "
                  "period TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, piece_id TEXT, delta BIGINT NOT NULL, "
                  "PRIMARY KEY (stream_id, version)",
    }
    keys = {"accounts": "account_id", "budgets": "budget_id", "ledger": "stream_id, version"}
    indexes = {"accounts": ("rider_id", "district, period"), "ledger": ("rider_id, at",)}

    def apply(self, tx: Tx, e: Any) -> None:
        stream = str(e.originator_id)
        match e:
            case SubsidyAwarded():
                tx.execute(self.sql("INSERT INTO {accounts} VALUES (?, ?, ?, ?, ?, 0, 0, 0) ON CONFLICT (account_id) "
                                    "DO UPDATE SET awarded = {accounts}.awarded + excluded.awarded"),
                           (stream, str(e.rider_id), e.district, e.period, e.fen))
                self._movement(tx, e, "award", str(e.piece_id), e.fen)
            case SubsidyCapped():
                tx.execute(self.sql("UPDATE {accounts} SET withheld = withheld + ? WHERE account_id = ?"),
                           (e.withheld_fen, stream))
            case SubsidyReversed():
                tx.execute(self.sql("UPDATE {accounts} SET reversed = reversed + ? WHERE account_id = ?"),
                           (e.fen, stream))
                self._movement(tx, e, "reversal", str(e.piece_id), -e.fen)
            case PayoutSettled():
                tx.execute(self.sql("UPDATE {accounts} SET paid = paid + ? WHERE account_id = ?"), (e.fen, stream))
                self._movement(tx, e, "payout", None, -e.fen)
            case BudgetAllocated() | BudgetCommitted() | BudgetReleased():
                column = {BudgetAllocated: "allocated", BudgetCommitted: "committed", BudgetReleased: "released"}[type(e)]
                tx.execute(self.sql(f"INSERT INTO {{budgets}} VALUES (?, ?, ?, 0, 0, 0) ON CONFLICT (budget_id) DO NOTHING"),
                           (stream, e.district, e.period))
                tx.execute(self.sql(f"UPDATE {{budgets}} SET {column} = {column} + ? WHERE budget_id = ?"),
                           (e.fen, stream))

    def _movement(self, tx: Tx, e: Any, kind: str, piece: str | None, delta: int) -> None:
        # An account's first event is always an award, so its row is there to copy from.
        tx.execute(self.sql("INSERT INTO {ledger} SELECT ?, ?, rider_id, district, period, ?, ?, ?, ? "
                            "FROM {accounts} WHERE account_id = ? ON CONFLICT DO NOTHING"),
                   (str(e.originator_id), e.originator_version, ts(e.timestamp), kind, piece, delta,
                    str(e.originator_id)))


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
