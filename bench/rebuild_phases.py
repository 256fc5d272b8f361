"""Where a SQLite rebuild's time goes, for whoever takes up the rebuild's speed next.

    python bench/rebuild_phases.py [--events 1000000] [--postgres]
    python bench/rebuild_phases.py --events 50000 --weights

On the same demo log as bench/rebuild.py:
  alone     every read model filled in one process, then one helper's work
            (share 2 of 2 of the streams, of all of them) alone on the machine, each
            into a file of its own as a helper fills the rebuild's (no checkpoints
            but the one when it closes, being the file's last connection): seconds,
            and µs per event folded;
  timeline  the parallel rebuild of all of them: when each helper finished, how long
            the parent then spent indexing, and the total; with --postgres, the
            same with the log and the read models in PostgreSQL;
  weights   (alone) each read model filled whole in one process: its seconds are
            the `weight` a parallel rebuild balances read models by.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.rebuild import ensure_log, event_env  # noqa: E402
from application.service import GridGovernance  # noqa: E402
from gridgov.bootstrap import application  # noqa: E402
from gridgov.settings import load_settings  # noqa: E402
from projections.registry import named  # noqa: E402
from projections.engine.parallel import FillJob, fill_shares  # noqa: E402
from projections.engine.rebuild import REBUILD_PAGE, rebuild  # noqa: E402
from projections.stores.sqlite import SQLiteStore  # noqa: E402
from projections.stores import ReadStore  # noqa: E402


def alone(app: GridGovernance, folder: str) -> None:
    """The whole fill in one process, then what each of two helpers does."""
    print("| filled in one process | events folded | seconds | µs per event |")
    print("|---|---:|---:|---:|")
    for part, parts in ((0, 1), (1, 2)):
        path = os.path.join(folder, f"alone-{part}-{parts}.sqlite")
        shares = [FillJob(cls, part, parts) for cls in named("all")]
        said: list[tuple[object, ...]] = []
        started = time.perf_counter()
        fill_shares(type(app), app.env, partial(SQLiteStore, path, helper=True), shares, app.head(), REBUILD_PAGE,
              lambda *message: said.append(message))
        seconds = time.perf_counter() - started
        kind, folded, *_ = said[-1]
        assert kind == "done", said[-1]
        what = "all, whole" if parts == 1 else f"share {part + 1} of {parts} of all of them (one helper's work)"
        print(f"| {what} | {folded:,} | {seconds:.1f} | {seconds / folded * 1e6:.0f} |")


def weights(app: GridGovernance, folder: str) -> None:
    """Each read model filled alone, whole, in one process: its seconds are its
    `weight` (projections/base.py), by which a parallel rebuild balances the read
    models that cannot be split by stream across its helpers."""
    print("| read model | events folded | seconds (its weight) | weight in the code |")
    print("|---|---:|---:|---:|")
    for cls in named("all"):
        said: list[tuple[object, ...]] = []
        started = time.perf_counter()
        fill_shares(type(app), app.env, partial(SQLiteStore, os.path.join(folder, f"weight-{cls.name}.sqlite"),
                                                helper=True), [FillJob(cls)], app.head(), REBUILD_PAGE,
                    lambda *message: said.append(message))
        seconds = time.perf_counter() - started
        kind, folded, *_ = said[-1]
        assert kind == "done", said[-1]
        print(f"| {cls.name} | {folded:,} | {seconds:.2f} | {cls.weight} |")


def timeline(app: GridGovernance, store: ReadStore) -> None:
    logging.basicConfig(level=logging.WARNING, format="  %(message)s", stream=sys.stdout)
    logging.getLogger("projections.engine.parallel").setLevel(logging.INFO)
    started = time.perf_counter()
    report = rebuild(app, store, named("all"))
    print(f"  total {time.perf_counter() - started:.1f} s, {report.events:,} events folded "
          f"({report.position:,} in the log)")
    store.close()


def postgres_timeline(log: str, events: int, seed: int) -> None:
    from bench.common import POSTGRES, new_schema
    from bench.rebuild import ensure_postgres_log
    from gridgov.bootstrap import read_store

    app = application(load_settings(event_env("postgres", log, ensure_postgres_log(log, events, seed))))
    schema, drop = new_schema("bench_rm")
    try:
        print("\ntimeline of a parallel rebuild of all of them, PostgreSQL:")
        timeline(app, read_store(load_settings({**POSTGRES, "READMODEL_STORE": "postgres", "READMODEL_SCHEMA": schema})))
    finally:
        drop()
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", action="store_true", help="also the timeline on PostgreSQL")
    parser.add_argument("--weights", action="store_true",
                        help="only each read model's seconds filled alone (its `weight`; measured on --events 50000)")
    args = parser.parse_args()
    log = ensure_log(args.events, args.seed)
    app = application(load_settings(event_env("sqlite", log, None)))
    with tempfile.TemporaryDirectory() as folder:
        print(f"bench/rebuild_phases.py: SQLite, {app.head():,} events, {os.cpu_count()} cores\n")
        if args.weights:
            weights(app, folder)
            app.close()
            return
        alone(app, folder)
        print("\ntimeline of a parallel rebuild of all of them:")
        timeline(app, SQLiteStore(os.path.join(folder, "all.sqlite")))
    app.close()
    if args.postgres:
        postgres_timeline(log, args.events, args.seed)


if __name__ == "__main__":
    main()
