"""`gridgov audit export` and `gridgov audit accesses` on the embedded store: the
file, its reconciliation with the balances read model (exit 1 when a read model
was changed behind the events' back), bad input (exit 2), and the access it leaves."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import zipfile
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

    differences = list(csv.DictReader(io.StringIO(zipfile.ZipFile(target).read("differences.csv").decode("utf-8-sig"))))
    assert [(d["骑手编号"], d["月份"], d["科目"]) for d in differences] == [(rider, "2026-11", "奖励")]
    assert int(differences[0]["导出合计（分）"]) + 1 == int(differences[0]["余额读模型（分）"])


def test_bad_input_is_exit_2(embedded: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["--from", "2026-13"], ["--from", "2026-11", "--to", "2026-01"], ["--from", "2026-11", "--format",
                                                                                    "pdf"]):
        result = runner.invoke(cli, ["audit", "export", "--district", "温江", "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2, (args, result.output)
        assert not (tmp_path / "x").exists()


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The columns a person reads, in each table; the rest (ids, event type, log place, fen) are for machines.
READ_BY_PEOPLE = {"steps": ("月份", "骑手", "网格", "环节", "内容", "操作人", "角色", "时间（北京时间）",
                            "奖励（元）", "封顶扣减（元）", "撤销（元）"),
                  "by_rider": ("骑手", "奖励（元）", "应付余额（元）"), "by_grid": ("网格", "奖励（元）"),
                  "payouts": ("骑手", "已发放（元）", "操作人")}


def _table(zipped: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(zipped.read(f"{name}.csv").decode("utf-8-sig"))))


def test_an_export_reads_in_words_and_still_proves_every_row(embedded: Path, tmp_path: Path,
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Riders masked, grids and staff by name, steps in words without raw JSON, amounts in ¥ text beside
    the fen; the signed checkpoint inside verifies and a row's log position is proven in it."""
    runner = CliRunner()
    key = tmp_path / "audit.key"
    assert runner.invoke(cli, ["audit", "keygen", "--out", str(key)]).exit_code == 0
    monkeypatch.setenv("AUDIT_KEY_FILE", str(key))
    target = tmp_path / "温江.zip"
    result = runner.invoke(cli, ["audit", "export", "--district", "温江", "--from", "2026-11", "--format", "csv",
                                 "--out", str(target)])
    assert result.exit_code == 0, result.output
    zipped = zipfile.ZipFile(target)
    steps = _table(zipped, "steps")
    assert steps
    for name, columns in READ_BY_PEOPLE.items():
        for row in _table(zipped, name):
            for column in columns:
                assert not UUID.search(row[column]) and "{" not in row[column], (name, column, row[column])
    for row in steps:
        if row["奖励（分）"]:  # the ¥ text is the fen, to the fen, by integer arithmetic
            fen = int(row["奖励（分）"])
            assert row["奖励（元）"] == f"¥{fen // 100:,}.{fen % 100:02d}"
        assert UUID.fullmatch(row["计件编号"]) and UUID.fullmatch(row["骑手编号"])
    riders = {row["骑手"] for row in steps}
    assert riders and all(re.fullmatch(r".\*.?", rider) for rider in riders), riders  # 王*平, masked
    assert {row["网格"] for row in steps} - {""}, "grids by name"
    awarded = [row for row in steps if row["环节"] == "计件补贴"]
    assert awarded and all(re.search("补贴类别：(计件|申诉补救)", row["内容"]) for row in awarded)
    assert any("补贴类别：计件" in row["内容"] for row in awarded)
    # Verified: the checkpoint in the file is the log's, and a row's position is proven in it.
    assert runner.invoke(cli, ["audit", "verify", "--checkpoint", str(_kept(zipped, tmp_path))]).exit_code == 0
    size = int(dict(csv.reader(io.StringIO(zipped.read("summary.csv").decode("utf-8-sig"))))["检查点树大小"])
    proof = runner.invoke(cli, ["audit", "prove", "inclusion", "--position", steps[-1]["日志位置"], "--size", str(size)])
    assert proof.exit_code == 0, proof.output


def _kept(zipped: zipfile.ZipFile, folder: Path) -> Path:
    kept = folder / "checkpoint.txt"
    kept.write_bytes(zipped.read("checkpoint.txt"))
    return kept
