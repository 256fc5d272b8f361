"""A consumer with lag that makes no progress is hung, whatever the cause.

kafka-python has more than one way to stop delivering while believing all is
well: a member the group dropped that never rejoins (`UnknownMemberIdError` on
leaving, `applied 0`), a client that came through a broker restart with no
fetch positions. The watchdog does not try to tell which. It watches the one
thing that matters, the offsets stored with the read model; when they stand
still for `stall_after_s` while the topics hold records beyond them, the runner
throws its client away and starts a fresh one from those stored offsets (which
are the truth anyway: runner.py). Each restart is logged with its reason and
recorded in the read store, where /metrics counts it.

Standing still with no lag is idle, not hung; a lag that cannot be read (the
broker is away) is the broker's outage, not ours: neither fires the watchdog.
Each instance of a group watches the partitions assigned to it (all of the
group's when it has none): a peer's progress does not hide its own stall, and a
peer's stall does not make it replace a client that is fine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping

from projections.stores import ReadStore, Tx

RESTARTS = "consumer_restarts"


@dataclass
class Watchdog:
    stall_after_s: float
    clock: Callable[[], float] = time.monotonic
    _seen: Mapping[str, int] | None = None
    _since: float = field(default=0.0)

    def stalled(self, positions: Mapping[str, int], lag: Callable[[], int | None]) -> int | None:
        """Look at the stored `positions`; the lag (records behind) when this is a
        stall, else None. While they stand still the lag is asked at every look, and
        the stall time counts only while it is known and above zero: idle or unknown
        (the broker away, or just back) starts the clock again. After a stall the
        clock starts again too: the new client gets as long."""
        now = self.clock()
        if self._seen is None or positions != self._seen:
            self._seen, self._since = dict(positions), now
            return None
        behind = lag()
        if not behind:
            self._since = now
            return None
        if now - self._since < self.stall_after_s:
            return None
        self._since = now
        return behind


def create_restarts(tx: Tx) -> None:
    tx.execute(f"CREATE TABLE IF NOT EXISTS {RESTARTS} (projection TEXT NOT NULL, at TEXT NOT NULL, "
               "reason TEXT NOT NULL)")


def record_restart(store: ReadStore, projection: str, reason: str) -> None:
    """(The table is made by the runner at start.)"""
    with store.transaction() as tx:
        tx.execute(f"INSERT INTO {RESTARTS} VALUES (?, ?, ?)",
                   (projection, datetime.now(timezone.utc).isoformat(), reason[:1000]))


def restarts(store: ReadStore) -> dict[str, int]:
    """How many times the watchdog restarted each read model's consumer client."""
    try:
        return {name: int(n) for name, n in
                store.read(f"SELECT projection, COUNT(*) FROM {RESTARTS} GROUP BY projection")}
    except Exception:  # no restart yet: the table is made with the first
        return {}
