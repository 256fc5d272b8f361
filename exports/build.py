"""What an auditor takes away (docs/audit.md, "Exports"): one district's awards of
some months, each with its whole chain, the payouts of the same accounts, totals
per rider, grid and month, the check of those totals against the balances read
model to the fen, and the checkpoint of the transparency log that holds every
row. The rows are read models; the checkpoint is what lets an auditor prove them.

    export = build(store, tlog, "温江", Months.parse("2026-11", "2026-11"), taken_by="auditor-温江")
    export.reconciled      # every rider's month re-adds to the balances read model
    export.checkpoint      # (size, root, signed note or None)
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from domain.clock import CHINA
from domain.errors import InvalidInput
from domain.time_bounds import MONTH_PATTERN, MONTH_RULE
from exports.names import Names, RiderName
from projections.audit import CHUNK, HistoryFilter, award_chains, district_awards, district_history
from projections.balances import district_slices
from projections.facts import ts
from projections.stores import ReadStore
from transparency.log import NotYetInTree, TransparencyLog
from transparency.proofs import StoredTree

MONTH = re.compile(MONTH_PATTERN)  # ASCII digits, within the engine's window: \d takes ２０２６ too
MOST_MONTHS = 24  # a two-year span; longer ones are several exports
AMOUNTS = ("awarded_fen", "withheld_fen", "reversed_fen", "paid_fen")
# Which step of a piece moves money, and which amount of its event that is.
MONEY = {"SubsidyAwarded": ("awarded_fen", "fen"), "SubsidyCapped": ("withheld_fen", "withheld_fen"),
         "SubsidyReversed": ("reversed_fen", "fen")}
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Months:
    """An inclusive span of months (YYYY-MM), as subsidy accounts are kept."""

    first: str
    last: str

    @classmethod
    def parse(cls, first: str, last: str) -> Months:
        for name, value in (("from", first), ("to", last)):
            if not isinstance(value, str) or not MONTH.fullmatch(value):
                shown = value[:40] if isinstance(value, str) else value
                raise InvalidInput(f"`{name}`: {MONTH_RULE} (like 2026-11), not {shown!r}", **{name: shown})
        if last < first:
            raise InvalidInput(f"`to` ({last}) is before `from` ({first})", to=last)
        span = cls(first, last)
        if span.count > MOST_MONTHS:
            raise InvalidInput(f"an export covers at most {MOST_MONTHS} months; split {first}…{last}", to=last)
        return span

    @property
    def count(self) -> int:
        (y1, m1), (y2, m2) = (map(int, p.split("-")) for p in (self.first, self.last))
        return (y2 - y1) * 12 + m2 - m1 + 1

    def utc_bounds(self) -> tuple[str, str]:
        """From the first month's start to the end of the last, in China, as UTC text:
        an award's month is the month in China when it was made."""
        year, month = map(int, self.last.split("-"))
        after = f"{year + month // 12}-{month % 12 + 1:02d}"
        return _month_start(self.first), _month_start(after)

    def __contains__(self, period: str) -> bool:
        return self.first <= period <= self.last


def _month_start(period: str) -> str:
    year, month = map(int, period.split("-"))
    return ts(datetime(year, month, 1, tzinfo=CHINA))


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: str  # hex
    note: str | None  # the signed note; None where checkpoints are off (no signing key)
    verifier_key: str | None


@dataclass
class Export:
    district: str
    months: Months
    taken_at: str  # UTC text
    taken_by: str
    checkpoint: Checkpoint
    steps: list[dict[str, Any]]  # every step of every award's chain, award by award
    payouts: list[dict[str, Any]]
    by_rider: list[dict[str, Any]] = field(default_factory=list)
    by_grid: list[dict[str, Any]] = field(default_factory=list)
    by_month: list[dict[str, Any]] = field(default_factory=list)
    # Where a rider's month in the export and in the balances read model disagree.
    differences: list[dict[str, Any]] = field(default_factory=list)
    names: Names = field(default_factory=Names)
    rate_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # rate code -> (中文, English)

    @property
    def awards(self) -> int:
        return sum(1 for s in self.steps if s["awarded_fen"] is not None)

    @property
    def reconciled(self) -> bool:
        return not self.differences


