"""Workers that end with the supervisor that started them (`gridgov simulate`).

A SIGKILLed `gridgov simulate` left its fifteen consumers running: they shared the
cores with every later measurement and test until someone found them. The
supervisor gives its pid to its workers (`--supervisor-pid`); a worker that finds
it gone stops as at SIGTERM.

A child outlives its parent by being handed to init (or a subreaper): its parent
pid changes. That is what is checked, rather than asking the kernel for a signal
at the parent's death (PR_SET_PDEATHSIG): the signal comes when the parent
*thread* that started the child ends, and simulate restarts its workers from
threads that end before it does.
"""

from __future__ import annotations

import os
import threading
from typing import Callable


def orphaned(supervisor: int | None) -> bool:
    return supervisor is not None and os.getppid() != supervisor


def stop_when_orphaned(stop: threading.Event, supervisor: int, say: Callable[[], None], every_s: float = 1.0) -> None:
    """Sets `stop` once `supervisor` is gone (at once if it already is)."""
    def watch() -> None:
        while not orphaned(supervisor):
            if stop.wait(every_s):
                return
        say()
        stop.set()

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()
