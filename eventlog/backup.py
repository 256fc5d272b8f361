"""A backup of the event store's database in one file, and its restore into an
empty store (docs/operations.md, "Backups and restore").

What is kept: the events, the key stores (eventlog/keys.py) and the transparency
log's tables (transparency/store.py) — all that cannot be made again. The read
models can: a restore rebuilds them from the events.

The file is a zip: `manifest.json` (the backend, the log's head, the tree's size
and newest signed root, and each part's columns, row count and SHA-256), then one
part per table, a JSON array per row (bytes as {"$b": base64}). A zip's directory
is at its end, so a truncated file does not open; each part is checked against the
manifest before anything is written. Edits with the manifest recomputed pass
that check: only the transparency log's signed checkpoints catch them
(`gridgov audit verify --checkpoint`).

One snapshot for the whole: SQLite's online backup API copies the database to a
temporary file first; PostgreSQL reads every table inside one REPEATABLE READ
transaction (rows, not pg_dump: the file restores into a schema of any name, needs
no pg_dump of the server's version on the host, and is the same format as SQLite's).
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, get_args

import orjson
import psycopg

from eventlog.erasures import Erasure
from eventlog.keys import KeyKind

FORMAT, VERSION = "gridgov-backup", 1
MANIFEST = "manifest.json"
EVENTS = "events"  # the events table's part, whatever the backend names the table
TREE = ("tlog_nodes", "tlog_leaves", "tlog_checkpoints", "tlog_cosignatures")
KEYS = tuple(f"{kind}_keys" for kind in get_args(KeyKind))
ORDER = {"tlog_nodes": "key", "tlog_leaves": "idx", "tlog_checkpoints": "size",
         "tlog_cosignatures": "size, witness", **{t: t.removesuffix("_keys") + "_id" for t in KEYS}}
BATCH = 2000

Progress = Callable[[int, int], None]  # rows done so far, of how many


class BackupError(ValueError):
    """A backup that cannot be restored, or a store it cannot go into: one line, what is wrong."""


@dataclass(frozen=True)
class Store:
    """Where the event store's tables are: a SQLite file, or a PostgreSQL schema."""
    backend: str  # "sqlite" or "postgres"
    events_table: str  # the library's recorder's (`events_table_name`)
    sqlite_file: str = ""
    conninfo: str = ""
    schema: str = ""

    def table(self, part: str) -> str:
        name = self.events_table if part == EVENTS else part
        return f'"{self.schema}"."{name}"' if self.backend == "postgres" else name

    @property
    def param(self) -> str:
        return "%s" if self.backend == "postgres" else "?"

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A cursor that sees one consistent state of every table."""
        if self.backend == "sqlite":
            if not Path(self.sqlite_file).is_file():
                raise BackupError(f"no event store at SQLITE_DBNAME={self.sqlite_file}")
            with tempfile.TemporaryDirectory() as folder:
                copy = sqlite3.connect(Path(folder) / "copy.sqlite")
                source = sqlite3.connect(f"file:{self.sqlite_file}?mode=ro", uri=True)
                try:
                    source.backup(copy)
                finally:
                    source.close()
                try:
                    yield copy.cursor()
                finally:
                    copy.close()
            return
        with psycopg.connect(self.conninfo) as conn:
            # Set before the first statement: psycopg opens the transaction with it.
            conn.isolation_level, conn.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
            with conn.cursor() as cursor:
                yield cursor

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """A cursor in one transaction: committed if the block ends well, else nothing written."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.sqlite_file, timeout=30, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn.cursor()
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()
            return
        with psycopg.connect(self.conninfo) as conn, conn.transaction(), conn.cursor() as cursor:
            yield cursor

    def tables(self, cursor: Any) -> list[str]:
        """The tables a backup holds that exist here (a key store is made on first use)."""
        if self.backend == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,))
        present = {EVENTS if row[0] == self.events_table else row[0] for row in cursor.fetchall()}
        return [t for t in (EVENTS, *KEYS, *TREE) if t in present]

    @property
    def position(self) -> str:
        """The events table's column of the log position."""
        return "rowid" if self.backend == "sqlite" else "notification_id"

    def select(self, table: str) -> str:
        # A SQLite event's position is its rowid, which only an explicit column keeps.
        columns = "rowid, *" if self.backend == "sqlite" and table == EVENTS else "*"
        order = ORDER.get(table) or self.position
        return f"SELECT {columns} FROM {self.table(table)} ORDER BY {order}"


# --- writing a backup -------------------------------------------------------------------

