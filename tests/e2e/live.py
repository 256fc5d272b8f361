"""The app under a real uvicorn server on a free loopback port, for what the
TestClient cannot show: streams that stay open, a browser."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.http.app import create_app
from domain.clock import ManualClock
from domain.service import GridGovernance
from projections.catalog import PROJECTIONS
from projections.engine.feed import Follower, feed_for
from projections.stores.sqlite import SQLiteStore
from tests.e2e.test_http import SECRET, START, Api


class Followed:
    """In place of a feed for the Api: the follower thread applies; catching up is waiting for it."""

    def __init__(self, follower: Follower) -> None:
        self.feed = follower.feed

    def catch_up(self) -> None:
        deadline = time.monotonic() + 10
        while self.feed.position() < self.feed.head():
            assert time.monotonic() < deadline, "the follower fell behind"
            time.sleep(0.01)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Api]]:
    """(base URL, an Api for commands) of a server whose read models follow the log by themselves."""
    clock = ManualClock(START)
    governance = GridGovernance(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                     "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}, clock=clock)
    store = SQLiteStore(str(tmp_path / "readmodels.sqlite"))
    follower = Follower(feed_for(governance, store, [cls() for cls in PROJECTIONS.values()]), interval=0.02).start()
    app = create_app(governance, store, SECRET)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=10) as client:
        yield base, Api(client, Followed(follower), clock)  # type: ignore[arg-type]
    server.should_exit = True
    thread.join(timeout=10)
    follower.stop()
    store.close()
    governance.close()


