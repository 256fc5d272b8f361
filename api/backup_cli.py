"""`gridgov backup` and `gridgov restore`: the event store, its key stores and the
transparency log's tables in one file, and back (eventlog/backup.py; the
procedure and what it means for erased riders: docs/operations.md).

    gridgov backup FILE      one consistent snapshot, with a manifest; prints it in short
    gridgov restore FILE     into an empty store, keys on the erasure list dropped again,
                             then the read models rebuilt (--no-rebuild to leave them)

Exit 0: done; 2: bad input or a store it cannot go into (one line, nothing written).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
BAD_INPUT = 2


def add_commands(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def backup_command(path: Path = typer.Argument(..., help="the backup file to write (not overwritten)")) -> None:
    """Back up the event store, its key stores and the transparency log to one file, from one snapshot."""
    from eventlog.backup import BackupError, backup

    if path.exists():
        raise _fail(f"{path} exists: a backup never overwrites a file")
    settings, store = _store()
    try:
        with _progress("backing up") as report:
            manifest = backup(store, path, _erasures(settings), report)
    except BackupError as e:
        raise _fail(str(e)) from None
    log = manifest["log"]
    rows = sum(p["rows"] for p in manifest["parts"].values())
    out.print(f"backed up {rows:,} rows to {path} ({path.stat().st_size:,} bytes): log head {log['head']:,}, "
              f"tree size {log['tree_size']:,}" + _checkpoint_words(log))


def restore_command(path: Path = typer.Argument(..., help="a file `gridgov backup` wrote"),
                    rebuild: bool = typer.Option(True, help="rebuild every read model after the restore")) -> None:
    """Restore a backup into an empty store (keys on the erasure list stay erased), then rebuild the read models."""
    from eventlog.backup import BackupError, read_manifest, restore

    try:
        read_manifest(path)  # bad input refused before any table is made
        settings, store = _store(making=True)
        with _progress("restoring") as report:
            done = restore(store, path, _erasures(settings), report)
    except BackupError as e:
        raise _fail(str(e)) from None
    log, total = done["log"], sum(p["rows"] for p in done["parts"].values())
    out.print(f"restored {total:,} rows from {path}: log head {log['head']:,}, tree size {log['tree_size']:,}"
              + _checkpoint_words(log) + f"; keys kept erased: {done['kept_erased']:,}")
    if rebuild:
        _rebuild(settings)


def _store(making: bool = False) -> tuple[Any, Any]:
    """The settings, and the configured event store's tables (made first when `making`)."""
    from eventlog.backup import Store
    from gridgov.settings import load_settings

    settings = load_settings()
    module = settings.PERSISTENCE_MODULE
    if module.endswith("sqlite"):
        if not making and not Path(settings.SQLITE_DBNAME).is_file():
            raise _fail(f"no event store at SQLITE_DBNAME={settings.SQLITE_DBNAME}")
        return settings, Store("sqlite", _events_table(settings, making), sqlite_file=settings.SQLITE_DBNAME)
    if module.endswith("postgres"):
        return settings, Store("postgres", _events_table(settings, making), conninfo=settings.postgres_conninfo(),
                               schema=settings.POSTGRES_SCHEMA)
    raise _fail(f"PERSISTENCE_MODULE={module}: a store in memory has nothing to back up or restore into")


def _erasures(settings: Any) -> set[tuple[str, str]]:
    from eventlog.erasures import ErasureList

    return ErasureList(Path(settings.GRIDGOV_ERASURES_DIR)).all()


def _events_table(settings: Any, making: bool) -> str:
    """The events table's name, as the library names it; with `making`, every table a
    backup holds made as the engine makes them (a fresh store has none yet)."""
    from typing import get_args

    from eventlog.keys import KeyKind
    from gridgov.bootstrap import application
    from transparency.store import open_tree_store

    app = application(settings)
    try:
        if making:
            for kind in get_args(KeyKind):
                app.eventlog.keys(kind)
            open_tree_store(app.eventlog)
        return str(app.recorder.events_table_name)
    finally:
        app.close()


def _rebuild(settings: Any) -> None:
    from gridgov.bootstrap import bootstrap
    from projections.engine.rebuild import rebuild
    from projections.registry import named

    engine = bootstrap(settings, feed=False)
    try:
        started = time.perf_counter()
        with _progress("rebuilding read models") as moved:
            moved(0, engine.app.head())
            report = rebuild(engine.app, engine.store, named("all"), workers=settings.REBUILD_WORKERS,
                             progress=moved)
        out.print(f"rebuilt every read model: {report.events:,} events applied in "
                  f"{time.perf_counter() - started:.1f} s")
    finally:
        engine.store.close()
        engine.app.close()


def _checkpoint_words(log: dict[str, Any]) -> str:
    checkpoint = log.get("checkpoint")
    return f", newest signed checkpoint {checkpoint['size']:,} ({checkpoint['root']})" if checkpoint else ""


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr while the block runs, moved by the `(done, total)` callback it yields."""
    with Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True) as progress:
        bar = progress.add_task(label, total=1)
        yield lambda done, total: progress.update(bar, completed=done, total=max(total, 1))


def _fail(message: str) -> typer.Exit:
    # One line, as it is: a path or a table name in brackets is no markup.
    err.print(message, markup=False, highlight=False)
    return typer.Exit(BAD_INPUT)