def backup(store: Store, path: Path, erasures: set[Erasure], progress: Progress = lambda done, total: None) -> dict[str, Any]:
    """Write the store's tables to `path` (a new file, complete or not there at all); the manifest."""
    temporary = path.with_name(path.name + ".partial")
    parts: dict[str, Any] = {}
    try:
        manifest = _backup(store, temporary, parts, erasures, progress)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    temporary.replace(path)
    return manifest


def _backup(store: Store, temporary: Path, parts: dict[str, Any], erasures: set[Erasure],
            progress: Progress) -> dict[str, Any]:
    with store.snapshot() as cursor, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as zf:
        tables = store.tables(cursor)
        if EVENTS not in tables:
            raise BackupError(f"no event store in {store.sqlite_file or 'schema ' + store.schema} "
                              f"(no table {store.events_table})")
        total = _count_rows(store, cursor, tables)
        done = 0
        for table in tables:
            parts[table] = _write_part(zf, table, cursor, store.select(table))
            done += parts[table]["rows"]
            progress(done, total)
        manifest = {"format": FORMAT, "version": VERSION, "backend": store.backend,
                    "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "log": _log_facts(cursor, store, tables), "parts": parts,
                    "erasures": sorted(erasures)}
        zf.writestr(MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def _count_rows(store: Store, cursor: Any, tables: list[str]) -> int:
    total = 0
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {store.table(table)}")
        total += int(cursor.fetchone()[0])
    return total


def _write_part(zf: zipfile.ZipFile, table: str, cursor: Any, sql: str) -> dict[str, Any]:
    with _streaming(cursor, table) as rows_of:
        rows_of.execute(sql)
        columns = [d[0] for d in rows_of.description]
        digest, rows = hashlib.sha256(), 0
        with zf.open(f"{table}.jsonl", "w") as part:
            while batch := rows_of.fetchmany(BATCH):
                chunk = b"".join(orjson.dumps(list(row), default=_encode) + b"\n" for row in batch)
                digest.update(chunk)
                part.write(chunk)
                rows += len(batch)
    return {"columns": columns, "rows": rows, "sha256": digest.hexdigest()}


@contextmanager
def _streaming(cursor: Any, table: str) -> Iterator[Any]:
    """A cursor that fetches as it is read: PostgreSQL's ordinary one holds the whole answer
    (millions of events), so a server-side one, in the same snapshot's transaction."""
    if isinstance(cursor, sqlite3.Cursor):
        yield cursor
        return
    with cursor.connection.cursor(name=f"backup_{table}") as named:
        named.itersize = BATCH
        yield named


def _log_facts(cursor: Any, store: Store, tables: list[str]) -> dict[str, Any]:
    """The log's head, the tree's size and its newest signed root, as the snapshot saw them."""
    cursor.execute(f"SELECT coalesce(max({store.position}), 0) FROM {store.table(EVENTS)}")
    facts: dict[str, Any] = {"head": int(cursor.fetchone()[0]), "tree_size": 0, "checkpoint": None}
    if "tlog_leaves" in tables:
        cursor.execute(f"SELECT count(*) FROM {store.table('tlog_leaves')}")
        facts["tree_size"] = int(cursor.fetchone()[0])
    if "tlog_checkpoints" in tables:
        cursor.execute(f"SELECT size, root FROM {store.table('tlog_checkpoints')} ORDER BY size DESC LIMIT 1")
        row = cursor.fetchone()
        if row is not None:
            facts["checkpoint"] = {"size": int(row[0]), "root": bytes(row[1]).hex()}
    return facts


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot keep a {type(value).__name__} in a backup")


def _decode(value: Any) -> Any:
    return base64.b64decode(value["$b"]) if isinstance(value, dict) else value


# --- reading one back -------------------------------------------------------------------

def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup whose every part matches it; BackupError otherwise."""
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = _manifest(zf)
            for table, part in manifest["parts"].items():
                digest, rows = hashlib.sha256(), 0
                with zf.open(f"{table}.jsonl") as f:
                    for line in f:
                        digest.update(line)
                        rows += 1
                if digest.hexdigest() != part["sha256"] or rows != part["rows"]:
                    raise BackupError(f"{path}: part {table} does not match the manifest (changed or damaged): "
                                      "nothing restored")
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error, NotImplementedError) as e:
        raise BackupError(f"{path}: not a complete gridgov backup ({e})") from None
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, BackupError):
            raise
        raise BackupError(f"{path}: not a gridgov backup ({type(e).__name__}: {e})") from None
    return manifest


def _manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = orjson.loads(zf.read(MANIFEST))
    except KeyError:
        raise BackupError("no manifest.json: not a gridgov backup") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("its manifest is not a gridgov backup's")
    if manifest.get("version") != VERSION:
        raise BackupError(f"backup format version {manifest.get('version')!r}; this gridgov reads {VERSION}")
    unknown = set(manifest["parts"]) - {EVENTS, *KEYS, *TREE}
    if unknown or EVENTS not in manifest["parts"]:
        raise BackupError(f"its parts are not a gridgov backup's: {sorted(unknown) or 'no events'}")
    return manifest


def restore(store: Store, path: Path, erasures: set[Erasure], progress: Progress = lambda done, total: None) -> dict[str, Any]:
    """Load a checked backup into the store's (made, empty) tables in one transaction,
    then drop every key the erasure lists name (the backup's and `erasures`): all or nothing.
    What was done: the manifest, and how many keys stayed erased."""
    manifest = read_manifest(path)
    total = sum(part["rows"] for part in manifest["parts"].values())
    if manifest["backend"] != store.backend:
        raise BackupError(f"{path} is a backup of a {manifest['backend']} store; this one is {store.backend}")
    erased = erasures | {tuple(e) for e in manifest["erasures"]}  # type: ignore[misc]
    with zipfile.ZipFile(path) as zf, store.writing() as cursor:
        present = store.tables(cursor)
        missing = set(manifest["parts"]) - set(present)
        if missing:
            raise BackupError(f"the store has no table {sorted(missing)[0]}: open it once with gridgov first")
        _refuse_unless_empty(store, cursor, present)
        done = 0
        for table, part in manifest["parts"].items():
            try:
                done = _load_part(zf, store, cursor, table, part["columns"], done, lambda n: progress(n, total))
            except (sqlite3.Error, psycopg.Error, KeyError, TypeError, ValueError) as e:
                if isinstance(e, BackupError):
                    raise
                # Rows the manifest vouches for that the table refuses: a forged file, not ours.
                raise BackupError(f"{path}: part {table} does not fit its table ({type(e).__name__}: "
                                  f"{str(e).splitlines()[0] if str(e) else ''}): nothing restored") from None
        _continue_positions(store, cursor)
        dropped = _drop_erased(store, cursor, present, erased)
    return {**manifest, "kept_erased": dropped}


def _refuse_unless_empty(store: Store, cursor: Any, present: list[str]) -> None:
    for table in present:
        cursor.execute(f"SELECT count(*) FROM {store.table(table)}")
        rows = int(cursor.fetchone()[0])
        if rows:
            raise BackupError(f"the store is not empty ({table} holds {rows:,} rows): restore only into an empty "
                              "store (a new SQLite file, or a new PostgreSQL schema)")


def _load_part(zf: zipfile.ZipFile, store: Store, cursor: Any, table: str, columns: list[str], done: int,
               progress: Callable[[int], None]) -> int:
    # The names go into SQL: only the table's own columns (a forged manifest names no other).
    cursor.execute(f"SELECT * FROM {store.table(table)} LIMIT 0")
    known = {d[0] for d in cursor.description} | ({"rowid"} if store.backend == "sqlite" and table == EVENTS else set())
    if not columns or not set(columns) <= known or len(set(columns)) != len(columns):
        raise BackupError(f"part {table} names columns its table does not have: {sorted(set(columns) - known)}")
    sql = (f"INSERT INTO {store.table(table)} ({', '.join(columns)}) "
           f"VALUES ({', '.join([store.param] * len(columns))})")
    with zf.open(f"{table}.jsonl") as f:
        batch: list[list[Any]] = []
        for line in f:
            batch.append([_decode(v) for v in orjson.loads(line)])
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                done += len(batch)
                progress(done)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            done += len(batch)
            progress(done)
    return done


def _continue_positions(store: Store, cursor: Any) -> None:
    """PostgreSQL's next position after the restored ones (SQLite's rowid follows its max itself)."""
    if store.backend == "postgres":
        table = store.table(EVENTS)
        cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), "
                       f"coalesce((SELECT max(notification_id) FROM {table}), 0) + 1, false)", (table,))


def _drop_erased(store: Store, cursor: Any, present: list[str], erased: set[Any]) -> int:
    dropped = 0
    for kind, owner in sorted(erased):
        table = f"{kind}_keys"
        if table in present:
            cursor.execute(f"DELETE FROM {store.table(table)} WHERE {kind}_id = {store.param}", (owner,))
            dropped += max(cursor.rowcount, 0)
    return dropped
