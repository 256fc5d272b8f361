"""Riders' profiles: platform, station, grids and districts, certificates,
suspension and erasure. Name and phone are not here: they stay sealed in the
events and are unsealed per request for those who may see them (api)."""

from __future__ import annotations

from typing import Any

import orjson

from domain.riders import (PersonalDataErased, RiderJoinedGrid, RiderLeftGrid, RiderRegistered, RiderReinstated,
                           RiderSuspended, SupervisorCertified)
from projections.base import Projection
from projections.facts import Fact
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE, FLAG = "TEXT NOT NULL", "TEXT", "INTEGER NOT NULL"
COLUMNS = {"rider_id": TEXT, "platform": TEXT, "station": TEXT, "grids": TEXT, "districts": TEXT,
           "certificate": NULLABLE, "suspended": FLAG, "erased": FLAG, "registered_at": TEXT, "updated_at": TEXT}


class Riders(Projection):
    name = "riders"
    weight = 0.05
    by_stream = True  # a rider's row by the rider's own stream
    handles = (RiderRegistered, RiderJoinedGrid, RiderLeftGrid, SupervisorCertified, RiderSuspended,
               RiderReinstated, PersonalDataErased)
    tables = {"riders": Table(COLUMNS, key=("rider_id",))}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [] if fact.type == "RiderRegistered" else [("riders", (fact.stream,))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d, key, at = fact.data, (fact.stream,), fact.at
        if fact.type == "RiderRegistered":
            rows.put("riders", {"rider_id": fact.stream, "platform": d["platform"], "station": d["station"],
                                "grids": "[]", "districts": "[]", "certificate": None, "suspended": 0,
                                "erased": 0, "registered_at": at, "updated_at": at})
            return
        rider = rows.get("riders", *key)
        assert rider is not None
        grids, districts = orjson.loads(rider["grids"]), orjson.loads(rider["districts"])
        match fact.type:
            case "RiderJoinedGrid":
                grids = sorted({*grids, d["grid_id"]})
                districts = sorted({*districts, d["district"]})  # a rider stays of a district it has been in
                rows.update("riders", key, grids=_json(grids), districts=_json(districts), updated_at=at)
            case "RiderLeftGrid":
                rows.update("riders", key, grids=_json([g for g in grids if g != d["grid_id"]]), updated_at=at)
            case "SupervisorCertified":
                rows.update("riders", key, certificate=d["certificate"], updated_at=at)
            case "RiderSuspended":
                rows.update("riders", key, suspended=1, updated_at=at)
            case "RiderReinstated":
                rows.update("riders", key, suspended=0, updated_at=at)
            case "PersonalDataErased":
                rows.update("riders", key, erased=1, updated_at=at)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def rider_profile(store: ReadStore, rider_id: str) -> dict[str, Any] | None:
    rows = store.read(f"SELECT {', '.join(COLUMNS)} FROM {Riders().table_names['riders']} WHERE rider_id = ?", (rider_id,))
    return _profile(rows[0]) if rows else None


def _profile(row: tuple[Any, ...]) -> dict[str, Any]:
    profile = dict(zip(COLUMNS, row))
    profile["grids"], profile["districts"] = orjson.loads(profile["grids"]), orjson.loads(profile["districts"])
    profile["suspended"], profile["erased"] = bool(profile["suspended"]), bool(profile["erased"])
    return profile


def rider_profiles(store: ReadStore, rider_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The profiles of many riders in one query, by id (those that exist): who may see whose name (api/http/people)."""
    ids = sorted(set(rider_ids))
    if not ids:
        return {}
    rows = store.read(f"SELECT {', '.join(COLUMNS)} FROM {Riders().table_names['riders']} "
                      f"WHERE rider_id IN ({', '.join('?' * len(ids))})", tuple(ids))
    return {profile["rider_id"]: profile for profile in map(_profile, rows)}


def district_riders(store: ReadStore, district: str, limit: int = 5000) -> list[dict[str, Any]]:
    """The riders who have been in the district (joined one of its grids), first registered first."""
    pattern = "%" + _json(district).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = store.read(f"SELECT {', '.join(COLUMNS)} FROM {Riders().table_names['riders']} "
                      f"WHERE districts LIKE ? ESCAPE '\\' ORDER BY registered_at, rider_id LIMIT ?", (pattern, limit))
    return [profile for profile in map(_profile, rows) if district in profile["districts"]]
