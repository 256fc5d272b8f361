"""Filling shadow copies in several processes at once.

Folding is Python, so one process uses one core whatever the database could
take. A rebuild therefore splits the work into groups, one per core, and each
group is filled by a process of its own that reads the log itself (only the
topics its projections handle) and writes its rows into the shadow tables of
the same store. Every read model we have is written stream by stream, so group
i is share i of the streams, for every projection, and no two helpers write the
same row; a projection that is not would go whole to one group. The parent
indexes each projection once all its shares are in, then does the catch-up and
swap alone, as a one-process rebuild does.

A helper process must be able to open the event store and the read-model store
again: files or a server, not memory; and the projection classes must be
importable by name. Otherwise the rebuild simply fills in-process.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from projections.base import Projection
from projections.engine.feed import LogFeed
from projections.engine.projector import Applied, Filler, create_dead_letters
from projections.stores import ReadStore

Opener = Callable[[], ReadStore]
CHECKPOINT_EVERY = 1.0  # seconds
PARENT = "GRIDGOV_REBUILD_PARENT"  # the rebuilding process's pid, for its helpers
PR_SET_PDEATHSIG = 1  # linux/prctl.h
HELPER_STALL_S = 600.0  # a helper silent this long is stuck: it says where it is after every page (seconds)
log = logging.getLogger(__name__)


@dataclass
class Filled:
    applied: int = 0
    dead: list[tuple[str, int, str]] = field(default_factory=list)  # (projection, position, error)


def workers_wanted(classes: Sequence[type[Projection]], asked: int | None = None) -> int:
    """As many as `asked` (REBUILD_WORKERS), or one per usable core; never more than
    there are projections to share out, unless one splits by stream."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    wanted = asked or cores
    if not any(cls.by_stream for cls in classes):
        wanted = min(wanted, len(classes))
    return max(1, wanted)


@dataclass(frozen=True)
class FillJob:
    """What one helper fills of a projection: all of it, or (`by_stream`) the
    streams of part `part` of `parts`."""
    cls: type[Projection]
    part: int = 0
    parts: int = 1

    @property
    def weight(self) -> float:
        return self.cls.weight / self.parts

    def shadow(self) -> Projection:
        return self.cls(prefix="shadow_", share=(self.part, self.parts))


def groups_of(classes: Sequence[type[Projection]], workers: int) -> list[list[FillJob]]:
    """Helper i fills share i of every projection written stream by stream: the
    same streams for all of them, so it reads only those streams' events
    (projections.logread). A projection that is not split goes whole to the
    helper with least to do so far, heaviest first, by its measured `weight`."""
    if workers == 1:
        return [[FillJob(cls) for cls in sorted(classes, key=lambda c: -c.weight)]]
    groups = [[FillJob(cls, part, workers) for cls in classes if cls.by_stream] for part in range(workers)]
    loads = [sum(share.weight for share in group) for group in groups]
    for cls in sorted((c for c in classes if not c.by_stream), key=lambda c: -c.weight):
        lightest = loads.index(min(loads))
        groups[lightest].append(FillJob(cls))
        loads[lightest] += cls.weight
    return [g for g in groups if g]


def event_store_env(app: Any) -> dict[str, str] | None:
    """What a helper process needs to open the same event store, or None if it
    cannot (an in-memory store). Only what differs from the inherited environment."""
    module = app.env.get("PERSISTENCE_MODULE") or ""
    if "postgres" not in module:
        db = app.env.get("SQLITE_DBNAME") or ""
        if "sqlite" not in module or not db or ":memory:" in db or "mode=memory" in db:
            return None
    return {k: v for k, v in app.env.items() if os.environ.get(k) != v}


