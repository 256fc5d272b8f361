"""Where the transparency log's tree is kept: in the event store's own database,
beside the events it is over, so a backup of one is a backup of both.

Three tables (one dict each in memory):

    tlog_nodes        key, hash        every complete subtree: key = level << 48 | index
                                       (level 0: the leaves), so any set of nodes is one
                                       `IN` query: a proof at a million leaves is ~40 of them
    tlog_leaves       index, position  which stored event leaf `index` is
    tlog_checkpoints  size, root, note the signed checkpoints, kept
    tlog_cosignatures size, witness,   each witness's cosignature of a checkpoint (C2SP
                      line, at         tlog-cosignature): the signature line it sent, once

Leaves and the nodes they complete are written in one transaction, which also
checks that the tree is the size its writer thought (`Moved` if not), so a
sequencer that crashed, or a second one, can never leave a gap or a leaf twice.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Any, Iterable

from eventsourcing.persistence import IntegrityError

from eventlog import EventLog

Node = tuple[int, int]  # (level, index)
LEVEL_SHIFT = 48  # 2^48 leaves: more events than any city writes


class Moved(Exception):
    """The tree is not the size its writer started from: another writer got there first."""


@dataclass(frozen=True)
class Leaf:
    index: int
    position: int
    hash: bytes


@dataclass(frozen=True)
class Cosignature:
    witness: str  # the witness's key name
    line: str  # its signature line, "— <name> <base64>", as it sent it
    at: str  # when it came, UTC, ISO 8601


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str  # the signed note, as the log signed it
    made_at: str  # UTC, ISO 8601
    cosignatures: tuple[Cosignature, ...] = ()

    @property
    def served(self) -> str:
        """The note as served: the log's signature and every witness's after it (a
        signed note's verifier skips the lines of keys it does not know)."""
        return self.note + "".join(c.line + "\n" for c in self.cosignatures)

    @property
    def cosigners(self) -> list[str]:
        return [c.witness for c in self.cosignatures]


def key_of(node: Node) -> int:
    level, index = node
    return level << LEVEL_SHIFT | index


def node_of(key: int) -> Node:
    return key >> LEVEL_SHIFT, key & ((1 << LEVEL_SHIFT) - 1)


class TreeStore(ABC):
    @abstractmethod
    def tip(self) -> tuple[int, int]:
        """(the tree's size, the log position of its last leaf); (0, 0) when empty."""

    @abstractmethod
    def append(self, size: int, leaves: list[tuple[int, bytes]], nodes: list[tuple[Node, bytes]]) -> None:
        """Add leaves (position, hash) at index `size` onwards, and the complete
        subtrees they make, at once. Raises Moved if the tree's size is not `size`."""

    @abstractmethod
    def nodes(self, wanted: Iterable[Node]) -> dict[Node, bytes]:
        """The hashes of those complete subtrees that exist."""

    @abstractmethod
    def level(self, height: int, start: int, end: int) -> dict[int, bytes]:
        """index → hash of the complete subtrees of `height` with index start … end − 1 that exist."""

    @abstractmethod
    def leaves(self, start: int, end: int) -> list[Leaf]:
        """Leaves start … end − 1, in order."""

    @abstractmethod
    def index_of(self, position: int) -> int | None:
        """The leaf of the stored event at `position`, if it is in the tree yet."""

    def indexes_of(self, positions: Iterable[int]) -> dict[int, int]:
        """`index_of` of many positions: those in the tree yet."""
        found = {}
        for position in set(positions):
            index = self.index_of(position)
            if index is not None:
                found[position] = index
        return found

    @abstractmethod
    def save_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Keep a checkpoint; one per size (a second of the same size is ignored)."""

    @abstractmethod
    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        """The checkpoint of `size`, or the latest."""

    @abstractmethod
    def checkpoints(self, after: int = 0) -> list[StoredCheckpoint]:
        """Every kept checkpoint larger than `after`, smallest first."""

    @abstractmethod
    def recent(self, limit: int, below: int | None = None) -> list[StoredCheckpoint]:
        """Up to `limit` kept checkpoints smaller than `below` (default: any), largest first."""

    @abstractmethod
    def add_cosignature(self, size: int, cosignature: Cosignature) -> None:
        """Keep a witness's cosignature of the checkpoint of `size`; one per witness
        and size (a second is ignored)."""


class MemoryTreeStore(TreeStore):
    """For the in-memory event store (rule tests, eventsourcing.popo)."""

    def __init__(self) -> None:
        self._nodes: dict[Node, bytes] = {}
        self._positions: list[int] = []
        self._indexes: dict[int, int] = {}
        self._checkpoints: dict[int, StoredCheckpoint] = {}
        self._cosignatures: dict[int, dict[str, Cosignature]] = {}
        self._lock = threading.Lock()

    def tip(self) -> tuple[int, int]:
        with self._lock:
            return len(self._positions), self._positions[-1] if self._positions else 0

    def append(self, size: int, leaves: list[tuple[int, bytes]], nodes: list[tuple[Node, bytes]]) -> None:
        with self._lock:
            if size != len(self._positions):
                raise Moved(f"the tree has {len(self._positions)} leaves, not {size}")
            for index, (position, hash_) in enumerate(leaves, start=size):
                self._positions.append(position)
                self._indexes[position] = index
                self._nodes[(0, index)] = hash_
            self._nodes.update(nodes)

    def nodes(self, wanted: Iterable[Node]) -> dict[Node, bytes]:
        with self._lock:
            return {node: self._nodes[node] for node in wanted if node in self._nodes}

    def level(self, height: int, start: int, end: int) -> dict[int, bytes]:
        with self._lock:
            return {i: self._nodes[(height, i)] for i in range(start, end) if (height, i) in self._nodes}

    def leaves(self, start: int, end: int) -> list[Leaf]:
        with self._lock:
            return [Leaf(i, self._positions[i], self._nodes[(0, i)]) for i in range(start, min(end, len(self._positions)))]

    def index_of(self, position: int) -> int | None:
        return self._indexes.get(position)

    def save_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self._lock:
            self._checkpoints.setdefault(checkpoint.size, checkpoint)

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        with self._lock:
            if size is None:
                size = max(self._checkpoints, default=None)
            return self._with_cosignatures(size) if size in self._checkpoints else None

    def checkpoints(self, after: int = 0) -> list[StoredCheckpoint]:
        with self._lock:
            return [self._with_cosignatures(size) for size in sorted(self._checkpoints) if size > after]

    def recent(self, limit: int, below: int | None = None) -> list[StoredCheckpoint]:
        with self._lock:
            sizes = sorted((s for s in self._checkpoints if below is None or s < below), reverse=True)[:limit]
            return [self._with_cosignatures(size) for size in sizes]

    def add_cosignature(self, size: int, cosignature: Cosignature) -> None:
        with self._lock:
            self._cosignatures.setdefault(size, {}).setdefault(cosignature.witness, cosignature)

    def _with_cosignatures(self, size: int) -> StoredCheckpoint:
        got = self._cosignatures.get(size, {})
        return replace(self._checkpoints[size], cosignatures=tuple(got[w] for w in sorted(got)))


@dataclass(frozen=True)
class Dialect:
    param: str  # the driver's placeholder
    prefix: str  # before a table's name: a schema, or nothing
    blob: str
    int64: str
    key: str  # an integer primary key (SQLite's rowid alias is its fastest)
    ddl_lock: str = ""  # run first where the tables are made (PostgreSQL: eventlog/postgres_schema.py)


SQLITE = Dialect("?", "", "blob", "integer", "INTEGER PRIMARY KEY")
POSTGRES = Dialect("%s", "", "bytea", "bigint", "bigint PRIMARY KEY")


class SQLTreeStore(TreeStore):
    """The tree in the event store's database, through the library's datastore
    (its connections, its transactions, its IntegrityError)."""

    def __init__(self, datastore: Any, dialect: Dialect) -> None:
        self.datastore = datastore
        self.d = dialect
        p = dialect.prefix
        self.t_nodes, self.t_leaves, self.t_checkpoints = f"{p}tlog_nodes", f"{p}tlog_leaves", f"{p}tlog_checkpoints"
        self.t_cosignatures = f"{p}tlog_cosignatures"
        with self.datastore.transaction(commit=True) as cursor:
            if dialect.ddl_lock:
                cursor.execute(dialect.ddl_lock)
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.t_nodes} (key {dialect.key}, hash {dialect.blob} NOT NULL)")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.t_leaves} (idx {dialect.key}, "
                           f"position {dialect.int64} NOT NULL UNIQUE)")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.t_checkpoints} (size {dialect.key}, "
                           f"root {dialect.blob} NOT NULL, note text NOT NULL, made_at text NOT NULL)")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.t_cosignatures} (size {dialect.int64} NOT NULL, "
                           "witness text NOT NULL, line text NOT NULL, at text NOT NULL, PRIMARY KEY (size, witness))")

    def tip(self) -> tuple[int, int]:
        row = self._one(f"SELECT idx, position FROM {self.t_leaves} ORDER BY idx DESC LIMIT 1", ())
        return (0, 0) if row is None else (int(row["idx"]) + 1, int(row["position"]))

    def append(self, size: int, leaves: list[tuple[int, bytes]], nodes: list[tuple[Node, bytes]]) -> None:
        p = self.d.param
        try:
            with self.datastore.transaction(commit=True) as cursor:
                # Write first, check after, in one transaction. Writing first takes the
                # write lock at once, waiting the lock timeout for it: on SQLite a read
                # first would begin a snapshot that another process's commit makes stale,
                # and the insert would then fail at once ("database is locked"). A writer
                # behind the tree trips the primary key; one ahead of it finds no leaf
                # before its first. Either way nothing is written.
                cursor.executemany(f"INSERT INTO {self.t_leaves} (idx, position) VALUES ({p}, {p})",
                                   [(size + i, position) for i, (position, _) in enumerate(leaves)])
                cursor.executemany(f"INSERT INTO {self.t_nodes} (key, hash) VALUES ({p}, {p})",
                                   [(key_of((0, size + i)), hash_) for i, (_, hash_) in enumerate(leaves)]
                                   + [(key_of(node), hash_) for node, hash_ in nodes])
                if size:
                    cursor.execute(f"SELECT count(*) AS n FROM {self.t_leaves} WHERE idx = {p}", (size - 1,))
                    if not cursor.fetchone()["n"]:
                        raise Moved(f"the tree has fewer than {size} leaves")
        except IntegrityError as e:
            raise Moved(str(e)) from e

    def nodes(self, wanted: Iterable[Node]) -> dict[Node, bytes]:
        keys = [key_of(node) for node in wanted]
        found: dict[Node, bytes] = {}
        for start in range(0, len(keys), 500):  # SQLite allows 999 parameters by default
            chunk = keys[start:start + 500]
            rows = self._all(f"SELECT key, hash FROM {self.t_nodes} WHERE key IN ({', '.join([self.d.param] * len(chunk))})",
                             chunk)
            found.update((node_of(int(row["key"])), bytes(row["hash"])) for row in rows)
        return found

    def level(self, height: int, start: int, end: int) -> dict[int, bytes]:
        p = self.d.param
        rows = self._all(f"SELECT key, hash FROM {self.t_nodes} WHERE key >= {p} AND key < {p}",
                         (key_of((height, start)), key_of((height, end))))
        return {node_of(int(row["key"]))[1]: bytes(row["hash"]) for row in rows}

    def leaves(self, start: int, end: int) -> list[Leaf]:
        p = self.d.param
        positions = self._all(f"SELECT idx, position FROM {self.t_leaves} WHERE idx >= {p} AND idx < {p} ORDER BY idx",
                              (start, end))
        by_index = self.level(0, start, end)
        return [Leaf(int(row["idx"]), int(row["position"]), by_index.get(int(row["idx"]), b"")) for row in positions]

    def index_of(self, position: int) -> int | None:
        row = self._one(f"SELECT idx FROM {self.t_leaves} WHERE position = {self.d.param}", (position,))
        return None if row is None else int(row["idx"])

    def indexes_of(self, positions: Iterable[int]) -> dict[int, int]:
        wanted = sorted(set(positions))
        found: dict[int, int] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self._all(f"SELECT position, idx FROM {self.t_leaves} "
                             f"WHERE position IN ({', '.join([self.d.param] * len(chunk))})", chunk)
            found.update((int(row["position"]), int(row["idx"])) for row in rows)
        return found

    def save_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        p = self.d.param
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"INSERT INTO {self.t_checkpoints} (size, root, note, made_at) VALUES ({p}, {p}, {p}, {p}) "
                           "ON CONFLICT DO NOTHING",
                           (checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.made_at))

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint | None:
        columns = f"SELECT size, root, note, made_at FROM {self.t_checkpoints}"
        row = (self._one(f"{columns} ORDER BY size DESC LIMIT 1", ()) if size is None
               else self._one(f"{columns} WHERE size = {self.d.param}", (size,)))
        return None if row is None else self._cosigned([_checkpoint(row)])[0]

    def checkpoints(self, after: int = 0) -> list[StoredCheckpoint]:
        return self._cosigned([_checkpoint(row) for row in self._all(
            f"SELECT size, root, note, made_at FROM {self.t_checkpoints} WHERE size > {self.d.param} ORDER BY size",
            (after,))])

    def recent(self, limit: int, below: int | None = None) -> list[StoredCheckpoint]:
        p = self.d.param
        return self._cosigned([_checkpoint(row) for row in self._all(
            f"SELECT size, root, note, made_at FROM {self.t_checkpoints} WHERE size < {p} "
            f"ORDER BY size DESC LIMIT {p}", (2**62 if below is None else below, limit))])

    def add_cosignature(self, size: int, cosignature: Cosignature) -> None:
        p = self.d.param
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"INSERT INTO {self.t_cosignatures} (size, witness, line, at) VALUES ({p}, {p}, {p}, {p}) "
                           "ON CONFLICT DO NOTHING", (size, cosignature.witness, cosignature.line, cosignature.at))

    def _cosigned(self, checkpoints: list[StoredCheckpoint]) -> list[StoredCheckpoint]:
        """The checkpoints with their cosignatures, in one query per 500."""
        by_size: dict[int, list[Cosignature]] = {}
        sizes = [c.size for c in checkpoints]
        for start in range(0, len(sizes), 500):
            chunk = sizes[start:start + 500]
            for row in self._all(f"SELECT size, witness, line, at FROM {self.t_cosignatures} "
                                 f"WHERE size IN ({', '.join([self.d.param] * len(chunk))}) ORDER BY size, witness",
                                 chunk):
                by_size.setdefault(int(row["size"]), []).append(
                    Cosignature(str(row["witness"]), str(row["line"]), str(row["at"])))
        return [replace(c, cosignatures=tuple(by_size.get(c.size, ()))) for c in checkpoints]

    def _one(self, sql: str, params: Any) -> Any:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def _all(self, sql: str, params: Any) -> list[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())


def _checkpoint(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(int(row["size"]), bytes(row["root"]), str(row["note"]), str(row["made_at"]))


def open_tree_store(log: EventLog) -> TreeStore:
    """The tree store beside an event log's own tables."""
    from eventlog.popo import POPOLog
    from eventlog.postgres import PostgresLog
    from eventlog.sqlite import SQLiteLog

    if isinstance(log, SQLiteLog):
        return SQLTreeStore(log.datastore, SQLITE)
    if isinstance(log, PostgresLog):
        from eventlog.postgres_schema import lock_statement

        schema = f'"{log.datastore.schema}".' if log.datastore.schema else ""
        return SQLTreeStore(log.datastore, replace(POSTGRES, prefix=schema,
                                                   ddl_lock=lock_statement(log.datastore.schema)))
    if isinstance(log, POPOLog):
        return MemoryTreeStore()
    raise ValueError(f"no tree store for {type(log).__name__}")
