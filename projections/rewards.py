"""Rewards as riders, partners and committees see them: the stations, the partners,
each district's catalogue with its stock, every redemption with its status, and
each district's points expiry policy.

Every row is one stream's own (a station's, a partner's, an item's — its stock
moves with StockReserved/StockReturned on the item's stream — or a redemption's),
so a rebuild may fill it in shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.catalogue import ItemListed, ItemRevised, ItemWithdrawn, StockReserved, StockReturned
from domain.clock import local_month
from domain.clues import Location, distance_m
from domain.partners import PartnerRegistered
from domain.points_policy import PointsPolicySet
from domain.redemptions import (RedemptionCodeRenewed, RedemptionConfirmed, RedemptionExpired, RedemptionHeld,
                                RedemptionLocked, RedemptionRefused)
from domain.stations import StationClosed, StationRegistered, StationUpdated
from projections.base import Projection
from projections.facts import Fact
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE, COUNT, REAL = "TEXT NOT NULL", "TEXT", "BIGINT NOT NULL", "FLOAT8 NOT NULL"
STATIONS = {"station_id": TEXT, "district": TEXT, "name": TEXT, "address": TEXT, "lat": REAL, "lon": REAL,
            "hours": TEXT, "services": TEXT, "open": COUNT, "updated_at": TEXT}
PARTNERS = {"partner_id": TEXT, "district": TEXT, "name": TEXT, "kind": TEXT, "station_id": NULLABLE}
ITEMS = {"item_id": TEXT, "district": TEXT, "partner_id": TEXT, "version": COUNT, "name": TEXT,
         "price_points": COUNT, "valid_from": TEXT, "valid_to": TEXT, "hold_minutes": COUNT, "stock": COUNT,
         "reserved": COUNT, "withdrawn": COUNT}
REDEMPTIONS = {"redemption_id": TEXT, "rider_id": TEXT, "district": TEXT, "item_id": TEXT, "item_version": COUNT,
               "item_name": TEXT, "partner_id": TEXT, "points": COUNT, "status": TEXT, "held_at": TEXT,
               "expires_at": TEXT, "closed_at": NULLABLE, "month": NULLABLE, "reason": NULLABLE}
POLICIES = {"district": TEXT, "expire_after_months": COUNT, "version": COUNT, "set_at": TEXT}
CLOSING = {"RedemptionConfirmed": "confirmed", "RedemptionRefused": "refused", "RedemptionExpired": "expired"}


class Rewards(Projection):
    name = "rewards"
    weight = 0.05
    by_stream = True
    handles = (StationRegistered, StationUpdated, StationClosed, PartnerRegistered, ItemListed, ItemRevised,
               ItemWithdrawn, StockReserved, StockReturned, RedemptionHeld, RedemptionConfirmed, RedemptionRefused,
               RedemptionExpired, RedemptionLocked, RedemptionCodeRenewed, PointsPolicySet)
    tables = {"stations": Table(STATIONS, key=("station_id",)), "partners": Table(PARTNERS, key=("partner_id",)),
              "items": Table(ITEMS, key=("item_id",)), "redemptions": Table(REDEMPTIONS, key=("redemption_id",)),
              "policies": Table(POLICIES, key=("district",))}
    indexes = {"stations": ("district, open",), "partners": ("district",), "items": ("district",),
               "redemptions": ("partner_id, status", "rider_id", "district, month")}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        table = {"Station": "stations", "Item": "items", "Stock": "items", "Redemption": "redemptions"}
        return [(t, (fact.stream,)) for prefix, t in table.items() if fact.type.startswith(prefix)]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d, key = fact.data, (fact.stream,)
        match fact.type:
            case "StationRegistered":
                rows.put("stations", {"station_id": fact.stream, "district": d["district"],
                                      **_described(d["description"]), "open": 1, "updated_at": fact.at})
            case "StationUpdated":
                rows.update("stations", key, **_described(d["description"]), updated_at=fact.at)
            case "StationClosed":
                rows.update("stations", key, open=0, updated_at=fact.at)
            case "PartnerRegistered":
                rows.put("partners", {"partner_id": fact.stream, "district": d["district"], "name": d["name"],
                                      "kind": d["kind"], "station_id": d.get("station_id")})
            case "ItemListed":
                rows.put("items", {"item_id": fact.stream, "district": d["district"], "partner_id": d["partner_id"],
                                   "version": d["version"], **_terms(d["terms"]), "stock": d["stock"],
                                   "reserved": 0, "withdrawn": 0})
            case "ItemRevised":
                item = rows.get("items", *key)
                assert item is not None
                rows.update("items", key, version=d["version"], **_terms(d["terms"]),
                            stock=item["stock"] + d["stock_added"])
            case "ItemWithdrawn":
                rows.update("items", key, withdrawn=1)
            case "StockReserved" | "StockReturned":
                item = rows.get("items", *key)
                assert item is not None
                rows.update("items", key, reserved=item["reserved"] + (1 if fact.type == "StockReserved" else -1))
            case "RedemptionHeld":
                rows.put("redemptions", {"redemption_id": fact.stream, "status": "held", "held_at": fact.at,
                                         "closed_at": None, "month": None, "reason": None,
                                         **{k: d[k] for k in ("rider_id", "district", "item_id", "item_version",
                                                              "item_name", "partner_id", "points", "expires_at")}})
            case "PointsPolicySet":
                rows.put("policies", {"district": d["district"], "expire_after_months": d["expire_after_months"],
                                      "version": d["version"], "set_at": fact.at})
            case "RedemptionLocked" | "RedemptionCodeRenewed":  # too many wrong codes; the rider's new code
                rows.update("redemptions", key, status="locked" if fact.type == "RedemptionLocked" else "held")
            case "RedemptionConfirmed" | "RedemptionRefused" | "RedemptionExpired":
                rows.update("redemptions", key, status=CLOSING[fact.type], closed_at=fact.at, reason=d.get("reason"),
                            month=local_month(datetime.fromisoformat(fact.at)))


def _described(description: dict[str, Any]) -> dict[str, Any]:
    return {"name": description["name"], "address": description["address"], "lat": description["location"]["lat"],
            "lon": description["location"]["lon"], "hours": description["hours"],
            "services": ",".join(description["services"])}


def _terms(terms: dict[str, Any]) -> dict[str, Any]:
    return {k: terms[k] for k in ("name", "price_points", "valid_from", "valid_to", "hold_minutes")}


# --- queries -------------------------------------------------------------------------

def _station(row: tuple[Any, ...]) -> dict[str, Any]:
    station: dict[str, Any] = dict(zip(STATIONS, row))
    station["services"] = [s for s in station["services"].split(",") if s]
    station["open"] = bool(station["open"])
    return station


def stations_near(store: ReadStore, near: Location, district: str | None = None,
                  limit: int = 10) -> list[dict[str, Any]]:
    """The nearest open stations, each with its distance in metres. A city has a few
    hundred: measured in Python over the district's (or the city's) open ones."""
    names = Rewards().table_names
    where, args = ("open = 1 AND district = ?", (district,)) if district else ("open = 1", ())
    stations = [_station(r) for r in store.read(f"SELECT {', '.join(STATIONS)} FROM {names['stations']} WHERE {where}",
                                                 args)]
    for station in stations:
        station["distance_m"] = round(distance_m(near, Location(lat=station["lat"], lon=station["lon"])))
    return sorted(stations, key=lambda s: (s["distance_m"], s["station_id"]))[:limit]


def district_stations(store: ReadStore, district: str, closed: bool = False) -> list[dict[str, Any]]:
    """A district's stations by name (with the closed ones, if `closed`)."""
    names = Rewards().table_names
    where = "district = ?" if closed else "district = ? AND open = 1"
    return [_station(r) for r in store.read(f"SELECT {', '.join(STATIONS)} FROM {names['stations']} WHERE {where} "
                                            "ORDER BY name, station_id", (district,))]


