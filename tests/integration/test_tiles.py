"""The log as C2SP tlog-tiles, read by outsiders: the Go verifier fetches the tiles from
a live server and recomputes the checkpoint's root with golang.org/x/mod/sumdb/tlog (the
Go checksum database's client code), holds every entry against the leaf hashes, and
proves from the tiles that the tree extends a checkpoint kept before; and it refuses a
log whose entries or history were changed."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.fixtures.tlog import ask, served, tiles_request
from tests.fixtures.world import World
from transparency.log import TransparencyLog


def test_the_go_tlog_client_recomputes_the_root_from_our_tiles(verifier: Path,
                                                              grown: tuple[TransparencyLog, World]) -> None:
    tlog, world = grown
    tlog.sequencer().catch_up()
    first = tlog.checkpoint()
    grid, rider = world.scene()
    for _ in range(3):
        world.piece(grid, rider)
    tlog.sequencer().catch_up()
    second = tlog.checkpoint()
    assert 256 < first.size < second.size
    with served(tlog) as url:
        assert httpx.get(url + "checkpoint").text == second.note
        answers = ask(verifier, [tiles_request(url, tlog),
                                 tiles_request(url, tlog, old=first.size, old_root=first.root.hex()),
                                 tiles_request(url, tlog, old=1, old_root=first.root.hex())])
    assert answers[:2] == ["ok", "ok"]
    assert answers[2].startswith("fail: the log no longer extends the kept checkpoint of 1")


def test_the_go_tlog_client_refuses_an_entry_changed_after_it_was_sequenced(
        verifier: Path, grown: tuple[TransparencyLog, World]) -> None:
    tlog, _ = grown
    tlog.sequencer().catch_up()
    tlog.checkpoint()
    datastore = tlog.eventlog.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(f"UPDATE {tlog.eventlog.table} SET state = CAST(replace(CAST(state AS TEXT), "  # type: ignore[attr-defined]
                       "'patrol', 'petrol') AS BLOB) WHERE rowid = (SELECT max(rowid) FROM "
                       f"{tlog.eventlog.table} WHERE instr(CAST(state AS TEXT), 'patrol') > 0)")  # type: ignore[attr-defined]
        cursor.execute("SELECT changes() AS n")
        assert cursor.fetchone()["n"] == 1
    with served(tlog) as url:
        [answer] = ask(verifier, [tiles_request(url, tlog)])
        without_entries = ask(verifier, [tiles_request(url, tlog, entries=False)])
    assert answer.startswith("fail: entry ") and "does not hash to leaf" in answer
    assert without_entries == ["ok"]  # the hashes were not touched: only the entries tell


def test_tiles_are_cached_as_long_as_they_stay_the_same(grown: tuple[TransparencyLog, World]) -> None:
    tlog, _ = grown
    tlog.sequencer().catch_up()
    checkpoint = tlog.checkpoint()
    with served(tlog) as url:
        full = httpx.get(url + "tile/0/000")
        partial = httpx.get(url + f"tile/0/001.p/{checkpoint.size - 256}")
        entries = httpx.get(url + "tile/entries/000", headers={"Accept-Encoding": "gzip"})
        latest = httpx.get(url + "checkpoint")
        beyond = httpx.get(url + "tile/0/002")
        crooked = httpx.get(url + "tile/0/x000/000")
    assert (full.status_code, len(full.content), full.headers["content-type"]) == (200, 8192, "application/octet-stream")
    assert "immutable" in full.headers["cache-control"]
    assert partial.status_code == 200 and len(partial.content) == 32 * (checkpoint.size - 256)
    assert "immutable" not in partial.headers["cache-control"]
    assert entries.headers["content-encoding"] == "gzip" and entries.content.count(b"gridgov-leaf-v1\n") == 256
    assert latest.headers["content-type"] == "text/plain; charset=utf-8" and "max-age=2" in latest.headers["cache-control"]
    assert (beyond.status_code, crooked.status_code) == (404, 404)


def test_the_engine_serves_tiles_to_anyone_without_a_token(server: tuple[str, object]) -> None:
    base, _ = server
    no_checkpoint = httpx.get(base + "/tlog/checkpoint")  # no signing key here: nothing signed
    not_yet = httpx.get(base + "/tlog/tile/0/000")
    assert (no_checkpoint.status_code, not_yet.status_code) == (404, 404)
    assert no_checkpoint.headers["content-type"].startswith("text/plain")