def build(store: ReadStore, tlog: TransparencyLog, district: str, months: Months, taken_by: str,
          progress: Progress | None = None, rider_name: RiderName | None = None) -> Export:
    """`progress(done, total)` as awards are read. Rows the sequencer has not reached
    yet are sequenced here (`TransparencyLog.sequence_to`). `rider_name`: a rider's
    full name (None once erased), which the export shows masked; without it riders
    are shown as erased, by id only."""
    pieces = district_awards(store, district, *months.utc_bounds())
    chains: dict[str, Any] = {}
    if progress:
        progress(0, len(pieces))
    for start in range(0, len(pieces), CHUNK):
        chains.update(award_chains(store, pieces[start:start + CHUNK]))
        if progress:
            progress(len(chains), len(pieces))
    steps, payouts = _rows([chains[p] for p in pieces])
    _place(tlog, [*steps, *payouts])
    # Within an award's chain, log order: steps of one instant (one command's) as they happened.
    order = {piece: i for i, piece in enumerate(pieces)}
    steps.sort(key=lambda row: (order[row["piece_id"]], row["position"]))
    export = Export(district, months, ts(datetime.now(timezone.utc)), taken_by, _checkpoint(tlog), steps, payouts)
    export.names = Names.read(store, district, _riders_named(steps, payouts),
                              {row["actor_id"] for row in [*steps, *payouts]}, rider_name)
    export.rate_names = _rate_names(store, district)
    _add_totals(export)
    export.differences = _differences(export, _slices(store, district, months))
    return export


def _riders_named(steps: list[dict[str, Any]], payouts: list[dict[str, Any]]) -> set[str]:
    """The riders a row names: the award's, those who acted, those a step is about."""
    riders = {row["rider_id"] for row in [*steps, *payouts]}
    riders |= {row["actor_id"] for row in steps if row["actor_role"] == "rider"}
    riders |= {row["detail"][f] for row in steps for f in ("rider_id", "reporter_id") if row["detail"].get(f)}
    return riders


def _rate_names(store: ReadStore, district: str) -> dict[str, tuple[str, str]]:
    """Each rate code's words, as the district's schedules named it (the latest naming wins)."""
    names: dict[str, tuple[str, str]] = {}
    after = None
    while True:
        page = district_history(store, district, after, 500, HistoryFilter(kinds=("RateScheduleIssued",)))
        for step in page:
            for code, rate in (step["detail"].get("rates") or {}).items():
                if rate.get("name_zh") or rate.get("name_en"):
                    names[code] = (rate.get("name_zh") or rate.get("name_en"), rate.get("name_en") or rate["name_zh"])
        if len(page) < 500:
            return names
        after = (page[-1]["at"], page[-1]["stream_id"], page[-1]["version"])