def district_partners(store: ReadStore, district: str) -> list[dict[str, Any]]:
    names = Rewards().table_names
    rows = store.read(f"SELECT {', '.join(PARTNERS)} FROM {names['partners']} WHERE district = ? "
                      "ORDER BY name, partner_id", (district,))
    return [dict(zip(PARTNERS, r)) for r in rows]


def points_policy(store: ReadStore, district: str) -> dict[str, Any]:
    """In force now; a district that never set one: points never expire (version 0)."""
    rows = store.read(f"SELECT {', '.join(POLICIES)} FROM {Rewards().table_names['policies']} WHERE district = ?", (district,))
    return dict(zip(POLICIES, rows[0])) if rows else {"district": district, "expire_after_months": 0, "version": 0,
                                                      "set_at": None}


def catalogue(store: ReadStore, district: str, at: str | None = None) -> list[dict[str, Any]]:
    """The district's items with their partner and the stock still available; `at`
    (ISO time): only those on offer then (not withdrawn, within their dates)."""
    names = Rewards().table_names
    rows = store.read(f"SELECT {', '.join('i.' + c for c in ITEMS)}, p.name, p.kind FROM {names['items']} i "
                      f"JOIN {names['partners']} p ON p.partner_id = i.partner_id WHERE i.district = ? "
                      "ORDER BY i.price_points, i.name, i.item_id", (district,))
    items = []
    for row in rows:
        item = dict(zip(ITEMS, row))
        item.update(partner_name=row[-2], partner_kind=row[-1], available=item["stock"] - item["reserved"],
                    withdrawn=bool(item["withdrawn"]))
        if at is None or (not item["withdrawn"] and _on_offer(item, at)):
            items.append(item)
    return items


