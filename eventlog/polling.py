"""A background thread that repeats a round of work on the log (catch the read
models up, extend the transparency log's tree) every `interval` seconds until
stopped. A failed round is logged and the next one tries again: a swap by a
rebuild, a restarted database, a lock timeout all pass."""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class Polling:
    def __init__(self, name: str, round_: Callable[[threading.Event], None], interval: float,
                 after_failure: Callable[[], None] | None = None) -> None:
        """`round_` gets the stop event, to end long work between batches;
        `after_failure` runs after a failed round (e.g. reload state)."""
        self.name = name
        self.round = round_
        self.interval = interval
        self.after_failure = after_failure
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Polling:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round(self._stop)
            except Exception:
                log.exception("%s: round failed; retrying", self.name)
                if self.after_failure:
                    try:
                        self.after_failure()
                    except Exception:
                        log.exception("%s: could not recover; retrying", self.name)
            self._stop.wait(self.interval)
