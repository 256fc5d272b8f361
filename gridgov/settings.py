"""Every environment variable the engine reads: one name, one default, one line.

    settings = load_settings()      # os.environ, read once; SettingsError names a bad value
    settings.library_env()          # what the eventsourcing library reads, as strings

A wrong value fails at start with one line naming the variable and what it
wants (`POSTGRES_PORT='abc': should match pattern …`), not a traceback later. The
README's settings table and docker-compose.yml are checked against this class
(tests/unit/test_settings_catalog.py), so no setting goes undocumented.
"""

from __future__ import annotations

import os
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from domain.clues import DuplicatePolicy
from domain.events import Role

# OIDC_ROLE_MAP: provider-role=engine-role pairs, comma separated, each naming a role a token may carry.
_PAIR = r"\s*[^=,\s]+\s*=\s*(?:" + "|".join(r.value for r in Role if r is not Role.SYSTEM) + r")\s*"
ROLE_MAP_PATTERN = rf"^(?:{_PAIR}(?:,{_PAIR})*)?$"

_POLICY = DuplicatePolicy()
# The variables the eventsourcing library reads itself (Application.env).
LIBRARY = ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "SQLITE_LOCK_TIMEOUT", "POSTGRES_HOST", "POSTGRES_PORT",
           "POSTGRES_DBNAME", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_SCHEMA", "POSTGRES_CONNECT_TIMEOUT",
           "POSTGRES_POOL_SIZE", "POSTGRES_MAX_OVERFLOW", "POSTGRES_LOCK_TIMEOUT", "AGGREGATE_CACHE_MAXSIZE",
           "COMPRESSOR_TOPIC", "CIPHER_TOPIC", "CIPHER_KEY")
# Read by scripts and tests, not by the engine; documented with the rest.
OUTSIDE_THE_ENGINE: dict[str, tuple[str, str]] = {
    "GRIDGOV_CACHE": ("~/.cache/gridgov", "where scripts keep downloads and bench logs (outside the repo)"),
    "PGDATA_DIR": ("/var/tmp/gridgov-pgdata", "the private PostgreSQL cluster of scripts/postgres.sh"),
    "CI": ("", "when set, tests fail instead of skipping if PostgreSQL, Kafka, the S3 store or the OpenID "
                 "Connect provider is unreachable"),
    "KEYCLOAK_URL": ("http://127.0.0.1:18080", "the tests' OpenID Connect provider (scripts/keycloak.sh, realm "
                                               "gridgov); the engine itself reads OIDC_ISSUER"),
}


class SettingsError(ValueError):
    """One line per bad variable: its name, its value, what it wants."""


