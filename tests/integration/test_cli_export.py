"""`gridgov audit export` and `gridgov audit accesses` on the embedded store: the
file, its reconciliation with the balances read model (exit 1 when a read model
was changed behind the events' back), bad input (exit 2), and the access it leaves."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import orjson
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app as cli


def test_an_export_is_written_reconciled_and_leaves_an_access(embedded: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "温江.xlsx"
    result = runner.invoke(cli, ["audit", "export", "--district", "温江", "--from", "2026-11", "--out", str(target),
                                 "--auditor", "committee-温江-1"])
    assert result.exit_code == 0, result.output
    assert "re-add to the balances read model" in result.stdout
    book = load_workbook(io.BytesIO(target.read_bytes()), read_only=True)
    summary = dict(book["说明"].iter_rows(values_only=True))
    assert summary["导出人"] == "committee-温江-1" and summary["奖励笔数"] > 0
    assert runner.invoke(cli, ["audit", "export", "--district", "温江", "--from", "2026-11",
                               "--out", str(target)]).exit_code == 2, "an export was overwritten"
    accesses = runner.invoke(cli, ["audit", "accesses", "--district", "温江"])
    assert accesses.exit_code == 0, accesses.output
    [access] = [orjson.loads(line) for line in accesses.stdout.splitlines()]
    assert (access["actor_id"], access["what"], access["parameters"]["query"]["format"]) == \
        ("committee-温江-1", "gridgov audit export", "xlsx")
    assert access["checkpoint_size"] == summary["检查点树大小"]


def test_a_changed_balance_makes_the_export_say_where(embedded: Path, tmp_path: Path) -> None:
    with sqlite3.connect(embedded) as conn:
        rider, = conn.execute("SELECT rider_id FROM balances_slices WHERE district = '温江' AND awarded > 0 "
                              "LIMIT 1").fetchone()
        conn.execute("UPDATE balances_slices SET awarded = awarded + 1 WHERE rider_id = ? AND district = '温江'",
                     (rider,))
    target = tmp_path / "x.zip"
    result = CliRunner().invoke(cli, ["audit", "export", "--district", "温江", "--from", "2026-11", "--format", "csv",
                                      "--out", str(target)])
    assert result.exit_code == 1, result.output
    assert "1 amounts differ" in result.stdout
    import zipfile

    differences = zipfile.ZipFile(target).read("differences.csv").decode("utf-8-sig").splitlines()
    assert differences[1].split(",")[:3] == [rider, "2026-11", "奖励（分）"]


def test_bad_input_is_exit_2(embedded: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["--from", "2026-13"], ["--from", "2026-11", "--to", "2026-01"], ["--from", "2026-11", "--format",
                                                                                    "pdf"]):
        result = runner.invoke(cli, ["audit", "export", "--district", "温江", "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2, (args, result.output)
        assert not (tmp_path / "x").exists()