def _on_offer(item: dict[str, Any], at: str) -> bool:
    when = datetime.fromisoformat(at)
    return datetime.fromisoformat(item["valid_from"]) <= when < datetime.fromisoformat(item["valid_to"])


def partner(store: ReadStore, partner_id: str) -> dict[str, Any] | None:
    names = Rewards().table_names
    rows = store.read(f"SELECT {', '.join(PARTNERS)} FROM {names['partners']} WHERE partner_id = ?", (partner_id,))
    return dict(zip(PARTNERS, rows[0])) if rows else None


def redemptions(store: ReadStore, *, rider_id: str | None = None, partner_id: str | None = None,
                status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """A rider's history or a partner's queue, newest first."""
    names = Rewards().table_names
    where, args = [], []
    for column, value in (("rider_id", rider_id), ("partner_id", partner_id), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    rows = store.read(f"SELECT {', '.join(REDEMPTIONS)} FROM {names['redemptions']} WHERE {' AND '.join(where) or '1=1'} "
                      "ORDER BY held_at DESC, redemption_id LIMIT ?", (*args, limit))
    return [dict(zip(REDEMPTIONS, r)) for r in rows]


def handed_out(store: ReadStore, district: str, month: str) -> list[dict[str, Any]]:
    """For the committees: per partner and item, what was handed over in a month (China
    time) and for how many points; refused and expired holds counted beside."""
    names = Rewards().table_names
    rows = store.read(f"SELECT r.partner_id, p.name, r.item_name, r.status, COUNT(*), SUM(r.points) "
                      f"FROM {names['redemptions']} r JOIN {names['partners']} p ON p.partner_id = r.partner_id "
                      "WHERE r.district = ? AND r.month = ? GROUP BY r.partner_id, p.name, r.item_name, r.status "
                      "ORDER BY p.name, r.partner_id, r.item_name", (district, month))
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for partner_id, name, item, status, count, points in rows:
        row = table.setdefault((partner_id, item), {"partner_id": partner_id, "partner_name": name, "item": item,
                                                    "confirmed": 0, "points_spent": 0, "refused": 0, "expired": 0})
        row[status] = int(count)
        if status == "confirmed":
            row["points_spent"] = int(points)
    return list(table.values())


def lapsed_holds(store: ReadStore, now: datetime) -> list[str]:
    """The redemptions still held whose hold ran out by `now`: the sweep ends them."""
    rows = store.read(f"SELECT redemption_id, expires_at FROM {Rewards().table_names['redemptions']} WHERE status = 'held'")
    return [r for r, expires_at in rows if datetime.fromisoformat(expires_at) <= now]
