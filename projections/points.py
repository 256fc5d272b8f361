"""Points per rider: the balance, and what was earned, redeemed and expired."""

from __future__ import annotations

from typing import Any

from domain.points import PointsEarned, PointsExpired, PointsRedeemed
from projections.base import Projection
from projections.facts import Fact
from projections.rows import Rows, Table
from projections.stores import ReadStore


TEXT, NULLABLE, COUNT = "TEXT NOT NULL", "TEXT", "BIGINT NOT NULL"
KINDS = {"PointsEarned": ("earned", 1), "PointsRedeemed": ("redeemed", -1), "PointsExpired": ("expired", -1)}


class Points(Projection):
    name = "points"
    weight = 0.15
    by_stream = True  # a rider's balance is the rider's points stream's alone (one per rider)
    handles = (PointsEarned, PointsRedeemed, PointsExpired)
    tables = {
        "balances": Table({"rider_id": TEXT, "balance": COUNT, "earned": COUNT, "redeemed": COUNT,
                           "expired": COUNT}, key=("rider_id",)),
        "history": Table({"stream_id": TEXT, "version": COUNT, "rider_id": TEXT, "at": TEXT, "kind": TEXT,
                          "points": COUNT, "item": NULLABLE, "partner": NULLABLE, "piece_id": NULLABLE},
                         key=("stream_id", "version"), append_only=True),
    }
    indexes = {"history": ("rider_id, at",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [("balances", (fact.data["rider_id"],))]

    def apply(self, rows: Rows, fact: Fact) -> None:
        d = fact.data
        kind, sign = KINDS[fact.type]
        balance = rows.get("balances", d["rider_id"]) or {"rider_id": d["rider_id"], "balance": 0, "earned": 0,
                                                          "redeemed": 0, "expired": 0}
        rows.put("balances", {**balance, "balance": balance["balance"] + sign * d["points"],
                              kind: balance[kind] + d["points"]})
        rows.add("history", {"stream_id": fact.stream, "version": fact.version, "rider_id": d["rider_id"],
                             "at": fact.at, "kind": kind, "points": d["points"], "item": d.get("item"),
                             "partner": d.get("partner"), "piece_id": d.get("piece_id")})


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
