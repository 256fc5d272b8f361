"""Making the engine's tables in PostgreSQL: the schema first if it is missing,
and one process at a time.

The relay, every consumer, the sequencer and each API instance make the tables
they need when they start, and on a fresh database they start together.
`CREATE TABLE IF NOT EXISTS` (and the library's `CREATE TYPE`, whose duplicate it
forgives) does not hold against a concurrent create of the same name: the loser
dies of a UniqueViolation on pg_type_typname_nsp_index (or pg_namespace for a
schema). So every creation in a schema holds one advisory lock, keyed by the
schema: the library's recorders for the whole of their `create_table` (several
transactions: a session lock, on a connection of its own), the key stores and the
transparency log's tables for their creating transaction (`lock_statement`). The
key is the read-model store's (projections/stores/postgres.py, DDL_LOCK), so a
schema that both use is made by one process at a time too.

The library is given this module for PERSISTENCE_MODULE=eventsourcing.postgres
(gridgov.settings, `library_env`); it finds the factory here, the only one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import eventsourcing.postgres as library
import psycopg
from eventsourcing.postgres import PostgresDatastore

LOCK_KEY = "gridgov read models "  # + schema, hashed by PostgreSQL: the read-model store's key


class SchemaMissing(ValueError):
    """The schema does not exist and this role may not make it: one line, what to do
    (`gridgov` prints it as a bad setting and exits 2)."""


def lock_statement(schema: str) -> str:
    """The statement that takes the schema's creation lock until its transaction ends."""
    return f"SELECT pg_advisory_xact_lock(hashtext({_literal(LOCK_KEY + schema)}))"


@contextmanager
def making_tables(datastore: PostgresDatastore) -> Iterator[None]:
    """Hold the schema's creation lock (made first if missing) while tables are made
    through the datastore's own connections."""
    schema = datastore.schema
    key = _literal(LOCK_KEY + schema)
    # Not one of the pool's: the library's create_table takes its own, and a pool of one would wait forever.
    with psycopg.connect(**_conninfo(datastore), autocommit=True) as conn:
        conn.execute(f"SELECT pg_advisory_lock(hashtext({key}))")
        try:
            _ensure_schema(conn, schema)
            yield
        finally:
            conn.execute(f"SELECT pg_advisory_unlock(hashtext({key}))")


def _ensure_schema(conn: psycopg.Connection[Any], schema: str) -> None:
    # Looked up first: CREATE SCHEMA IF NOT EXISTS wants the right to create even when
    # the schema is there, and a role given only its own schema must still start.
    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
        return
    try:
        conn.execute(f"CREATE SCHEMA {_identifier(schema)}")
    except psycopg.errors.InsufficientPrivilege:
        user = conn.info.user
        raise SchemaMissing(
            f"POSTGRES_SCHEMA={schema!r}: the schema does not exist and role {user!r} may not create it; "
            f"make it as a role that may: CREATE SCHEMA {_identifier(schema)} AUTHORIZATION {_identifier(user)}"
        ) from None


def _conninfo(datastore: PostgresDatastore) -> dict[str, Any]:
    kwargs = {k: v for k, v in datastore.pool.kwargs.items()
              if k in ("dbname", "host", "port", "user", "password", "target_session_attrs")}
    return {**kwargs, "connect_timeout": max(int(datastore.pool.timeout), 1)}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresFactory(library.PostgresFactory):
    """The library's factory, making each recorder's tables under `making_tables`
    (unless CREATE_TABLE says not to make them). Given a list of hosts (a primary and
    its standbys), its connections go to whichever takes writes: after a failover a
    new connection finds the promoted standby, and the pool's pre-ping (POSTGRES_PRE_PING,
    gridgov.settings) drops the old primary's before a command is given one."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        host, port = self.env.get(self.POSTGRES_HOST) or "", self.env.get(self.POSTGRES_PORT) or ""
        if "," in host + port:
            self.datastore.pool.kwargs["target_session_attrs"] = "read-write"

    @contextmanager
    def _making(self) -> Iterator[None]:
        if not self.env_create_table():
            yield
            return
        with making_tables(self.datastore):
            yield

    def aggregate_recorder(self, purpose: str = "events") -> Any:
        with self._making():
            return super().aggregate_recorder(purpose)

    def application_recorder(self) -> Any:
        with self._making():
            return super().application_recorder()

    def tracking_recorder(self, tracking_recorder_class: Any = None) -> Any:
        with self._making():
            return super().tracking_recorder(tracking_recorder_class)

    def process_recorder(self) -> Any:
        with self._making():
            return super().process_recorder()
