"""Each piece a rider was paid for, as the rider is owed an explanation of it: what
its rate said, what was awarded, what a cap or the budget withheld and which, what
a reversal took back and why, and whether an appeal paid it again.

The balances read model sums a month; this one keeps the piece, so the rider's page
can say "¥0.00: the month's budget ran out" on the row the rider would appeal."""

from __future__ import annotations

from typing import Any

from domain.subsidies import AwardReinstated, SubsidyAwarded, SubsidyCapped, SubsidyReversed
from projections.base import Projection
from projections.facts import Fact
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE, FEN = "TEXT NOT NULL", "TEXT", "BIGINT NOT NULL"
COLUMNS = {"account_id": TEXT, "piece_id": TEXT, "rider_id": TEXT, "district": TEXT, "period": TEXT, "day": TEXT,
           "awarded_at": TEXT, "kind": TEXT, "rate_code": TEXT, "rate_fen": FEN, "awarded": FEN, "withheld": FEN,
           "withheld_by": NULLABLE, "reversed": FEN, "reversed_reason": NULLABLE, "reversed_at": NULLABLE,
           "reinstated_by": NULLABLE}


class Pieces(Projection):
    name = "pieces"
    weight = 0.1  # a row per award and a change per cap or reversal: a lighter balances
    by_stream = True  # a piece's row changes only by its month account's events
    handles = (SubsidyAwarded, SubsidyCapped, SubsidyReversed, AwardReinstated)
    tables = {"pieces": Table(COLUMNS, key=("account_id", "piece_id"))}
    indexes = {"pieces": ("rider_id, period",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [] if fact.type == "SubsidyAwarded" else [("pieces", (fact.stream, fact.data["piece_id"]))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        key = (fact.stream, d["piece_id"])
        match fact.type:
            case "SubsidyAwarded":
                rows.put("pieces", {
                    "account_id": fact.stream, "piece_id": d["piece_id"], "rider_id": d["rider_id"],
                    "district": d["district"], "period": d["period"], "day": d["day"], "awarded_at": fact.at,
                    "kind": d.get("kind", "piece"), "rate_code": d.get("rate_code", ""), "rate_fen": d["rate_fen"],
                    "awarded": d["fen"], "withheld": 0, "withheld_by": None, "reversed": 0,
                    "reversed_reason": None, "reversed_at": None, "reinstated_by": None})
            case "SubsidyCapped":
                piece = rows.get("pieces", *key)
                rows.update("pieces", key, withheld=(piece["withheld"] if piece else 0) + d["withheld_fen"],
                            withheld_by=d["limit"])
            case "SubsidyReversed":
                rows.update("pieces", key, reversed=d["fen"], reversed_reason=d["reason"], reversed_at=fact.at)
            case "AwardReinstated":
                rows.update("pieces", key, reinstated_by=d["appeal_id"])


# --- queries -------------------------------------------------------------------------

def rider_pieces(store: ReadStore, rider_id: str, districts: set[str] | None = None, period: str | None = None,
                 limit: int = 100) -> list[dict[str, Any]]:
    """A rider's pieces, newest first: `districts` only those (a district's viewer), `period` one month."""
    where, params = ["rider_id = ?"], [rider_id]
    if districts is not None:
        if not districts:
            return []
        where.append(f"district IN ({', '.join('?' * len(districts))})")
        params.extend(sorted(districts))
    if period:
        where.append("period = ?")
        params.append(period)
    rows = store.read(f"SELECT {', '.join(COLUMNS)} FROM {Pieces().table_names['pieces']} WHERE {' AND '.join(where)} "
                      f"ORDER BY awarded_at DESC, piece_id LIMIT {int(limit)}", tuple(params))
    return [dict(zip(COLUMNS, row)) for row in rows]
