"""Read models in PostgreSQL, in a schema of their own."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Any, Callable, Generator, Iterable, Iterator, Sequence

import psycopg
from psycopg_pool import ConnectionPool

from projections.stores import ReadStore, Tx, upsert_clause


@lru_cache(maxsize=1024)
def _pg(sql: str) -> str:
    # The shared SQL says `?`; psycopg says `%s`. Literal percent signs are doubled.
    # An array parameter (`?::text[]`) goes in binary: no quoting and escaping of
    # every element on the client.
    return sql.replace("%", "%%").replace("?::", "%b::").replace("?", "%s")


def _type(sql_type: str) -> str:
    """`BIGINT NOT NULL` -> `bigint`: the type an array or a COPY column is sent as."""
    return sql_type.split()[0].lower()


# The API and every consumer make the schema and the read-model tables they need
# at start, and on an empty database they start together: IF NOT EXISTS does not
# hold against a concurrent CREATE (a unique violation in pg_namespace or pg_type),
# so whoever makes them holds this lock, one per schema, until it commits.
DDL_LOCK = "SELECT pg_advisory_xact_lock(hashtext('gridgov read models ' || ?))"
# An applier's claims (`claim`): one advisory lock per name, all of a transaction's
# taken in one statement, in one order (their keys'), so two appliers of
# overlapping sets never wait for each other in a circle.
CLAIM = ("SELECT count(CASE WHEN s THEN pg_advisory_xact_lock_shared(k) ELSE pg_advisory_xact_lock(k) END) "
         "FROM (SELECT k, s FROM unnest(?::bigint[], ?::bool[]) WITH ORDINALITY AS keys (k, s, i) ORDER BY i) o")


class PostgresTx:
    dialect = "postgres"
    compact_table = ""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def upsert_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]],
                    key: Sequence[str]) -> None:
        self._unnest(table, columns, rows, upsert_clause(columns, key))

    def insert_new(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        self._unnest(table, columns, rows, "ON CONFLICT DO NOTHING")

    def append_many(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        self.copy(table, columns, rows)

    def _unnest(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]], conflict: str) -> None:
        """Many rows in one statement: one array per column (`?::type[]`, sent in
        binary), unnested server-side; a query text that never changes, so it is
        parsed and planned once."""
        if not rows:
            return
        arrays = ", ".join(f"?::{_type(sql_type)}[]" for sql_type in columns.values())
        self.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) {conflict}",
                     [list(column) for column in zip(*rows)])

    def select_by_keys(self, table: str, columns: Sequence[str], key: str, key_type: str,
                       keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        # One round trip for the whole batch: the keys as one binary array.
        return self.fetchall(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = ANY(?::{_type(key_type)}[])",
                             [list(keys)])

    def lock(self, tables: Sequence[str]) -> None:
        if tables:
            self.execute("LOCK TABLE " + ", ".join(tables) + " IN ACCESS EXCLUSIVE MODE")

    def table_names(self) -> set[str]:
        return {r[0] for r in self.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(_pg(sql), params, prepare=True)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_pg(sql), list(rows))

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(_pg(sql), params).fetchall()

    def copy(self, table: str, columns: dict[str, str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows appended by binary COPY: no statement to bind, no arrays to build."""
        if not rows:
            return
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") \
                as copy:
            copy.set_types([_type(sql_type) for sql_type in columns.values()])
            for row in rows:
                copy.write_row(row)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.conn.execute(_pg(sql), params).fetchone()


class PostgresStore(ReadStore):
    dialect = "postgres"

    def __init__(self, conninfo: str, schema: str, pool_size: int = 4, durable: bool = True) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
            raise ValueError(f"read-model schema must be a plain lower-case name, not {schema!r}")
        self.schema = schema
        self.conninfo = conninfo
        self.durable = durable
        with psycopg.connect(conninfo) as conn, conn.transaction():
            conn.execute(_pg(DDL_LOCK), (schema,))
            # Looked up first: CREATE SCHEMA IF NOT EXISTS wants the right to create even when the
            # schema is there, and a role given only its own schema must still start.
            if not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
                conn.execute(f"CREATE SCHEMA {schema}")
        # With a list of hosts (target_session_attrs, gridgov.settings) a connection is tried
        # before it is handed out: after a failover the old primary's are dropped and new
        # ones go to the promoted standby.
        failover = "target_session_attrs" in psycopg.conninfo.conninfo_to_dict(conninfo)
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=pool_size, open=True,
                                   kwargs={"options": f"-c search_path={schema}"},
                                   check=ConnectionPool.check_connection if failover else None)

    def byte_order(self, column: str) -> str:
        return f'{column} COLLATE "C"'

    def lock_tables(self, tx: Tx) -> None:
        tx.execute(DDL_LOCK, (self.schema,))

    def claim(self, tx: Tx, names: Sequence[str], shared: Sequence[str] = ()) -> None:
        # READ COMMITTED: every statement after the lock reads what its last holder
        # committed. Without it two appliers both found an event new, and both added it.
        modes = {claim_key(self.schema, name): True for name in shared}
        modes.update({claim_key(self.schema, name): False for name in names})  # alone wins over shared
        if modes:
            keys = sorted(modes)
            tx.execute(CLAIM, [keys, [modes[k] for k in keys]])

    @contextmanager
    def transaction(self) -> Iterator[PostgresTx]:
        with self.pool.connection() as conn, conn.transaction():
            if not self.durable:
                # Filling a shadow copy, which a crash abandons anyway: commit
                # without waiting for the WAL flush.
                conn.execute("SET LOCAL synchronous_commit = off")
            yield PostgresTx(conn)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Generator[tuple[Any, ...], None, None]:
        # A server-side cursor, in its own transaction: 750,000 riders' rows came to 1.8 GiB held at once.
        with self.pool.connection() as conn, conn.transaction(), \
                conn.cursor(name=f"rows_{id(conn):x}") as cursor:
            cursor.itersize = 5_000
            cursor.execute(_pg(sql), params)
            yield from cursor

    def for_helper(self) -> Callable[[], ReadStore] | None:
        """The same schema: the helpers' rows never overlap (each fills its own share
        of the streams), and PostgreSQL takes concurrent writers."""
        return partial(PostgresStore, self.conninfo, self.schema, pool_size=1, durable=False)

    def tables(self) -> set[str]:
        rows = self.read("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (self.schema,))
        return {r[0] for r in rows}

    def close(self) -> None:
        self.pool.close()


def claim_key(schema: str, name: str) -> int:
    """A claim's advisory-lock key: 64 bits of a hash of its schema and name (a
    collision only makes two appliers take turns)."""
    digest = hashlib.blake2b(f"gridgov apply {schema}.{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
