"""Where a SQLite rebuild's time goes, for whoever takes up the rebuild's speed next.

    python bench/rebuild_phases.py [--events 1000000]

On the same demo log as bench/rebuild.py:
  alone     the audit trail, then the other four read models, each filled in one
            process into a scratch store as a helper does (no fsync): seconds, and
            µs per event folded;
  timeline  the parallel rebuild of all five: when each helper finished, how long
            the parent then spent merging and indexing, and the total.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.rebuild import ensure_log, event_env  # noqa: E402
from domain.service import GridGovernance  # noqa: E402
from projections.catalog import named  # noqa: E402
from projections.rebuild import rebuild  # noqa: E402
from projections.sqlite import SQLiteStore  # noqa: E402


def alone(app: GridGovernance, folder: str) -> None:
    """The audit trail, then the other four: what the two helpers share out."""
    audit = [cls for cls in named("all") if cls.by_stream]
    parts = [audit, [cls for cls in named("all") if cls not in audit]]
    os.environ["REBUILD_WORKERS"] = "1"  # in this process, as a helper fills its group
    print("| projections (one process, scratch store) | events folded | seconds | µs per event |")
    print("|---|---:|---:|---:|")
    for classes in parts:
        names = [cls.name for cls in classes]
        store = SQLiteStore(os.path.join(folder, f"alone-{'-'.join(names)}.sqlite"), durable=False)
        started = time.perf_counter()
        report = rebuild(app, store, classes)
        seconds = time.perf_counter() - started
        print(f"| {', '.join(names)} | {report.events:,} | {seconds:.1f} | {seconds / report.events * 1e6:.0f} |")
        store.close()
    del os.environ["REBUILD_WORKERS"]


def timeline(app: GridGovernance, folder: str) -> None:
    logging.basicConfig(level=logging.WARNING, format="  %(message)s", stream=sys.stdout)
    logging.getLogger("projections.parallel").setLevel(logging.INFO)
    store = SQLiteStore(os.path.join(folder, "all.sqlite"))
    started = time.perf_counter()
    report = rebuild(app, store, named("all"))
    print(f"  total {time.perf_counter() - started:.1f} s, {report.events:,} events folded "
          f"({report.position:,} in the log)")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    app = GridGovernance(env=event_env("sqlite", ensure_log(args.events, args.seed), None))
    with tempfile.TemporaryDirectory() as folder:
        print(f"bench/rebuild_phases.py: SQLite, {app.head():,} events, {os.cpu_count()} cores\n")
        alone(app, folder)
        print("\ntimeline of a parallel rebuild of all five:")
        timeline(app, folder)
    app.close()


if __name__ == "__main__":
    main()
