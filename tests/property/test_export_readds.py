"""An auditor's export re-adds to the balances read model, to the fen, whatever
the history: the subsidy ledger's state machine (awards in two districts, caps,
reversals by the right and the wrong district, payouts, appeals and remedies,
months passing) runs, and at its end each district's export is written as XLSX
and as CSV, read back from the bytes alone, every amount re-added per rider and
month and compared with `rider_balances`; every row's position is a leaf of the
export's checkpoint, and the signed note verifies."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter, defaultdict
from typing import Any

import pytest
from openpyxl import load_workbook

from domain.clock import local_month
from exports.build import Months, build
from exports.files import HEADERS, TABLES, write
from gridgov.bootstrap import log_feed
from projections.balances import rider_balances
from tests.fixtures.apps import run_machine
from tests.fixtures.stores import new_store
from tests.fixtures.world import tour_of_every_event_type
from tests.fixtures.ledger import DISTRICTS, SubsidyLedger
from transparency.checkpoints import Signer
from transparency.log import TransparencyLog
from transparency.store import open_tree_store

ORIGIN = "gridgov.test/exports"
MONEY = ("awarded_fen", "withheld_fen", "reversed_fen", "paid_fen")
BALANCE_COLUMN = {"awarded_fen": "awarded", "withheld_fen": "withheld", "reversed_fen": "reversed",
                  "paid_fen": "paid"}


def read_xlsx(body: bytes, lang: str) -> dict[str, list[dict[str, Any]]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    tables = {}
    for name, (zh, en, columns) in TABLES.items():
        rows = list(book[zh if lang == "zh" else en].iter_rows(values_only=True))
        assert list(rows[0]) == [HEADERS[c][0 if lang == "zh" else 1] for c in columns]
        tables[name] = [dict(zip(columns, row)) for row in rows[1:]]
    summary = {row[0]: row[1] for row in book["说明" if lang == "zh" else "summary"].iter_rows(values_only=True)}
    tables["summary"] = [summary]
    return tables


def read_csv_zip(body: bytes, lang: str) -> dict[str, list[dict[str, Any]]]:
    zipped = zipfile.ZipFile(io.BytesIO(body))
    tables = {}
    for name, (_, _, columns) in TABLES.items():
        text = zipped.read(f"{name}.csv").decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == [HEADERS[c][0 if lang == "zh" else 1] for c in columns]
        tables[name] = [{c: _number(v) for c, v in zip(columns, row)} for row in rows[1:]]
    tables["checkpoint"] = [{"note": zipped.read("checkpoint.txt").decode()}]
    return tables


def _number(text: str) -> Any:
    return int(text) if text.lstrip("-").isdigit() else (None if text == "" else text)


class ExportedLedger(SubsidyLedger):
    seen: Counter[str] = Counter()  # what the exports held, over every example

    def __init__(self) -> None:
        super().__init__()
        for world in self.worlds.values():  # money to move: awards pay, so payouts and reversals happen
            world.budget(fen=50_000)

    def teardown(self) -> None:
        try:
            self.exports_readd()
        finally:
            super().teardown()

    def exports_readd(self) -> None:
        store, cleanup = new_store("sqlite")
        signer = Signer.generate(ORIGIN)
        tlog = TransparencyLog(self.app.eventlog, open_tree_store(self.app.eventlog), ORIGIN, signer)
        try:
            log_feed(self.app, store).catch_up()
            # Every month the history reached: time passes in jumps of up to ten days, and a long
            # run crosses the year (a fixed 2026 range once left a January 2027 slice out).
            months = Months.parse("2026-01", local_month(self.clock.now()))
            for district, lang in zip(DISTRICTS, ("zh", "en")):
                export = build(store, tlog, district, months, "auditor-test")
                self.seen.update(k for k, rows in (("awards", export.steps), ("payouts", export.payouts),
                                                   ("caps", [r for r in export.steps if r["withheld_fen"]]),
                                                   ("reversals", [r for r in export.steps if r["reversed_fen"]]),
                                                   ("remedies", [r for r in export.steps if r["kind"] ==
                                                                 "AwardReinstated"])) if rows)
                assert export.reconciled, export.differences
                assert export.checkpoint.size >= max((r["leaf_index"] + 1 for r in export.steps), default=0)
                signed = signer.verifier().open(export.checkpoint.note, ORIGIN)
                assert signed.root.hex() == export.checkpoint.root
                for tables in (read_xlsx(write(export, "xlsx", lang), lang),
                               read_csv_zip(write(export, "csv", lang), lang)):
                    self.readds(store, district, tables)
                    if "checkpoint" in tables:
                        assert tables["checkpoint"][0]["note"] == export.checkpoint.note
        finally:
            cleanup()

    def readds(self, store: Any, district: str, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Every exported amount, re-added by rider and month, is the balances read model's."""
        readded: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(MONEY, 0))
        for row in tables["steps"]:
            for column in MONEY[:3]:
                readded[(row["rider_id"], row["period"])][column] += row[column] or 0
        for row in tables["payouts"]:
            readded[(row["rider_id"], row["period"])]["paid_fen"] += row["paid_fen"]
        wanted = {}
        for rider in self.riders:
            for month in rider_balances(store, str(rider), {district})["months"]:
                wanted[(str(rider), month["period"])] = {c: month[BALANCE_COLUMN[c]] for c in MONEY}
        assert {k: v for k, v in readded.items()} == wanted
        # The totals sheets say the same as the rows they total.
        totals = {(t["rider_id"], t["period"]): {c: t[c] for c in MONEY} for t in tables["by_rider"]}
        assert totals == wanted
        for month in tables["by_month"]:
            assert month["awarded_fen"] == sum(v["awarded_fen"] for (_, p), v in wanted.items() if p == month["period"])
        assert tables["differences"] == []


@pytest.mark.parametrize("backend,examples", [("sqlite", 150), pytest.param("postgres", 10, marks=pytest.mark.postgres)])
def test_every_export_readds_to_the_balances_to_the_fen(backend: str, examples: int) -> None:
    ExportedLedger.seen.clear()
    run_machine(ExportedLedger, backend, examples)
    if backend == "sqlite":  # enough examples to have seen each kind of money move (remedies: below)
        assert {"awards", "payouts", "caps", "reversals"} <= set(ExportedLedger.seen), ExportedLedger.seen


def test_a_reinstated_award_and_its_remedy_are_in_the_export(app, world) -> None:  # type: ignore[no-untyped-def]
    """The story with every event type: an award reversed, appealed, reinstated by a
    remedy award; both chains exported, and the month still re-adds."""
    month = world.period  # the tour ends two months on (a points policy's month end)
    tour_of_every_event_type(world)
    store, cleanup = new_store("sqlite")
    try:
        log_feed(app, store).catch_up()
        tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), ORIGIN)
        export = build(store, tlog, world.district, Months.parse(month, month), "auditor-test")
        kinds = [row["kind"] for row in export.steps]
        assert {"SubsidyReversed", "AwardReinstated", "AppealDecided", "SubsidyCapped"} <= set(kinds)
        remedy = [r for r in export.steps if r["kind"] == "SubsidyAwarded" and r["detail"].get("kind") == "remedy"]
        assert remedy and remedy[0]["grid_id"] == ""  # a remedy pays an appeal, not a grid's work
        assert export.reconciled and export.checkpoint.note is None  # no signing key: said so, unsigned
        assert all(row["leaf_index"] is not None for row in [*export.steps, *export.payouts])
    finally:
        cleanup()