def fill_in_parallel(app: Any, store: ReadStore, groups: list[list[FillJob]], stop: int, page: int,
                     progress: Callable[[int], None] | None = None) -> Filled | None:
    """Fill each group's shadow copies in a process of its own, up to `stop`, and
    index them; the shadow tables must exist (empty, unindexed) in `store`. None,
    having done nothing, if helpers could not open the stores or import the
    projections."""
    env = event_store_env(app)
    opener = store.for_helper()
    if env is None or opener is None or not _importable(groups):
        return None
    reports: queue.Queue[tuple[int, tuple[Any, ...]]] = queue.Queue()
    helpers = [_start(index, (type(app), env, opener, group, stop, page), reports)
               for index, group in enumerate(groups)]

    shares_left = {share.cls.name: share.parts for group in groups for share in group}
    started = tidied = time.monotonic()

    def progressed(position: int) -> None:
        nonlocal tidied
        if time.monotonic() - tidied >= CHECKPOINT_EVERY:  # the helpers leave it to us
            store.checkpoint()
            tidied = time.monotonic()
        if progress:
            progress(position)

    def finished(index: int) -> None:
        # While the other helpers go on: a projection is indexed once all its shares are in.
        done = time.monotonic()
        with store.transaction() as tx:
            for share in groups[index]:
                shares_left[share.cls.name] -= 1
                if shares_left[share.cls.name] == 0:
                    share.cls(prefix="shadow_").create_indexes(tx)
        log.info("rebuild helper %s (%s) done after %.1f s; indexed in %.1f s", index,
                 " ".join(f"{s.cls.name}{f' {s.part + 1}/{s.parts}' if s.parts > 1 else ''}" for s in groups[index]),
                 done - started, time.monotonic() - done)

    try:
        return _gather(reports, len(helpers), progressed, finished)
    finally:
        for helper in helpers:
            if helper.poll() is None:
                helper.kill()
            helper.wait()


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector a hundred times less often while filling.

    A fill makes a few dicts per event and keeps a page of them alive, so they
    outlive the young generation and every collection walks them: a fifth of a
    helper's time (measured). Nothing a fold makes is cyclic, so reference
    counting frees it all the same and memory stays flat; the collector only
    waits longer for the rare cycle (an exception's traceback)."""
    before = gc.get_threshold()
    gc.freeze()  # what was imported before the fill is never garbage: stop walking it
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _importable(groups: list[list[FillJob]]) -> bool:
    try:
        pickle.dumps(groups)
        return True
    except Exception:  # a class made inside a function: a helper cannot import it
        return False


def _start(index: int, job: tuple[Any, ...], reports: queue.Queue) -> subprocess.Popen:  # type: ignore[type-arg]
    """A fresh interpreter running this module (not multiprocessing, which would
    import the caller's main script again), given its job on stdin; a thread
    passes on what it says on stdout, then ("exited",) when it closes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path), PARENT: str(os.getpid())}
    helper = subprocess.Popen([sys.executable, "-m", "projections.engine.parallel"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env)
    assert helper.stdin is not None and helper.stdout is not None
    pickle.dump(job, helper.stdin)
    helper.stdin.close()

    def listen(out: Any = helper.stdout) -> None:
        try:
            while True:
                reports.put((index, pickle.load(out)))
        except EOFError:
            reports.put((index, ("exited",)))

    threading.Thread(target=listen, name=f"rebuild-helper-{index}", daemon=True).start()
    return helper


def _gather(reports: queue.Queue, helpers: int, progress: Callable[[int], None] | None,  # type: ignore[type-arg]
            finished: Callable[[int], None], stall_s: float = HELPER_STALL_S) -> Filled:
    """Wait for every helper, handing each to `finished` as it is done; pass on
    how far they are together (the mean of their positions, which moves whenever
    any of them does: the slowest one's would stand still while it reads its first
    page); fail if one does."""
    filled = Filled()
    positions = [0] * helpers
    running = set(range(helpers))
    heard = dict.fromkeys(running, time.monotonic())
    while running:
        try:
            index, (kind, *payload) = reports.get(timeout=1.0)
        except queue.Empty:
            # A helper that blocks without exiting would otherwise hold the rebuild for ever.
            if silent := sorted(i for i in running if time.monotonic() - heard[i] > stall_s):
                raise RuntimeError(f"rebuild helper {', '.join(map(str, silent))} said nothing for {stall_s:.0f} s "
                                   "(a page takes seconds): stuck; stopped") from None
            continue
        heard[index] = time.monotonic()
        if kind == "progress":
            positions[index] = payload[0]
            if progress:
                progress(sum(positions) // helpers)
        elif kind == "done":
            running.discard(index)
            filled.applied += payload[0]
            filled.dead += payload[1]
            finished(index)
        elif kind == "failed":
            raise RuntimeError(f"rebuild helper {index} failed:\n{payload[0]}")
        elif index in running:
            raise RuntimeError(f"rebuild helper {index} exited without finishing")
    return filled


def fill_shares(app_class: type, env: dict[str, str], opener: Opener, shares: list[FillJob], stop: int,
                page: int, say: Callable[..., None]) -> None:
    """What a helper process does (benchmarks and tests call it in-process): fill
    this group's shadow copies from the start of the log up to `stop`, saying
    ("progress", position) as it goes and ("done", applied, dead letters) at the end."""
    # The parent made the event store's tables: helpers starting together would
    # otherwise race each other's CREATE … IF NOT EXISTS in PostgreSQL's catalogue
    # ("tuple concurrently updated", seen in bench/rebuild.py).
    app = app_class(env={**env, "CREATE_TABLE": "no"})
    store = opener()
    shadows = [share.shadow() for share in shares]
    # The parent's store, whose shadow tables it made empty just now and which other
    # helpers are filling too (their shares of the streams).
    with store.transaction() as tx:
        store.lock_tables(tx)
        create_dead_letters(tx)
        for shadow in shadows:
            shadow.create(tx, indexes=False)
    feed = LogFeed(app.eventlog, app.mapper, Filler(store, shadows), page=page)
    with few_collections():
        total = feed.fill(stop, progress=lambda position: say("progress", position))
    store.close()
    app.close()
    say("done", total.applied, summary(total))


def summary(applied: Applied) -> list[tuple[str, int, str]]:
    """Dead letters as the rebuild report lists them: (projection, position, error's first line)."""
    return [(name, delivery.position, error.splitlines()[0]) for name, delivery, error in applied.dead]


def _die_with_parent() -> None:
    """A helper whose rebuild was killed stops at once: it writes into the store's
    shadow tables, which a new rebuild may have made again meanwhile."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: its next progress report finds the pipe broken
        pass
    if str(os.getppid()) != os.environ.get(PARENT):  # it was gone before we asked
        os._exit(1)


def _helper_main() -> None:
    _die_with_parent()
    # Messages go to the real stdout; anything else printing there goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)

    def say(*message: Any) -> None:
        pickle.dump(message, out)
        out.flush()

    try:
        fill_shares(*pickle.load(sys.stdin.buffer), say=say)
    except BaseException:
        say("failed", traceback.format_exc())


if __name__ == "__main__":
    _helper_main()
