"""A worker given its supervisor's pid stops once that process is gone, and not before."""

from __future__ import annotations

import os
import threading

from gridgov.supervised import orphaned, stop_when_orphaned


def test_a_worker_whose_supervisor_is_its_parent_keeps_running() -> None:
    stop, said = threading.Event(), []
    stop_when_orphaned(stop, os.getppid(), lambda: said.append(1), every_s=0.01)
    assert not stop.wait(0.2) and said == []
    stop.set()  # the watch ends with the worker


def test_a_worker_whose_supervisor_is_gone_stops_and_says_so() -> None:
    stop, said = threading.Event(), []
    gone = os.getppid() + 1_000_000  # not our parent: we were handed to another
    stop_when_orphaned(stop, gone, lambda: said.append(1), every_s=0.01)
    assert stop.wait(30) and said == [1]


def test_without_a_supervisor_nobody_is_orphaned() -> None:
    assert not orphaned(None) and not orphaned(os.getppid()) and orphaned(os.getppid() + 1)
