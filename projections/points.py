"""Points per rider: what is available, held for a redemption and spent, and what
was earned and expired (and redeemed, by the retired direct redemptions); with the
history. available + held + spent + redeemed = earned − expired."""

from __future__ import annotations

from typing import Any

import orjson

from domain.points import PointsEarned, PointsExpired, PointsHeld, PointsRedeemed, PointsReleased, PointsSpent
from projections.base import Projection
from projections.facts import Fact
from projections.riders import Riders
from projections.rows import BatchRows, Table
from projections.stores import ReadStore


TEXT, NULLABLE, COUNT = "TEXT NOT NULL", "TEXT", "BIGINT NOT NULL"
# Per event: its kind in the history, and what it moves in the account.
MOVES = {"PointsEarned": ("earned", {"available": 1, "earned": 1}),
         "PointsRedeemed": ("redeemed", {"available": -1, "redeemed": 1}),
         "PointsExpired": ("expired", {"available": -1, "expired": 1}),
         "PointsHeld": ("held", {"available": -1, "held": 1}),
         "PointsSpent": ("spent", {"held": -1, "spent": 1}),
         "PointsReleased": ("released", {"held": -1, "available": 1})}
ACCOUNT = ("available", "held", "spent", "earned", "redeemed", "expired")


class Points(Projection):
    name = "points"
    weight = 0.15
    by_stream = True  # a rider's account is the rider's points stream's alone (one per rider)
    handles = (PointsEarned, PointsRedeemed, PointsExpired, PointsHeld, PointsSpent, PointsReleased)
    tables = {
        # `accounts` replaced `balances` (balance, earned, redeemed, expired) when holds came.
        "accounts": Table({"rider_id": TEXT, **{column: COUNT for column in ACCOUNT}}, key=("rider_id",)),
        "history": Table({"stream_id": TEXT, "version": COUNT, "rider_id": TEXT, "at": TEXT, "kind": TEXT,
                          "points": COUNT, "item": NULLABLE, "partner": NULLABLE, "piece_id": NULLABLE},
                         key=("stream_id", "version"), append_only=True),
    }
    indexes = {"history": ("rider_id, at",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [("accounts", (fact.data["rider_id"],))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        kind, moves = MOVES[fact.type]
        account = rows.get("accounts", d["rider_id"]) or {"rider_id": d["rider_id"], **dict.fromkeys(ACCOUNT, 0)}
        rows.put("accounts", {**account, **{column: account[column] + sign * d["points"]
                                            for column, sign in moves.items()}})
        rows.add("history", {"stream_id": fact.stream, "version": fact.version, "rider_id": d["rider_id"],
                             "at": fact.at, "kind": kind, "points": d["points"], "item": d.get("item"),
                             "partner": d.get("partner"), "piece_id": d.get("piece_id")})


def rider_points(store: ReadStore, rider_id: str) -> dict[str, Any]:
    """`balance` is what is available (the name the API had before holds)."""
    p = Points()
    row = store.read(f"SELECT {', '.join(ACCOUNT)} FROM {p.table_names['accounts']} WHERE rider_id = ?", (rider_id,))
    account = dict(zip(ACCOUNT, row[0])) if row else dict.fromkeys(ACCOUNT, 0)
    history = store.read(f"SELECT at, kind, points, item, partner, piece_id FROM {p.table_names['history']} "
                         "WHERE rider_id = ? AND kind <> 'earned' ORDER BY at, stream_id, version", (rider_id,))
    return {"rider_id": rider_id, "balance": account["available"], **account,
            "redemptions": [dict(zip(("at", "kind", "points", "item", "partner", "piece_id"), r)) for r in history]}


def riders_with_points(store: ReadStore) -> list[tuple[str, list[str]]]:
    """Riders with points available, by id, and the districts they have been in (the
    riders read model's): whom a month's points expiry may concern."""
    points, riders = Points().table_names["accounts"], Riders().table_names["riders"]
    rows = store.read(f"SELECT a.rider_id, r.districts FROM {points} a JOIN {riders} r ON r.rider_id = a.rider_id "
                      "WHERE a.available > 0 ORDER BY a.rider_id")
    return [(rider, orjson.loads(districts)) for rider, districts in rows]
