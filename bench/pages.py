"""The pages in headless Chromium against the reads they are made of, in one run.

    python bench/pages.py [--loads 7]

  drawn        from navigation to every table of the page filled and the stream live,
               median of --loads loads of `gridgov serve --demo` (the demo's day, 5k events)
  reads        the same API reads the page makes, one after another with httpx (the
               raw cost underneath: what a page could not be faster than, done serially)
  bytes        what the page fetched (Resource Timing: scripts, styles, API answers)
  live         a command sent to the API until its row shows on the officer's board
               (median of --loads commands)

Needs Debian's `chromium` and `chromium-driver`.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.fixtures.browser import chromium, drawn  # noqa: E402


def serve(folder: str) -> tuple[subprocess.Popen, str, dict[str, str], dict[str, str]]:  # type: ignore[type-arg]
    """A demo server: (process, base URL, page link per role, token per role)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "KAFKA_", "PERSISTENCE_"))}
    env.update(SQLITE_DBNAME=f"{folder}/events.sqlite", READMODEL_SQLITE_DBNAME=f"{folder}/rm.sqlite")
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    printed = ""
    while "auditor page:" not in printed:
        line = server.stdout.readline()  # type: ignore[union-attr]
        if not line and server.poll() is not None:
            raise SystemExit(printed)
        printed += line
    links = dict(re.findall(r"^(\w+) page: (\S+)", printed, re.M))
    tokens = dict(re.findall(r"^\s+(\w+)\s+(eyJ\S+)", printed, re.M))
    return server, f"http://127.0.0.1:{port}", links, tokens


def reads_of(base: str, tokens: dict[str, str]) -> dict[str, Callable[[httpx.Client], None]]:
    """The API reads each page makes when it opens, made one after another."""
    def workbench(client: httpx.Client) -> None:
        h = {"Authorization": f"Bearer {tokens['district_admin']}"}
        grids = client.get("/v1/districts/温江/grids", headers=h).json()
        client.get("/v1/districts/温江/rate-schedules", headers=h)
        for grid in grids:
            client.get(f"/v1/grids/{grid['grid_id']}/clues", params={"status": "reported", "limit": 200}, headers=h)
        client.get("/v1/board", params={"district": "温江", "limit": 300}, headers=h)
        client.get("/v1/districts/温江/appeals", params={"limit": 300}, headers=h)
        client.get("/v1/districts/温江/budgets", headers=h)
        client.get("/v1/districts/温江/clue-map", params={"days": 30}, headers=h)
        client.get("/v1/stats", params={"district": "温江"}, headers=h)
        client.get("/v1/districts/温江/subsidy-per-day", headers=h)

    def rider(client: httpx.Client) -> None:
        h = {"Authorization": f"Bearer {tokens['rider']}"}
        me = client.get(f"/v1/riders/{_sub(tokens['rider'])}", headers=h).json()
        for district in me["districts"]:
            client.get(f"/v1/districts/{district}/grids", headers=h)
            client.get(f"/v1/districts/{district}/rate-schedules", headers=h)
        for path in ("balances", "points", "open-tasks", "tasks", "clues", "appeals"):
            client.get(f"/v1/riders/{me['rider_id']}/{path}", headers=h)

    def audit(client: httpx.Client) -> None:
        h = {"Authorization": f"Bearer {tokens['auditor']}"}
        client.get("/v1/districts/温江/grids", headers=h)
        client.get("/v1/districts/温江/history", params={"limit": 200}, headers=h)
        client.get("/v1/districts/温江/subsidy-per-day", headers=h)
        client.get("/v1/districts/温江/clue-map", params={"days": 30}, headers=h)

    return {"workbench": workbench, "rider": rider, "audit": audit}


def _sub(token: str) -> str:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})["sub"]


def open_drawn(driver: Any, link: str) -> float:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(link)
    WebDriverWait(driver, 60, poll_frequency=0.005).until(
        lambda d: d.find_element("id", "live").get_attribute("data-state") == "on" and drawn(d))
    return time.perf_counter() - started


def fetched_bytes(driver: Any) -> int:
    return int(driver.execute_script(
        "return performance.getEntriesByType('resource').reduce((n, r) => n + (r.encodedBodySize || 0), 0)"
        " + (performance.getEntriesByType('navigation')[0] || {encodedBodySize: 0}).encodedBodySize"))


def live_latency(driver: Any, base: str, tokens: dict[str, str]) -> float:
    """A task published through the API until its row is on the admin's board."""
    from selenium.webdriver.support.ui import WebDriverWait

    h = {"Authorization": f"Bearer {tokens['district_admin']}"}
    grid = httpx.get(f"{base}/v1/districts/温江/grids", headers=h).json()[0]["grid_id"]
    rate = next(iter(httpx.get(f"{base}/v1/districts/温江/rate-schedules", headers=h).json()[0]["rates"]))
    started = time.perf_counter()
    task = httpx.post(f"{base}/v1/commands/publish-task", headers=h,
                      json={"grid_id": grid, "kind": "bench", "rate_code": rate}).json()["result"]["task_id"]
    WebDriverWait(driver, 60, poll_frequency=0.005).until(
        lambda d: d.find_elements("css selector", f"#tasks tr[data-task='{task}']"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-pages-") as folder:
        server, base, links, tokens = serve(folder)
        try:
            reads = reads_of(base, tokens)
            pages = {"workbench": links["district_admin"], "rider": links["rider"], "audit": links["auditor"]}
            rows = []
            with chromium() as driver, httpx.Client(base_url=base, timeout=30) as client:
                driver.set_window_size(1366, 768)
                for page, link in pages.items():
                    open_drawn(driver, link)  # warm: the server's first answers, the browser's cache
                    drawn_s = [open_drawn(driver, link) for _ in range(args.loads)]
                    size = fetched_bytes(driver)
                    raw = []
                    for _ in range(args.loads):
                        started = time.perf_counter()
                        reads[page](client)
                        raw.append(time.perf_counter() - started)
                    rows.append((page, statistics.median(drawn_s), statistics.median(raw), size))
                open_drawn(driver, pages["workbench"])
                live = [live_latency(driver, base, tokens) for _ in range(args.loads)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{'page':<12}{'drawn p50':>12}{'reads p50':>12}{'ratio':>8}{'bytes':>12}")
    for page, drawn_p50, raw_p50, size in rows:
        print(f"{page:<12}{drawn_p50 * 1000:>10.0f}ms{raw_p50 * 1000:>10.0f}ms{drawn_p50 / raw_p50:>8.2f}"
              f"{size:>12,}")
    print(f"live: a command to its row on the officer's board, p50 {statistics.median(live) * 1000:.0f} ms, "
          f"max {max(live) * 1000:.0f} ms ({len(live)} commands)")


if __name__ == "__main__":
    main()
