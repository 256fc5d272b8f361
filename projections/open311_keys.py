"""The district's Open311 keys as its admins list them: label, whose (a rider, or none: a service's), when
issued and by whom, when revoked and why. Never the secret, which the engine does not have; a request's key
is checked against its stream, not here (GridGovernance.open311_key)."""

from __future__ import annotations

from typing import Any

from domain.open311_keys import Open311KeyIssued, Open311KeyRevoked
from projections.base import Projection
from projections.facts import Fact
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE = "TEXT NOT NULL", "TEXT"
KEYS = {"key_id": TEXT, "district": TEXT, "rider_id": NULLABLE, "label": TEXT, "issued_at": TEXT,
        "issued_by": TEXT, "revoked_at": NULLABLE, "revoke_reason": NULLABLE}


class Open311Keys(Projection):
    name = "open311_keys"
    weight = 0.01
    by_stream = True  # a key's row from the key's own stream
    handles = (Open311KeyIssued, Open311KeyRevoked)
    tables = {"keys": Table(KEYS, key=("key_id",))}
    indexes = {"keys": ("district",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [("keys", (fact.stream,))] if fact.type == "Open311KeyRevoked" else []

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        match fact.type:
            case "Open311KeyIssued":
                rows.put("keys", {"key_id": fact.stream, "district": d["district"], "rider_id": d.get("rider_id"),
                                  "label": d["label"], "issued_at": fact.at, "issued_by": d["issued_by"],
                                  "revoked_at": None, "revoke_reason": None})
            case "Open311KeyRevoked":
                rows.update("keys", (fact.stream,), revoked_at=fact.at, revoke_reason=d["reason"])


def district_keys(store: ReadStore, district: str) -> list[dict[str, Any]]:
    """The district's keys, live ones first, then newest first."""
    rows = store.read(f"SELECT {', '.join(KEYS)} FROM {Open311Keys().table_names['keys']} WHERE district = ? "
                      f"ORDER BY revoked_at IS NOT NULL, issued_at DESC, key_id", (district,))
    return [dict(zip(KEYS, row)) for row in rows]
