"""Every environment variable the engine reads: one name, one default, one line.

The README's settings table and docker-compose.yml are checked against this list
(tests/unit/test_settings_catalog.py), so a setting cannot be used undocumented.
"""

from __future__ import annotations

SETTINGS: dict[str, tuple[str, str]] = {
    # event store (read by the eventsourcing library)
    "PERSISTENCE_MODULE": ("eventsourcing.sqlite", "event store backend; eventsourcing.postgres for PostgreSQL"),
    "SQLITE_DBNAME": ("var/gridgov.sqlite", "SQLite file of the embedded event store"),
    "SQLITE_LOCK_TIMEOUT": ("10", "seconds a SQLite writer waits for the lock"),
    "POSTGRES_HOST": ("", "PostgreSQL host"),
    "POSTGRES_PORT": ("", "PostgreSQL port"),
    "POSTGRES_DBNAME": ("", "PostgreSQL database"),
    "POSTGRES_USER": ("", "PostgreSQL role"),
    "POSTGRES_PASSWORD": ("", "PostgreSQL password"),
    "POSTGRES_SCHEMA": ("public", "schema of the event store's tables"),
    "POSTGRES_CONNECT_TIMEOUT": ("5", "seconds to wait for a PostgreSQL connection"),
    "POSTGRES_POOL_SIZE": ("8", "connections kept open"),
    "POSTGRES_MAX_OVERFLOW": ("16", "connections opened beyond the pool under load"),
    "POSTGRES_LOCK_TIMEOUT": ("5", "seconds an append waits for the table lock"),
    "AGGREGATE_CACHE_MAXSIZE": ("10000", "aggregates kept in memory, fast-forwarded from the store on use"),
    "COMPRESSOR_TOPIC": ("", "the library's compression of stored events"),
    "CIPHER_TOPIC": ("", "the library's encryption of stored events"),
    "CIPHER_KEY": ("", "key for CIPHER_TOPIC"),
    # domain
    "DUPLICATE_RADIUS_M": ("250", "radius for likely-duplicate clues"),
    "DUPLICATE_WINDOW_H": ("72", "how far back a clue can be a likely duplicate"),
    # read models
    "READMODEL_STORE": ("", "sqlite or postgres; default follows PERSISTENCE_MODULE"),
    "READMODEL_SQLITE_DBNAME": ("var/readmodels.sqlite", "SQLite file of the embedded read models"),
    "READMODEL_SCHEMA": ("readmodels", "PostgreSQL schema of the read models"),
    "REBUILD_WORKERS": ("", "processes a rebuild fills projections in; default one per core, 1 = in-process"),
    # Kafka
    "KAFKA_BOOTSTRAP_SERVERS": ("", "Kafka brokers; unset = projections fed in-process (embedded mode)"),
    "KAFKA_TOPIC_PREFIX": ("gridgov", "topics are <prefix>.<aggregate>.v1 and <prefix>.dlq.v1"),
    "KAFKA_PARTITIONS": ("3", "partitions of topics the relay creates"),
    "KAFKA_REPLICATION": ("1", "replication factor of topics the relay creates"),
    "KAFKA_DELIVERY_TIMEOUT_MS": ("60000", "how long the relay waits for the brokers to take a page before it drops "
                                           "its producer, starts a fresh one and re-sends the page"),
    # HTTP API
    "GRIDGOV_JWT_SECRET": ("", "HS256 secret for bearer tokens; gridgov serve refuses to start without it (but --demo)"),
    # scripts and tests
    "GRIDGOV_CACHE": ("~/.cache/gridgov", "where scripts keep downloads and bench logs (outside the repo)"),
    "PGDATA_DIR": ("/var/tmp/gridgov-pgdata", "the private PostgreSQL cluster of scripts/postgres.sh"),
    "CI": ("", "when set, tests fail instead of skipping if PostgreSQL or Kafka is unreachable"),
}
