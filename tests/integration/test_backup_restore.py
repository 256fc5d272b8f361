"""`gridgov backup` and `gridgov restore` (docs/operations.md, "Backups and restore"),
on SQLite and on PostgreSQL (two schemas of the test's own): a restored store is the
one backed up — `audit verify` against a checkpoint kept before the backup passes and
the read models rebuild to equal —; bad input is one line, exit 2, nothing restored; an
amount edited in the file is caught, by restore when the manifest no longer matches,
by the signed checkpoint when its hashes were recomputed; and an erased rider's key
does not come back from a backup made before the erasure."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.audit_cli import CLEAN, TAMPERED
from api.cli import app as cli
from domain import commands as c
from domain.clock import ManualClock
from eventlog.backup import BackupError, Store, backup, restore
from gridgov.bootstrap import application, bootstrap
from gridgov.settings import load_settings
from tests.fixtures.world import START, World
from tests.fixtures.stores import postgres_settings, require_postgres
from transparency.checkpoints import Signer
from transparency.store import open_tree_store

ORIGIN = "gridgov.test/backup"


class Sides:
    """The store backed up ("source") and the empty one restored into ("target"): the
    environment the `gridgov` commands read, switched between them."""

    def __init__(self, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.backend, self.tmp, self.env = backend, tmp_path, monkeypatch
        self.prefix, self.schemas = f"t_{uuid.uuid4().hex[:12]}", []
        key = tmp_path / "audit.key"
        key.write_text(Signer.generate(ORIGIN).text())
        for name, value in {"AUDIT_KEY_FILE": str(key), "AUDIT_ORIGIN": ORIGIN, "REBUILD_WORKERS": "1",
                            "GRIDGOV_BLOBS_DIR": str(tmp_path / "photos"),
                            "GRIDGOV_ERASURES_DIR": str(tmp_path / "erasures")}.items():
            monkeypatch.setenv(name, value)
        for name in ("KAFKA_BOOTSTRAP_SERVERS", "AUDIT_WITNESSES", "CIPHER_TOPIC", "COMPRESSOR_TOPIC"):
            monkeypatch.delenv(name, raising=False)
        if backend == "postgres":
            for name, value in postgres_settings().items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("READMODEL_STORE", "postgres")
        else:
            monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.sqlite")
            monkeypatch.delenv("READMODEL_STORE", raising=False)

    def use(self, side: str) -> None:
        if self.backend == "postgres":
            schema = f"{self.prefix}_{side}"
            self.schemas.append(schema)
            self.env.setenv("POSTGRES_SCHEMA", schema)
            self.env.setenv("READMODEL_SCHEMA", schema + "_rm")
        else:
            self.env.setenv("SQLITE_DBNAME", str(self.tmp / f"{side}-events.sqlite"))
            self.env.setenv("READMODEL_SQLITE_DBNAME", str(self.tmp / f"{side}-readmodels.sqlite"))

    def drop(self) -> None:
        if self.backend == "postgres":
            with psycopg.connect(load_settings().postgres_conninfo(), autocommit=True) as conn:
                for schema in self.schemas:
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema}_rm CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def sides(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sides]:
    if request.param == "postgres":
        require_postgres()
    made = Sides(request.param, tmp_path, monkeypatch)
    try:
        yield made
    finally:
        made.drop()


class Story:
    """What the source store holds: two riders who did paid work, and a checkpoint
    signed and kept (as an auditor keeps one) before the backup."""

    def __init__(self, sides: Sides) -> None:
        sides.use("source")
        engine = bootstrap(load_settings(), clock=ManualClock(START), feed=False)
        try:
            world = World(engine.app, engine.app.clock)  # type: ignore[arg-type]
            grid, self.kept_rider = world.scene()
            self.erased_rider = world.rider(grid)
            for rider in (self.kept_rider, self.erased_rider, self.kept_rider):
                world.piece(grid, rider)
            self.events = engine.app.head()
        finally:
            engine.close()
        signed = CliRunner().invoke(cli, ["audit", "checkpoint"])
        assert signed.exit_code == 0, signed.output
        self.checkpoint = sides.tmp / "kept-checkpoint.txt"
        self.checkpoint.write_text(signed.stdout)

    def erase(self, rider: uuid.UUID) -> None:
        engine = bootstrap(load_settings(), clock=ManualClock(START), feed=False)
        try:
            engine.app.execute(c.ErasePersonalData(rider_id=rider, reason="the rider asked"), World(
                engine.app, engine.app.clock).admin)  # type: ignore[arg-type]
        finally:
            engine.close()


def gridgov(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def personal(rider: uuid.UUID) -> dict[str, str] | None:
    engine = bootstrap(load_settings(), feed=False)
    try:
        return engine.app.personal_data(rider)
    finally:
        engine.close()


def _riders_in_store() -> list[uuid.UUID]:
    from domain.riders import RiderRegistered
    from domain.events import topics_of

    engine = bootstrap(load_settings(), feed=False)
    try:
        rows = engine.app.eventlog.page(0, 100_000, topics_of([RiderRegistered]))
        return [uuid.UUID(row[1]) for row in rows]
    finally:
        engine.close()


def events_in_store() -> int:
    engine = bootstrap(load_settings(), feed=False)
    try:
        return engine.app.head()
    finally:
        engine.close()


def test_a_restored_store_is_the_one_backed_up(sides: Sides) -> None:
    story = Story(sides)
    backup = sides.tmp / "city.gridgov-backup"
    made = gridgov("backup", str(backup))
    assert made.exit_code == 0, made.output
    assert f"log head {story.events:,}" in made.stdout
    manifest = orjson.loads(zipfile.ZipFile(backup).read("manifest.json"))
    assert manifest["log"]["head"] == manifest["log"]["tree_size"] == story.events
    assert manifest["parts"]["events"]["rows"] == story.events
    assert manifest["parts"]["rider_keys"]["rows"] == 2

    sides.use("target")
    restored = gridgov("restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "rebuilt every read model" in restored.stdout
    verified = gridgov("audit", "verify", "--checkpoint", str(story.checkpoint))
    assert verified.exit_code == CLEAN, verified.output
    assert f"clean: {story.events:,} events" in verified.stdout
    assert gridgov("projections", "verify", "all").exit_code == 0
    assert personal(story.kept_rider) is not None  # its key came back with it
    again = gridgov("restore", str(backup))
    assert again.exit_code == 2
    assert "not empty" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert events_in_store() == story.events


def test_bad_input_is_one_line_and_restores_nothing(sides: Sides) -> None:
    Story(sides)
    backup = sides.tmp / "city.gridgov-backup"
    assert gridgov("backup", str(backup)).exit_code == 0
    assert gridgov("backup", str(backup)).exit_code == 2  # never overwritten
    whole = backup.read_bytes()
    bad = {"truncated": (whole[: len(whole) * 2 // 3], "not a complete gridgov backup"),
           "not a backup": (b"id,amount\n1,500\n", "not a complete gridgov backup"),
           "a zip of something else": (_zip({"readme.txt": b"hello"}), "not a gridgov backup"),
           "an amount edited": (_edited(whole, recompute=False), "events does not match the manifest"),
           "a column its table lacks": (_renamed(whole), "names columns its table does not have")}
    sides.use("target")
    for what, (data, words) in bad.items():
        path = sides.tmp / "bad.gridgov-backup"
        path.write_bytes(data)
        refused = gridgov("restore", str(path))
        assert refused.exit_code == 2, (what, refused.output)
        assert len(refused.stderr.strip().splitlines()) == 1 and words in refused.stderr, (what, refused.stderr)
    assert events_in_store() == 0  # nothing half-restored


def test_an_edit_with_the_manifest_recomputed_is_caught_by_the_kept_checkpoint(sides: Sides) -> None:
    story = Story(sides)
    backup = sides.tmp / "city.gridgov-backup"
    assert gridgov("backup", str(backup)).exit_code == 0
    forged = sides.tmp / "forged.gridgov-backup"
    forged.write_bytes(_edited(backup.read_bytes(), recompute=True))
    sides.use("target")
    restored = gridgov("restore", "--no-rebuild", str(forged))
    assert restored.exit_code == 0, restored.output  # the manifest agrees with the edit
    verified = gridgov("audit", "verify", "--checkpoint", str(story.checkpoint))
    assert verified.exit_code == TAMPERED, verified.output


def test_an_erased_riders_key_does_not_come_back_from_an_old_backup(sides: Sides) -> None:
    story = Story(sides)
    old = sides.tmp / "before-the-erasure.gridgov-backup"
    assert gridgov("backup", str(old)).exit_code == 0
    story.erase(story.erased_rider)
    assert personal(story.erased_rider) is None

    sides.use("target")
    restored = gridgov("restore", "--no-rebuild", str(old))
    assert restored.exit_code == 0, restored.output
    assert personal(story.erased_rider) is None
    assert "keys kept erased: 1" in restored.stdout
    assert personal(story.kept_rider) is not None
    assert gridgov("audit", "verify", "--checkpoint", str(story.checkpoint)).exit_code == CLEAN


def test_a_backup_is_one_moment_however_the_store_moves_while_it_is_written(sides: Sides) -> None:
    """Every table read in the same snapshot: after each part is written, more commands
    run, are sequenced and signed; the backup still holds no leaf of an event it lacks,
    no node of a leaf it lacks, no rider without its key."""
    story = Story(sides)
    engine = bootstrap(load_settings(), clock=ManualClock(START), feed=False)
    world = World(engine.app, engine.app.clock)  # type: ignore[arg-type]
    grid, sequencer = world.grid("柳城-2"), engine.tlog.sequencer()

    def meanwhile(done: int, total: int) -> None:
        world.piece(grid, world.rider(grid))
        sequencer.catch_up(lambda _: None)
        engine.tlog.checkpoint()

    path, before = sides.tmp / "moving.gridgov-backup", engine.app.head()
    try:
        manifest = backup(_source_store(sides, engine.app), path, set(), meanwhile)
        assert manifest["log"]["head"] == before < engine.app.head()
    finally:
        engine.close()
    sides.use("target")
    assert gridgov("restore", "--no-rebuild", str(path)).exit_code == 0
    verified = gridgov("audit", "verify", "--checkpoint", str(story.checkpoint))
    assert verified.exit_code == CLEAN, verified.output
    riders = _riders_in_store()
    assert len(riders) >= 2 and all(personal(rider) is not None for rider in riders)


def _source_store(sides: Sides, app: Any) -> Store:
    settings, table = load_settings(), app.recorder.events_table_name
    if sides.backend == "postgres":
        return Store("postgres", table, conninfo=settings.postgres_conninfo(), schema=settings.POSTGRES_SCHEMA)
    return Store("sqlite", table, sqlite_file=settings.SQLITE_DBNAME)


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _edited(whole: bytes, recompute: bool) -> bytes:
    """The backup with one award's amount raised a hundredfold; the manifest's hash of the
    events part recomputed or left as it was."""
    with zipfile.ZipFile(io.BytesIO(whole)) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    manifest = orjson.loads(parts["manifest.json"])
    columns = manifest["parts"]["events"]["columns"]
    topic, state = columns.index("topic"), columns.index("state")
    lines = parts["events.jsonl"].splitlines(keepends=True)
    for i, line in enumerate(lines):
        row = orjson.loads(line)
        if row[topic].endswith("SubsidyAwarded"):
            data = orjson.loads(base64.b64decode(row[state]["$b"]))
            data["fen"] *= 100
            row[state] = {"$b": base64.b64encode(orjson.dumps(data)).decode()}
            lines[i] = orjson.dumps(row) + b"\n"
            break
    else:
        raise AssertionError("no award in the backup")
    parts["events.jsonl"] = b"".join(lines)
    if recompute:
        manifest["parts"]["events"]["sha256"] = hashlib.sha256(parts["events.jsonl"]).hexdigest()
        parts["manifest.json"] = orjson.dumps(manifest)
    return _zip(parts)


@pytest.fixture(scope="module")
def small_backup(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, str]]:
    """A SQLite store's backup, and its parts' hashes: made once for the property below."""
    folder = tmp_path_factory.mktemp("small")
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite")}
    app = application(load_settings(env), clock=ManualClock(START))
    try:
        world = World(app, app.clock)  # type: ignore[arg-type]
        grid, rider = world.scene()
        world.piece(grid, rider)
        open_tree_store(app.eventlog).tip()
        for kind in ("rider", "redemption", "photo"):
            app.eventlog.keys(kind)  # type: ignore[arg-type]
        store = Store("sqlite", app.recorder.events_table_name, sqlite_file=env["SQLITE_DBNAME"])
        manifest = backup(store, folder / "small.gridgov-backup", set())
    finally:
        app.close()
    return (folder / "small.gridgov-backup").read_bytes(), {t: p["sha256"] for t, p in manifest["parts"].items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_to_a_backup_is_refused_whole_or_changes_nothing(small_backup: tuple[bytes, dict[str, str]],
                                                                   tmp_path: Path, data: st.DataObject) -> None:
    """Cut anywhere, a byte changed anywhere, bytes put in anywhere: `restore` refuses it with
    BackupError and the store stays empty, or restores exactly the rows backed up."""
    whole, hashes = small_backup
    at = data.draw(st.integers(0, len(whole) - 1), label="at")
    damaged = data.draw(st.sampled_from([
        whole[:at],
        whole[:at] + bytes([whole[at] ^ data.draw(st.integers(1, 255), label="xor")]) + whole[at + 1:],
        whole[:at] + data.draw(st.binary(min_size=1, max_size=8), label="put in") + whole[at:],
    ]), label="damaged")
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    (folder / "in.gridgov-backup").write_bytes(damaged)
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.sqlite")}
    app = application(load_settings(env))
    try:
        open_tree_store(app.eventlog).tip()
        for kind in ("rider", "redemption", "photo"):
            app.eventlog.keys(kind)  # type: ignore[arg-type]
        store = Store("sqlite", app.recorder.events_table_name, sqlite_file=env["SQLITE_DBNAME"])
        try:
            restore(store, folder / "in.gridgov-backup", set())
        except BackupError as refused:
            assert "\n" not in str(refused)
            again = backup(store, folder / "after.gridgov-backup", set())
            assert {t: p["rows"] for t, p in again["parts"].items()} == dict.fromkeys(hashes, 0)
            return
        again = backup(store, folder / "after.gridgov-backup", set())
        assert {t: p["sha256"] for t, p in again["parts"].items()} == hashes
    finally:
        app.close()


def _renamed(whole: bytes) -> bytes:
    """The manifest naming a column the events table does not have (its hashes still agree)."""
    with zipfile.ZipFile(io.BytesIO(whole)) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    manifest = orjson.loads(parts["manifest.json"])
    manifest["parts"]["events"]["columns"][-1] = "state) VALUES (1); DROP TABLE rider_keys; --"
    parts["manifest.json"] = orjson.dumps(manifest)
    return _zip(parts)
