"""`gridgov audit mirror URL DIR`: an auditor's copy of the log by plain GETs of its tiles,
every root and consistency checked on the way; a copy that any tile client reads as the
log itself; resumed where it stopped; and a rewrite of history, re-signed, caught by
whoever mirrored before, with the log's own signed checkpoint kept as evidence."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.audit_mirror import BAD_INPUT, SPLIT, MirrorError, run
from api.cli import app as cli
from tests.fixtures.world import World
from tests.fixtures.tlog import ORIGIN, ask, served, tiles_request
from transparency.log import TransparencyLog
from transparency.store import open_tree_store


@contextmanager
def static(folder: Path) -> Iterator[str]:
    """A plain static file server over a folder (what a mirror is served by)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def key_of(tlog: TransparencyLog) -> str:
    assert tlog.verifier is not None
    return tlog.verifier.text()


def more_events(world: World, pieces: int = 3) -> None:
    grid, rider = world.scene()
    for _ in range(pieces):
        world.piece(grid, rider)


def test_a_mirror_is_the_log_to_any_tile_client_and_grows_by_what_is_new(
        tmp_path: Path, verifier: Path, grown: tuple[TransparencyLog, World]) -> None:
    tlog, world = grown
    tlog.sequencer().catch_up()
    first = tlog.checkpoint()
    folder = tmp_path / "mirror"
    with served(tlog) as url, httpx.Client() as client:
        once = run(url, folder, key_of(tlog), client)
        assert (once.checkpoint.size, once.reused) == (first.size, 0)
        assert once.fetched == 2 + 2 + 1  # level 0 and its entries: one full, one partial; level 1: partial
        more_events(world)
        tlog.sequencer().catch_up()
        second = tlog.checkpoint()
        again = run(url, folder, None, client)  # the key was kept
    assert again.kept is not None and again.kept.size == first.size and again.checkpoint.size == second.size
    assert (again.fetched, again.reused) == (2, 3)  # the full tiles, and level 1 of width 1, not fetched again
    assert (folder / "checkpoint").read_text() == second.note
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == sorted([str(first.size), str(second.size)])
    assert not (folder / ".pending").exists()
    with static(folder) as mirror_url:
        assert ask(verifier, [tiles_request(mirror_url, tlog, old=first.size, old_root=first.root.hex())]) == ["ok"]


class Cut(httpx.BaseTransport):
    """A connection that breaks after so many GETs, as a mirror stopped half way."""

    def __init__(self, after: int) -> None:
        self.left = after
        self.inner = httpx.HTTPTransport()
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.left -= 1
            if self.left < 0:
                raise httpx.ConnectError("cut", request=request)
        return self.inner.handle_request(request)


def test_a_mirror_stopped_half_way_resumes_where_it_stopped(tmp_path: Path,
                                                            grown: tuple[TransparencyLog, World]) -> None:
    tlog, _ = grown
    tlog.sequencer().catch_up()
    checkpoint = tlog.checkpoint()
    folder = tmp_path / "mirror"
    with served(tlog) as url:
        with httpx.Client(transport=Cut(3)) as cut, pytest.raises(MirrorError) as stopped:
            run(url, folder, key_of(tlog), cut)
        assert stopped.value.code == BAD_INPUT and not (folder / "checkpoint").exists()
        pending = [p for p in (folder / ".pending").rglob("*") if p.is_file()]
        assert 1 <= len(pending) <= 2  # the checkpoint was the first GET
        with httpx.Client() as client:
            resumed = run(url, folder, None, client)
    assert (resumed.checkpoint.size, resumed.fetched + resumed.reused) == (checkpoint.size, 5)
    assert resumed.reused == len(pending)


def rewrite_history(tlog: TransparencyLog, world: World) -> TransparencyLog:
    """An insider with the database and the key: one stored event changed, the whole tree
    recomputed and re-signed, a little more history after it."""
    log = tlog.eventlog
    with log.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
        cursor.execute(f"UPDATE {log.table} SET state = CAST(replace(CAST(state AS TEXT), 'patrol', 'petrol') "  # type: ignore[attr-defined]
                       f"AS BLOB) WHERE rowid = (SELECT min(rowid) FROM {log.table} "  # type: ignore[attr-defined]
                       "WHERE instr(CAST(state AS TEXT), 'patrol') > 0)")
        for table in ("tlog_nodes", "tlog_leaves", "tlog_checkpoints"):
            cursor.execute(f"DELETE FROM {table}")
    more_events(world, 1)
    again = TransparencyLog(log, open_tree_store(log), ORIGIN, tlog.signer, tlog.decode)
    again.sequencer().catch_up()
    again.checkpoint()
    return again


@pytest.mark.parametrize("first_tiles_whole", [True, False])
def test_a_rewritten_and_re_signed_history_is_caught_by_whoever_mirrored_before(
        tmp_path: Path, grown: tuple[TransparencyLog, World], first_tiles_whole: bool) -> None:
    tlog, world = grown
    if first_tiles_whole:
        tlog.sequencer().catch_up()
    else:  # a mirror of a tree of fewer than 256 leaves: its only tile is partial, fetched again
        tlog.sequence_to(100)
    kept = tlog.checkpoint()
    folder = tmp_path / "mirror"
    with served(tlog) as url, httpx.Client() as client:
        run(url, folder, key_of(tlog), client)
        rewritten = rewrite_history(tlog, world)
        with pytest.raises(MirrorError) as caught:
            run(url, folder, None, client)
    assert caught.value.code == SPLIT and "evidence" in str(caught.value)
    assert (folder / "checkpoint").read_text() == kept.note  # what was mirrored stays as it was
    [evidence] = (folder / "evidence").iterdir()
    assert evidence.read_text() == rewritten.latest().note  # signed by the log itself


def test_the_command_line_mirrors_and_says_why_it_will_not(tmp_path: Path,
                                                          grown: tuple[TransparencyLog, World]) -> None:
    tlog, _ = grown
    tlog.sequencer().catch_up()
    tlog.checkpoint()
    with served(tlog) as url:
        no_key = CliRunner().invoke(cli, ["audit", "mirror", url, str(tmp_path / "m")])
        done = CliRunner().invoke(cli, ["audit", "mirror", url, str(tmp_path / "m"), "--key", key_of(tlog)])
    assert no_key.exit_code == BAD_INPUT and "--key" in no_key.output
    assert done.exit_code == 0, done.output
    assert f"mirrored {tlog.size():,} leaves" in done.output
