"""Photos as evidence: who uploaded each (by its hash), when, and which clues and
tasks cite it, in which district and grid. Scoping reads it (a photo is seen by
its uploader and by whoever may see a clue or task citing it), and the sweep
finds here the photos uploaded long ago and never cited, and which blobs are a kept photo's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.photos import PhotoCited, PhotoRemoved, PhotoUploaded
from projections.base import Projection
from projections.facts import Fact, ts
from projections.rows import BatchRows, Table
from projections.stores import ReadStore

TEXT, NULLABLE, NUMBER = "TEXT NOT NULL", "TEXT", "BIGINT NOT NULL"
COLUMNS = {"sha256": TEXT, "photo_id": TEXT, "rider_id": TEXT, "thumb_sha256": TEXT, "bytes": NUMBER,
           "width": NUMBER, "height": NUMBER, "uploaded_at": TEXT, "cited": NUMBER, "removed": NUMBER}
CITES = {"photo_id": TEXT, "version": NUMBER, "sha256": TEXT, "cited_by": TEXT, "ref_id": TEXT, "district": TEXT,
         "grid_id": NULLABLE, "cited_at": TEXT}


class Photos(Projection):
    name = "photos"
    weight = 0.05
    by_stream = True  # every row is one photo's stream's
    handles = (PhotoUploaded, PhotoCited, PhotoRemoved)
    tables = {"photos": Table(COLUMNS, key=("sha256",)),
              "cites": Table(CITES, key=("photo_id", "version"), append_only=True)}
    indexes = {"photos": ("removed, cited, uploaded_at",), "cites": ("sha256",)}

    def touches(self, fact: Fact) -> list[tuple[str, tuple[Any, ...]]]:
        return [] if fact.type == "PhotoUploaded" else [("photos", (fact.data["sha256"],))]

    def apply(self, rows: BatchRows, fact: Fact) -> None:
        d = fact.data
        match fact.type:
            case "PhotoUploaded":
                rows.put("photos", {"sha256": d["sha256"], "photo_id": fact.stream, "rider_id": d["rider_id"],
                                    "thumb_sha256": d["thumb_sha256"], "bytes": d["bytes"], "width": d["width"],
                                    "height": d["height"], "uploaded_at": fact.at, "cited": 0, "removed": 0})
            case "PhotoCited":
                rows.update("photos", (d["sha256"],), cited=1)
                rows.add("cites", {"photo_id": fact.stream, "version": fact.version, "sha256": d["sha256"],
                                   "cited_by": d["by"], "ref_id": d["ref_id"], "district": d["district"],
                                   "grid_id": d.get("grid_id"), "cited_at": fact.at})
            case "PhotoRemoved":
                rows.update("photos", (d["sha256"],), removed=1)


# --- queries -------------------------------------------------------------------------

def photo(store: ReadStore, sha256: str) -> dict[str, Any] | None:
    """A photo kept (not removed), with what cites it: `cites`, each {cited_by, ref_id, district, grid_id}."""
    names = Photos().table_names
    found = store.read(f"SELECT {', '.join(COLUMNS)} FROM {names['photos']} WHERE sha256 = ? AND removed = 0",
                       (sha256,))
    if not found:
        return None
    row = dict(zip(COLUMNS, found[0]))
    cites = store.read(f"SELECT cited_by, ref_id, district, grid_id FROM {names['cites']} WHERE sha256 = ? "
                       "ORDER BY cited_at", (sha256,))
    row["cites"] = [dict(zip(("cited_by", "ref_id", "district", "grid_id"), cite)) for cite in cites]
    row["districts"] = sorted({cite["district"] for cite in row["cites"]})
    return row


def never_cited(store: ReadStore, before: datetime, limit: int = 1000) -> list[str]:
    """Photos kept, uploaded before `before` and never cited: what the sweep removes."""
    rows = store.read(f"SELECT sha256 FROM {Photos().table_names['photos']} WHERE removed = 0 AND cited = 0 "
                      "AND uploaded_at < ? ORDER BY uploaded_at LIMIT ?", (ts(before), limit))
    return [sha256 for sha256, in rows]


def kept_among(store: ReadStore, hashes: list[str], chunk: int = 500) -> set[str]:
    """Those of `hashes` that are photos kept (uploaded, not removed): the sweep's first look at which of
    the blob store's names an upload names. A photo the read model has not seen yet is not among them."""
    table, found = Photos().table_names["photos"], set()
    for start in range(0, len(hashes), chunk):
        part = hashes[start:start + chunk]
        rows = store.read(f"SELECT sha256 FROM {table} WHERE removed = 0 AND sha256 IN "
                          f"({', '.join('?' * len(part))})", tuple(part))
        found.update(sha256 for sha256, in rows)
    return found
