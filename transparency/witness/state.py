"""What a witness remembers, in its own SQLite file: per log (origin), the latest checkpoint
it cosigned, every one it cosigned before (so another root for any of those sizes is caught),
and the evidence of splits — checkpoints the log signed that do not extend what it cosigned.

Checking a submission against the held checkpoint and recording the new one happen in one
write transaction (BEGIN IMMEDIATE: one writer at a time, across threads and processes),
committed with fsync (synchronous=FULL) before the witness answers: a witness killed at any
instant either never cosigned the new checkpoint or holds it after restart. So it can never
cosign a smaller tree after a larger one, or two roots for one size (tlog-witness's race).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    root        BLOB NOT NULL,
    note        TEXT NOT NULL,      -- the checkpoint with the log's verified signatures and this witness's
    at          INTEGER NOT NULL    -- the cosignature's timestamp
);
CREATE TABLE IF NOT EXISTS history (
    origin      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    root        BLOB NOT NULL,
    note        TEXT NOT NULL,      -- as first cosigned: a root the log signed for this size, once and for all
    at          INTEGER NOT NULL,
    PRIMARY KEY (origin, size)
);
CREATE TABLE IF NOT EXISTS evidence (
    id          INTEGER PRIMARY KEY,
    origin      TEXT NOT NULL,
    kind        TEXT NOT NULL,      -- same-size-other-root | proof-fails
    held_note   TEXT NOT NULL,      -- what this witness had cosigned (signed by the log)
    note        TEXT NOT NULL,      -- the log-signed checkpoint that does not extend it
    proof       TEXT NOT NULL,      -- the consistency proof submitted with it (base64 lines)
    at          INTEGER NOT NULL,
    UNIQUE (origin, note)
);
"""


@dataclass(frozen=True)
class Held:
    size: int
    root: bytes
    note: str
    at: int


@dataclass(frozen=True)
class Evidence:
    origin: str
    kind: str
    held_note: str
    note: str
    proof: str
    at: int


class WitnessState:
    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the answer leaves
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()  # one connection; the transaction is the unit threads take turns at

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def held(self, origin: str) -> Held | None:
        with self.transaction() as tx:
            return tx.held(origin)

    def evidence(self) -> list[Evidence]:
        with self._lock:
            rows = self._db.execute(
                "SELECT origin, kind, held_note, note, proof, at FROM evidence ORDER BY id").fetchall()
        return [Evidence(*row) for row in rows]


class Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def held(self, origin: str) -> Held | None:
        row = self._db.execute("SELECT size, root, note, at FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        return Held(row[0], bytes(row[1]), row[2], row[3]) if row else None

    def cosigned(self, origin: str, held: Held) -> None:
        self._db.execute("INSERT INTO cosigned (origin, size, root, note, at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                         "note = excluded.note, at = excluded.at",
                         (origin, held.size, held.root, held.note, held.at))
        self._db.execute("INSERT OR IGNORE INTO history (origin, size, root, note, at) VALUES (?, ?, ?, ?, ?)",
                         (origin, held.size, held.root, held.note, held.at))

    def cosigned_at(self, origin: str, size: int) -> Held | None:
        row = self._db.execute("SELECT size, root, note, at FROM history WHERE origin = ? AND size = ?",
                               (origin, size)).fetchone()
        return Held(row[0], bytes(row[1]), row[2], row[3]) if row else None

    def keep_evidence(self, evidence: Evidence) -> None:
        # The same split submitted again (a log retrying) is kept once.
        self._db.execute("INSERT OR IGNORE INTO evidence (origin, kind, held_note, note, proof, at) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (evidence.origin, evidence.kind, evidence.held_note, evidence.note, evidence.proof,
                          evidence.at))