def _rows(chains: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One row per step of each chain, money on the piece's own steps; each payout once."""
    steps, payouts, seen = [], [], set()
    for chain in chains:
        piece = chain["piece_id"]
        award = next(s for s in chain["steps"] if s["kind"] == "SubsidyAwarded" and s["subject_id"] == piece)
        rider, period = award["detail"]["rider_id"], award["detail"]["period"]
        grid = next((s["detail"]["grid_id"] for s in chain["steps"] if s["kind"] == "TaskPublished"), "")
        for step in chain["steps"]:
            row = {"piece_id": piece, "rider_id": rider, "grid_id": grid, "period": period, "kind": step["kind"],
                   "actor_id": step["actor_id"], "actor_role": step["actor_role"], "at": step["at"],
                   "stream_id": step["stream_id"], "version": step["version"], "position": None, "leaf_index": None,
                   "rate_version": step["detail"].get("rate_version") if step is award else None,
                   **dict.fromkeys(AMOUNTS[:3]), "detail": step["detail"]}
            if step["kind"] in MONEY and step["subject_id"] == piece and step["stream_id"] != piece:
                column, amount = MONEY[step["kind"]]
                row[column] = step["detail"][amount]
            steps.append(row)
        for payout in chain["payouts"]:
            key = (payout["stream_id"], payout["version"])
            if key not in seen:
                seen.add(key)
                payouts.append({"account_id": payout["stream_id"], "rider_id": rider, "period": period,
                                "batch_id": payout["detail"]["batch_id"], "paid_fen": payout["detail"]["fen"],
                                "actor_id": payout["actor_id"], "actor_role": payout["actor_role"],
                                "at": payout["at"], "stream_id": payout["stream_id"], "version": payout["version"],
                                "position": None, "leaf_index": None})
    payouts.sort(key=lambda p: (p["at"], p["stream_id"], p["version"]))
    return steps, payouts


def _place(tlog: TransparencyLog, rows: list[dict[str, Any]]) -> None:
    """Each row's log position and leaf index: all of them in the tree, so that one
    checkpoint made after holds them all."""
    tlog.place(rows)
    waiting = [row for row in rows if row["leaf_index"] is None and row["position"] is not None]
    if waiting:
        tlog.sequence_to(max(row["position"] for row in waiting))
        tlog.place(waiting)
    lost = [row for row in rows if row["leaf_index"] is None]
    if lost:
        raise NotYetInTree(f"{len(lost)} steps are not in the transparency log (the first: stream "
                           f"{lost[0]['stream_id']}, version {lost[0]['version']})")


def _checkpoint(tlog: TransparencyLog) -> Checkpoint:
    """The tree as it is now, signed if this engine signs; it holds every row placed before."""
    verifier = tlog.verifier
    if tlog.signer is not None:
        kept = tlog.checkpoint()
        return Checkpoint(kept.size, kept.root.hex(), kept.note, verifier.text() if verifier else None)
    size = tlog.size()
    return Checkpoint(size, StoredTree(tlog.tree, size).root().hex(), None, None)


def _add_totals(export: Export) -> None:
    riders: dict[tuple[str, str], dict[str, Any]] = {}
    grids: dict[tuple[str, str], dict[str, Any]] = {}
    for row in export.steps:
        rider = riders.setdefault((row["rider_id"], row["period"]), _zero(rider_id=row["rider_id"],
                                                                          period=row["period"]))
        grid = grids.setdefault((row["grid_id"], row["period"]), _zero(grid_id=row["grid_id"], period=row["period"]))
        for total in (rider, grid):
            total["awards"] += row["awarded_fen"] is not None  # the award's own row
            for column in AMOUNTS[:3]:
                total[column] += row[column] or 0
    for payout in export.payouts:
        riders[(payout["rider_id"], payout["period"])]["paid_fen"] += payout["paid_fen"]
    months: dict[str, dict[str, Any]] = {}
    for total in riders.values():
        total["payable_fen"] = total["awarded_fen"] - total["reversed_fen"] - total["paid_fen"]
        month = months.setdefault(total["period"], {**_zero(period=total["period"]), "riders": 0, "payable_fen": 0})
        month["riders"] += 1
        for column in ("awards", *AMOUNTS, "payable_fen"):
            month[column] += total[column]
    for total in grids.values():
        del total["paid_fen"]  # a payout settles a rider's month in a district, not a grid's work
    export.by_rider = [riders[k] for k in sorted(riders, key=lambda k: (k[1], k[0]))]
    export.by_grid = [grids[k] for k in sorted(grids, key=lambda k: (k[1], k[0]))]
    export.by_month = [months[k] for k in sorted(months)]


def _zero(**key: str) -> dict[str, Any]:
    return {**key, "awards": 0, **dict.fromkeys(AMOUNTS, 0)}


def _slices(store: ReadStore, district: str, months: Months) -> dict[tuple[str, str], dict[str, int]]:
    """The balances read model's rider months in `district`: what the export must re-add to."""
    return {key: {f"{column}_fen": fen for column, fen in amounts.items()}
            for key, amounts in district_slices(store, district, months.first, months.last).items()}


def _differences(export: Export, slices: dict[tuple[str, str], dict[str, int]]) -> list[dict[str, Any]]:
    exported = {(t["rider_id"], t["period"]): t for t in export.by_rider}
    differences = []
    for key in sorted(exported.keys() | slices.keys(), key=lambda k: (k[1], k[0])):
        mine, theirs = exported.get(key, {}), slices.get(key, {})
        for column in AMOUNTS:
            if mine.get(column, 0) != theirs.get(column, 0):
                differences.append({"rider_id": key[0], "period": key[1], "column": column,
                                    "exported": mine.get(column, 0), "read_model": theirs.get(column, 0)})
    return differences
