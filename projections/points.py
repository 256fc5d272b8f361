"""Points per rider: the balance, and what was earned, redeemed and expired."""

from __future__ import annotations

from typing import Any

from domain.points import PointsEarned, PointsExpired, PointsRedeemed
from projections.base import Projection, ts
from projections.store import ReadStore, Tx


class Points(Projection):
    name = "points"
    handles = (PointsEarned, PointsRedeemed, PointsExpired)
    tables = {
        "balances": "rider_id TEXT PRIMARY KEY, balance BIGINT NOT NULL, earned BIGINT NOT NULL, "
                    "redeemed BIGINT NOT NULL, expired BIGINT NOT NULL",
        "history": "stream_id TEXT NOT NULL, version BIGINT NOT NULL, rider_id TEXT NOT NULL, at TEXT NOT NULL, "
                   "kind TEXT NOT NULL, points BIGINT NOT NULL, item TEXT, partner TEXT, piece_id TEXT, "
                   "PRIMARY KEY (stream_id, version)",
    }
    keys = {"balances": "rider_id", "history": "stream_id, version"}
    indexes = {"history": ("rider_id, at",)}

    def apply(self, tx: Tx, e: Any) -> None:
        kind, column, sign = {PointsEarned: ("earned", "earned", 1), PointsRedeemed: ("redeemed", "redeemed", -1),
                              PointsExpired: ("expired", "expired", -1)}[type(e)]
        rider = str(e.rider_id)
        tx.execute(self.sql("INSERT INTO {balances} VALUES (?, 0, 0, 0, 0) ON CONFLICT (rider_id) DO NOTHING"),
                   (rider,))
        tx.execute(self.sql(f"UPDATE {{balances}} SET balance = balance + ?, {column} = {column} + ? "
                            "WHERE rider_id = ?"), (sign * e.points, e.points, rider))
        tx.execute(self.sql("INSERT INTO {history} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                   (str(e.originator_id), e.originator_version, rider, ts(e.timestamp), kind, e.points,
                    getattr(e, "item", None), getattr(e, "partner", None),
                    str(e.piece_id) if isinstance(e, PointsEarned) else None))


def rider_points(store: ReadStore, rider_id: str) -> dict[str, Any]:
    p = Points()
    row = store.read(f"SELECT balance, earned, redeemed, expired FROM {p.t['balances']} WHERE rider_id = ?",
                     (rider_id,))
    balance = dict(zip(("balance", "earned", "redeemed", "expired"), row[0])) if row else \
        {"balance": 0, "earned": 0, "redeemed": 0, "expired": 0}
    history = store.read(f"SELECT at, kind, points, item, partner, piece_id FROM {p.t['history']} "
                         "WHERE rider_id = ? AND kind <> 'earned' ORDER BY at, stream_id, version", (rider_id,))
    return {"rider_id": rider_id, **balance,
            "redemptions": [dict(zip(("at", "kind", "points", "item", "partner", "piece_id"), r)) for r in history]}
