"""docs/audit.md's "Leaf data" is enough: each leaf is recomputed from the tiles' entry
bundles alone, read as the document says, and from the stored rows by the document's
own SQL (its table, its id spelling), on SQLite, on PostgreSQL, and on a store that
compresses and encrypts (where the entry carries what only the key would decode, and
nothing in clear)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from eventsourcing.cipher import AESCipher

from domain.clock import ManualClock
from gridgov import bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World, tour_of_every_event_type
from tests.fixtures.tlog import ORIGIN, served
from transparency.checkpoints import Signer
from transparency.log import TransparencyLog
from transparency.merkle import Tree
from transparency.store import open_tree_store

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SEALED = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
          "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": AESCipher.create_key(16)}


@pytest.fixture(params=["sqlite", "postgres", "sqlite-encrypted"])
def store(request: pytest.FixtureRequest) -> Iterator[tuple[dict[str, str], bool]]:
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        yield request.getfixturevalue("postgres_schema"), False
    elif request.param == "sqlite":
        yield request.getfixturevalue("sqlite_file"), False
    else:
        yield {**request.getfixturevalue("sqlite_file"), **SEALED}, True


def read_entry(entry: bytes) -> dict[str, Any]:
    """An entry, read as docs/audit.md writes it: a magic line, six fields ended by LF, the payload."""
    magic, rest = entry.split(b"\n", 1)
    assert magic == b"gridgov-leaf-v1"
    fields = rest.split(b"\n", 6)
    position, stream, version, kind, recorded, length = (f.decode() for f in fields[:6])
    payload = fields[6]
    assert len(payload) == int(length) and length == str(len(payload))
    return {"position": int(position), "stream": stream, "version": int(version), "type": kind,
            "recorded": recorded, "payload": payload}


def written(leaf: dict[str, Any]) -> bytes:
    """A leaf's bytes from its fields, as docs/audit.md defines them."""
    head = (f"gridgov-leaf-v1\n{leaf['position']}\n{leaf['stream']}\n{leaf['version']}\n{leaf['type']}\n"
            f"{leaf['recorded']}\n{len(leaf['payload'])}\n")
    return head.encode() + leaf["payload"]


def unbundled(data: bytes) -> list[bytes]:
    entries = []
    while data:
        length = int.from_bytes(data[:2], "big")
        entries.append(data[2:2 + length])
        data = data[2 + length:]
    return entries


def rows_by_the_documented_sql(settings: dict[str, str], app: Any) -> list[tuple[int, str, int, str, bytes]]:
    """The stored rows as docs/audit.md says to select them, ids spelled as the leaf spells them."""
    log = app.eventlog
    if "postgres" in settings["PERSISTENCE_MODULE"]:
        with log.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(f'SELECT notification_id, originator_id::text, originator_version, topic, state '
                           f'FROM "{settings["POSTGRES_SCHEMA"]}".gridgov_events ORDER BY notification_id')
            return [(row["notification_id"], row["originator_id"], row["originator_version"], row["topic"],
                     bytes(row["state"])) for row in cursor.fetchall()]
    with log.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")
        rows = cursor.fetchall()
    assert all(re.fullmatch(r"[0-9a-f]{32}", row[1]) for row in rows)  # as the document says SQLite keeps them
    return [(row[0], f"{row[1][:8]}-{row[1][8:12]}-{row[1][12:16]}-{row[1][16:20]}-{row[1][20:]}", row[2], row[3],
             bytes(row[4])) for row in rows]


def test_every_leaf_is_recomputed_from_the_entries_alone_and_from_the_rows(
        store: tuple[dict[str, str], bool]) -> None:
    settings, encrypted = store
    clock = ManualClock(START)
    app = bootstrap.application(load_settings(settings), clock=clock)
    try:
        tour_of_every_event_type(World(app, clock))
        tlog = TransparencyLog(app.eventlog, open_tree_store(app.eventlog), ORIGIN, Signer.generate(ORIGIN),
                               app.mapper.decode_state)
        tlog.sequencer().catch_up()
        checkpoint = tlog.checkpoint()
        with served(tlog) as url, httpx.Client() as client:
            size = checkpoint.size
            entries, leaves = [], []
            for n in range((size + 255) // 256):
                width = min(256, size - 256 * n)
                suffix = "" if width == 256 else f".p/{width}"
                entries += unbundled(client.get(f"{url}tile/entries/{n:03d}{suffix}").content)
                tile = client.get(f"{url}tile/0/{n:03d}{suffix}").content
                leaves += [tile[i:i + 32] for i in range(0, len(tile), 32)]
        rows = rows_by_the_documented_sql(settings, app)
    finally:
        app.close()

    assert len(entries) == len(leaves) == len(rows) == size > 50
    read = [read_entry(entry) for entry in entries]
    assert [hashlib.sha256(b"\x00" + written(leaf)).digest() for leaf in read] == leaves
    assert Tree(leaves).root() == checkpoint.root
    for leaf, (position, stream, version, topic, state) in zip(read, rows):
        assert UUID_TEXT.fullmatch(leaf["stream"]) and leaf["type"].startswith("gridgov.")
        assert (leaf["position"], leaf["stream"], leaf["version"], leaf["payload"]) == (position, stream, version, state)
        assert leaf["type"] == "gridgov." + topic.rpartition(":")[2].removeprefix("gridgov.")
        if encrypted:
            assert b"timestamp" not in state  # nothing in clear: the entry's recorded at is what tells the time
        else:
            assert leaf["recorded"] == orjson.loads(state)["timestamp"]
        assert leaf["recorded"].startswith("20")
