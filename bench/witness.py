"""A witness's add-checkpoint round trip, as the sequencer sees it, beside a bare GET:

    python bench/witness.py [--submissions 500] [--leaves 1000000] [--batch 50]

One `gridgov witness serve` process (its SQLite state fsync'd per cosignature) and a log of
`--leaves` leaves growing by `--batch` per checkpoint: each submission carries the consistency
proof from the witness's size, as transparency/witnessing.py sends it, through the client the
sequencer uses (one keep-alive connection). Beside it: the witness's own monitoring GET, the
same server's cheapest answer, so the difference is checking, signing and the fsync.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.audit import witness_trips  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=500)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    # The loop is bench/audit.py's (its --only witness), so both benches measure the same thing.
    trips, gets = witness_trips(args.submissions, args.leaves, args.batch)
    print(f"\n{args.submissions} checkpoints of a {args.leaves:,}-leaf log growing by {args.batch}; "
          f"{datetime.now(timezone.utc):%Y-%m-%d}\n")
    print("| measure | p50 | p99 | max |")
    print("|---|---:|---:|---:|")
    print(f"| add-checkpoint round trip (proof checked, cosigned, fsync'd) | {pct(trips, .5):.2f} ms | "
          f"{pct(trips, .99):.2f} ms | {max(trips):.2f} ms |")
    print(f"| beside: the witness's monitoring GET | {pct(gets, .5):.2f} ms | {pct(gets, .99):.2f} ms | "
          f"{max(gets):.2f} ms |")


if __name__ == "__main__":
    main()
