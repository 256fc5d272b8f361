"""The `gridgov` command line."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from domain.money import yuan

app = typer.Typer(help="Event-sourced grid governance: riders as mobile sentinels of Chengdu's micro-grids.",
                  no_args_is_help=True, add_completion=False)
out = Console(soft_wrap=True)
err = Console(stderr=True)


@app.command()
def demo(seed: int = typer.Option(7, help="same seed, same story, same summary"),
         riders: int = typer.Option(300, min=6, help="how many riders join the grids"),
         reset: bool = typer.Option(False, help="delete the embedded SQLite store first (never PostgreSQL)")) -> None:
    """Simulate one day in six Chengdu districts on the configured store and summarise it."""
    from api.demo import DAY_START, Demo
    from domain.clock import ManualClock
    from domain.ids import SeededIds
    from domain.service import GridGovernance

    if reset:
        _reset_embedded_store()
    clock = ManualClock(DAY_START)
    application = GridGovernance(clock=clock, ids=SeededIds(seed))
    if application.head():
        err.print(f"[red]The store already holds {application.head()} events.[/] The demo tells its story on an empty "
                  "store; run [bold]gridgov demo --reset[/] to start the embedded store afresh.")
        raise typer.Exit(2)
    started = time.perf_counter()
    with Progress(TextColumn("simulating the day"), BarColumn(), TextColumn("{task.completed}/{task.total} ticks"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True) as progress:
        bar = progress.add_task("day", total=1)
        summary = Demo(application, clock, seed, riders,
                       progress=lambda done, total: progress.update(bar, completed=done, total=total)).run()
    elapsed = time.perf_counter() - started
    _print_summary(summary, application)
    err.print(f"{summary.commands} commands in {elapsed:.1f} s ({summary.commands / elapsed:.0f}/s) on "
              f"{application.env.get('PERSISTENCE_MODULE')}")
    application.close()


def _reset_embedded_store() -> None:
    module = os.environ.get("PERSISTENCE_MODULE", "eventsourcing.sqlite")
    if "sqlite" not in module:
        err.print("[red]--reset only deletes the embedded SQLite store.[/] Empty PostgreSQL yourself if you mean it.")
        raise typer.Exit(2)
    db = Path(os.environ.get("SQLITE_DBNAME", "var/gridgov.sqlite"))
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


def _print_summary(summary, application) -> None:  # type: ignore[no-untyped-def]
    out.print(f"[bold]A day in Chengdu[/]: {summary.riders} riders in {summary.grids} grids of 6 districts")
    out.print(f"events written      {summary.events}")
    out.print(f"commands            {summary.commands} ({summary.refused} refused by the rules)")
    out.print(f"clues reported      {summary.clues} ({summary.duplicates_flagged} flagged as likely duplicates)")
    out.print("tasks               " + ", ".join(f"{k} {v}" for k, v in summary.tasks.items()))
    out.print(f"subsidy awarded     {yuan(summary.awarded_fen)} ({summary.awarded_fen} fen)")
    out.print(f"appeal              {summary.appeal}")
    table = Table(title="top balances", title_justify="left")
    table.add_column("rider")
    table.add_column("balance", justify="right")
    for rider, balance in summary.top_balances:
        table.add_row(str(rider), yuan(balance))
    out.print(table)


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as pkg_version

    out.print(pkg_version("gridgov"))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
