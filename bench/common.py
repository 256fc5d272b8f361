"""Shared by the benchmarks: stores to measure on, timing, memory."""

from __future__ import annotations

import os
import uuid
from typing import Callable

import psycopg

from tests.fixtures.stores import postgres_settings

POSTGRES = postgres_settings()  # the same server and defaults as the tests
CACHE = os.path.join(os.environ.get("GRIDGOV_CACHE", os.path.expanduser("~/.cache/gridgov")), "bench")


def dsn(env: dict[str, str] = POSTGRES) -> str:
    return (f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} dbname={env['POSTGRES_DBNAME']} "
            f"user={env['POSTGRES_USER']} password={env['POSTGRES_PASSWORD']}")


def new_schema(prefix: str, *companions: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema, and how to drop it, with the schemas named after it plus each
    of `companions` (a server's read-model schema, made by the server itself)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(dsn(), autocommit=True) as conn:
            for name in (schema, *(schema + suffix for suffix in companions)):
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    return schema, drop


def rss_mib() -> float:
    """Resident memory now (not the peak), from /proc, of this process and the
    processes it started (a rebuild's helpers), summed."""
    return sum(_statm_pages(pid) for pid in _tree(os.getpid())) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    pids += _tree(int(child))
    except OSError:  # it ended meanwhile
        pass
    return pids


def _statm_pages(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1])
    except OSError:
        return 0


class PeakSampler:
    """The highest resident memory seen, sampled every 20 ms. (ru_maxrss would do,
    but Linux carries it over exec from the parent, which may be far bigger.)"""

    def __init__(self) -> None:
        import threading

        self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_mib())