class Settings(BaseModel):
    """Field names are the variables' names. A plain model, read by `load_settings`
    from the mapping it is given and nothing else, so a test's settings are its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # event store (read by the eventsourcing library)
    PERSISTENCE_MODULE: Literal["eventsourcing.sqlite", "eventsourcing.postgres", "eventsourcing.popo"] = Field(
        "eventsourcing.sqlite", description="event store backend: eventsourcing.sqlite, eventsourcing.postgres, "
                                            "or eventsourcing.popo (in memory, gone at exit)")
    SQLITE_DBNAME: str = Field("var/gridgov.sqlite", description="SQLite file of the embedded event store")
    SQLITE_LOCK_TIMEOUT: int = Field(10, ge=0, description="seconds a SQLite writer waits for the lock")
    POSTGRES_HOST: str = Field("127.0.0.1", pattern=r"^[^\s,]+(,[^\s,]+)*$",
                               description="PostgreSQL host, or a primary and its standbys as a comma list "
                                           "(the engine connects to whichever takes writes)")
    POSTGRES_PORT: str = Field("5432", pattern=r"^[0-9]{1,5}(,[0-9]{1,5})*$",
                               description="PostgreSQL port (1-65535), or a comma list of them, one per host of "
                                           "POSTGRES_HOST")
    POSTGRES_DBNAME: str = Field("gridgov", description="PostgreSQL database")
    POSTGRES_USER: str = Field("gridgov", description="PostgreSQL role")
    POSTGRES_PASSWORD: str = Field("", description="PostgreSQL password")
    POSTGRES_SCHEMA: str = Field("public", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                                 description="schema of the event store's tables")
    POSTGRES_CONNECT_TIMEOUT: int = Field(5, ge=1, description="seconds to wait for a PostgreSQL connection")
    POSTGRES_POOL_SIZE: int = Field(8, ge=1, description="connections kept open")
    POSTGRES_MAX_OVERFLOW: int = Field(16, ge=0, description="connections opened beyond the pool under load")
    POSTGRES_LOCK_TIMEOUT: int = Field(5, ge=0, description="seconds an append waits for the table lock")
    AGGREGATE_CACHE_MAXSIZE: int = Field(10_000, ge=0, description="aggregates kept in memory for commands, "
                                                                   "current as of the last log position read (0: none)")
    COMPRESSOR_TOPIC: str = Field("", description="the library's compression of stored events")
    CIPHER_TOPIC: str = Field("", description="the library's encryption of stored events")
    CIPHER_KEY: str = Field("", description="key for CIPHER_TOPIC")
    # domain
    DUPLICATE_RADIUS_M: float = Field(_POLICY.radius_m, ge=1, le=100_000, allow_inf_nan=False,
                                      description="radius for likely-duplicate clues, in metres (1 m to 100 km)")
    DUPLICATE_WINDOW_H: float = Field(_POLICY.window.total_seconds() / 3600, ge=1 / 60, le=24 * 366,
                                      allow_inf_nan=False,
                                      description="how far back a clue can be a likely duplicate, in hours (a "
                                                  "minute to a year)")
    # read models
    READMODEL_STORE: Literal["sqlite", "postgres"] | None = Field(
        None, description="sqlite or postgres; default follows PERSISTENCE_MODULE")
    READMODEL_SQLITE_DBNAME: str = Field("var/readmodels.sqlite", description="SQLite file of the embedded read models")
    READMODEL_SCHEMA: str = Field("readmodels", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                                  description="PostgreSQL schema of the read models")
    REBUILD_WORKERS: int | None = Field(None, ge=1, description="processes a rebuild fills projections in; default "
                                                                "one per core, 1 = in-process")
    # Kafka
    KAFKA_BOOTSTRAP_SERVERS: str = Field("", description="Kafka brokers; unset = projections fed in-process "
                                                         "(embedded mode)")
    KAFKA_TOPIC_PREFIX: str = Field("gridgov", pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$", description="topics are <prefix>.<aggregate>.v1 (events), <prefix>.checkpoints.v1 and <prefix>.dlq.v1 (docs/kafka.md)")
    KAFKA_PARTITIONS: int = Field(3, ge=1, description="partitions of topics the relay creates")
    KAFKA_REPLICATION: int = Field(1, ge=1, description="replication factor of topics the relay creates")
    KAFKA_MIN_INSYNC_REPLICAS: int = Field(1, ge=1, description="copies in sync a write needs before the brokers "
                                                               "acknowledge it (the topics' min.insync.replicas; "
                                                               "at most KAFKA_REPLICATION): with fewer brokers "
                                                               "up the relay waits, it never publishes less")
    KAFKA_DELIVERY_TIMEOUT_MS: int = Field(60_000, ge=1000, description="how long the relay waits for the brokers "
                                           "to take a page before it drops its producer, starts a fresh one and "
                                           "re-sends the page")
    KAFKA_STALL_S: float = Field(15, ge=11, le=3600, allow_inf_nan=False,
                                 description="seconds a consumer may have lag and store no offset before its "
                                             "watchdog replaces its Kafka client (counted in /metrics); more than "
                                             "the 10 s session timeout, or a rejoin after a kill looks like a stall")
    GRIDGOV_COALESCE_WRITES: bool = Field(True, description="the API decides the commands that arrive together "
                                                             "one after another and writes them in one transaction "
                                                             "(application/coalescer.py); off: one each")
    READY_MAX_LAG: int = Field(5000, ge=0, description="/readyz answers 503 when a read model is more events "
                                                       "behind than this (with Kafka: its lag plus what the relay "
                                                       "has not published; above the relay's page of 1,000, which "
                                                       "counts twice while it is in flight)")
    # transparency log (docs/audit.md)
    AUDIT_KEY_FILE: str = Field("", description="the checkpoint signing key (gridgov audit keygen makes one); "
                                                "unset = the tree is kept but no checkpoints are signed")
    AUDIT_ORIGIN: str = Field("gridgov.local/events", pattern=r"^[^\s+]{1,200}$",
                              description="the log's name, first line of every checkpoint")
    AUDIT_CHECKPOINT_INTERVAL_S: float = Field(2, ge=1, le=86_400, allow_inf_nan=False,
                                               description="least seconds between checkpoints the sequencer "
                                                           "signs; none while the tree has not grown, so an "
                                                           "event is signed within this and a round (< 5 s)")
    AUDIT_WITNESSES: str = Field("", max_length=20_000,
                                 description="the witnesses each checkpoint is offered to (C2SP tlog-witness), "
                                             "comma-separated <url>=<verifier key> (`gridgov witness keygen` "
                                             "prints the key); unset = none")
    AUDIT_WITNESS_POLICY: int = Field(0, ge=0, le=1000,
                                      description="how many of AUDIT_WITNESSES must cosign a checkpoint for it to "
                                                  "count as witnessed (k of the n named; at most n)")
    AUDIT_WITNESS_TIMEOUT_S: float = Field(5, ge=0.1, le=600, allow_inf_nan=False,
                                           description="seconds a witness has to answer one checkpoint; one "
                                                       "slower or down delays only its own cosignature")

    @field_validator("POSTGRES_PORT")
    @classmethod
    def _ports_pair_with_hosts(cls, value: str, info: ValidationInfo) -> str:
        ports = [int(port) for port in value.split(",")]
        if not all(1 <= port <= 65535 for port in ports):
            raise ValueError("a port is 1-65535")
        hosts = info.data.get("POSTGRES_HOST")
        # libpq pairs the i-th host with the i-th port, or every host with one port.
        if hosts is not None and len(ports) not in (1, len(hosts.split(","))):
            raise ValueError(f"{len(ports)} ports for {len(hosts.split(','))} hosts of POSTGRES_HOST")
        return value

    @property
    def postgres_hosts(self) -> bool:
        """More than one server named: a primary and its standbys."""
        return "," in self.POSTGRES_HOST + self.POSTGRES_PORT

    @field_validator("AUDIT_WITNESSES")
    @classmethod
    def _witnesses_readable(cls, value: str) -> str:
        from transparency.witnessing import WitnessPolicy

        WitnessPolicy.parse(value, 0)  # BadWitnesses is a ValueError: one line naming the variable
        return value

    @field_validator("AUDIT_WITNESS_POLICY")
    @classmethod
    def _policy_reachable(cls, value: int, info: ValidationInfo) -> int:
        from transparency.witnessing import WitnessPolicy

        if "AUDIT_WITNESSES" in info.data:  # else it was refused itself
            WitnessPolicy.parse(info.data["AUDIT_WITNESSES"], value)
        return value

    @field_validator("KAFKA_MIN_INSYNC_REPLICAS")
    @classmethod
    def _insync_possible(cls, value: int, info: ValidationInfo) -> int:
        # More than the copies a topic has: no write could ever be acknowledged.
        replication = info.data.get("KAFKA_REPLICATION")
        if replication is not None and value > replication:
            raise ValueError(f"must be at most KAFKA_REPLICATION={replication}")
        return value

    # HTTP API
    GRIDGOV_JWT_SECRET: str = Field("", description="HS256 secret for development tokens (gridgov token), "
                                                    "trusted by gridgov serve --dev alone (never with OIDC_ISSUER)")
    # sign-in through the city's OpenID Connect provider (docs/signin.md)
    OIDC_ISSUER: str = Field("", pattern=r"^(https?://\S+)?$",
                             description="the provider's issuer URL (its /.well-known/openid-configuration is read); "
                                         "set = the API trusts only the provider's tokens (HS256 only with --demo)")
    OIDC_AUDIENCE: str = Field("gridgov", description="the `aud` every access token must name")
    OIDC_CLIENT_ID: str = Field("gridgov-pages", description="the pages' client at the provider (authorization code "
                                                             "with PKCE)")
    OIDC_CLIENT_SECRET: str = Field("", description="that client's secret (empty for a public client)")
    OIDC_ROLE_CLAIM: str = Field("gridgov_role", description="claim (dotted path) naming the role; a string or a list")
    OIDC_ROLE_MAP: str = Field("", pattern=ROLE_MAP_PATTERN, description="provider role=engine role, comma separated (e.g. "
                                               "`wg-officer=grid_officer`); empty = the engine's own role names")
    OIDC_DISTRICTS_CLAIM: str = Field("gridgov_districts", description="claim (dotted path) listing the districts")
    OIDC_GRIDS_CLAIM: str = Field("gridgov_grids", description="claim (dotted path) listing an officer's grids")
    OIDC_ID_CLAIM: str = Field("gridgov_id", description="claim with the engine's id of the person (a rider's or "
                                                         "partner's UUID); absent = `sub`")
    OIDC_LEEWAY_S: int = Field(30, ge=0, le=300, description="clock skew allowed on exp, nbf and iat, in seconds")
    OIDC_JWKS_REFETCH_S: float = Field(10, ge=1, le=3600, allow_inf_nan=False,
                                       description="least seconds between two fetches of the provider's keys (an "
                                                   "unknown `kid` fetches them again, no more often than this)")
    GRIDGOV_PUBLIC_URL: str = Field("", pattern=r"^(https?://[^\s/]+)?$",
                                    description="the pages' origin as people reach it (for the sign-in redirect); "
                                                "empty = the request's own")
    # photos' bytes (photos/)
    GRIDGOV_BLOBS: Literal["file", "s3"] = Field("file", description="where photos' bytes are kept: file (under "
                                                                     "GRIDGOV_BLOBS_DIR) or s3 (GRIDGOV_S3_*)")
    GRIDGOV_BLOBS_DIR: str = Field("var/photos", description="folder of the embedded photo store")
    GRIDGOV_ERASURES_DIR: str = Field("var/erasures", description="folder of the erasure list: every key shredded, "
                                      "dropped again by `gridgov restore`; keep it on storage of its own, never "
                                      "restored from a backup (docs/operations.md)")
    GRIDGOV_S3_ENDPOINT: str = Field("", pattern=r"^(https?://[^\s/]+/?)?$",
                                     description="S3-compatible endpoint URL (http://host:port); empty = AWS's")
    GRIDGOV_S3_BUCKET: str = Field("gridgov-photos", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                                   description="bucket of the photos, made if missing; never public")
    GRIDGOV_S3_ACCESS_KEY: str = Field("", description="S3 access key id")
    GRIDGOV_S3_SECRET_KEY: str = Field("", description="S3 secret access key")
    GRIDGOV_S3_REGION: str = Field("us-east-1", pattern=r"^[a-z0-9-]{1,40}$", description="S3 region")

    @property
    def readmodel_store(self) -> str:
        return self.READMODEL_STORE or ("postgres" if self.PERSISTENCE_MODULE == "eventsourcing.postgres"
                                        else "sqlite")

    @property
    def embedded(self) -> bool:
        """No Kafka: the read models are fed in-process from the log."""
        return not self.KAFKA_BOOTSTRAP_SERVERS.strip()

    def library_env(self) -> dict[str, str]:
        """What the library's Application reads, as the strings it parses. PostgreSQL
        through the library's factory as eventlog/postgres_schema.py extends it: the
        schema made if missing, tables made one process at a time."""
        env = {name: str(getattr(self, name)) for name in LIBRARY}
        if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
            env["PERSISTENCE_MODULE"] = "eventlog.postgres_schema"
        if self.postgres_hosts:
            # After a failover every pooled connection is to the dead primary: the pool
            # tries each before handing it out, and a dead one is replaced by a new
            # connection, to whichever server now takes writes (eventlog/postgres_schema.py).
            env["POSTGRES_PRE_PING"] = "y"
        return env

    def postgres_conninfo(self) -> str:
        import psycopg

        return psycopg.conninfo.make_conninfo(
            host=self.POSTGRES_HOST, port=self.POSTGRES_PORT, dbname=self.POSTGRES_DBNAME, user=self.POSTGRES_USER,
            password=self.POSTGRES_PASSWORD, connect_timeout=self.POSTGRES_CONNECT_TIMEOUT,
            **({"target_session_attrs": "read-write"} if self.postgres_hosts else {}))

    def as_env(self) -> dict[str, str]:
        """Every setting that has a value, as environment strings (for a child process)."""
        return {name: str(value) for name, value in self.model_dump().items() if value is not None}


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """The settings of `env` (default: the process environment) and `overrides`;
    only the variables named here are read from `env`."""
    source = os.environ if env is None else env
    given = {name: value for name in Settings.model_fields if (value := source.get(name)) not in (None, "")}
    try:
        return Settings.model_validate({**given, **overrides})
    except ValidationError as e:
        raise SettingsError("; ".join(_line(error, {**given, **overrides}) for error in e.errors())) from None


def _line(error: Any, given: Mapping[str, Any]) -> str:
    name = str(error["loc"][0]) if error["loc"] else "?"
    wants = Settings.model_fields[name].description if name in Settings.model_fields else ""
    return f"{name}={given.get(name)!r}: {error['msg']}" + (f" ({wants})" if wants else "")


def settings_table() -> str:
    """The README's settings table, made from this module (a test keeps them equal):
    python -c 'from gridgov.settings import settings_table; print(settings_table())'"""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, spec in Settings.model_fields.items():
        default = "" if spec.default is None else str(spec.default)
        rows.append(f"| `{name}` | {f'`{default}`' if default else '—'} | {spec.description} |")
    for name, (default, meaning) in OUTSIDE_THE_ENGINE.items():
        rows.append(f"| `{name}` | {f'`{default}`' if default else '—'} | {meaning} |")
    return "\n".join(rows)
