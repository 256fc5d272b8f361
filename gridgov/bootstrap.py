"""The composition root: the one place the engine's parts are put together.

    engine = bootstrap()                        # settings from the environment
    engine.app.execute(command, actor)          # the application service
    engine.store                                # the read models
    engine.tlog                                 # the transparency log over the event store
    engine.follow()                             # embedded: feed them, and the tree, in-process
    engine.close()

What runs for long is built here too, each from one `Settings`:

    engine.sequence(checkpoint_publisher(settings))  # the transparency log's sequencer, in a thread
    relay(settings, app)                             # the event store's log published to Kafka
    consumer_runner(settings, store, "board")        # one read model's consumer group, with its watchdog
    sweep(settings, app, store)                      # the engine's own commands: lapsed holds and claims, points
    blob_store(settings)                             # where photos' bytes are kept: var/photos/ or S3

The HTTP API is served over an Engine by api.http.app.app_of: the entry points
(`gridgov serve`, `relay`, `consume`, `sweep`, `audit sequence`, `simulate`), the
tests and the benchmarks ask this module for what they run; it imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consumers.settings import KafkaSettings
from domain.clock import Clock
from domain.clues import DuplicatePolicy
from domain.ids import IdFactory
from application.service import GridGovernance
from gridgov.settings import Settings, SettingsError, load_settings
from gridgov.sweep import Sweep
from eventlog.erasures import ErasureList
from photos.blobs import BlobStore
from projections.base import Projection
from projections.registry import instances
from projections.engine.feed import Follower, LogFeed, plain_decoder
from projections.engine.projector import Projector
from projections.stores import ReadStore
from transparency.log import TransparencyLog
from transparency.sequencer import Checkpointer, SequencerThread

if TYPE_CHECKING:  # imported where built, as KafkaLag is: a command without Kafka loads no Kafka client
    from consumers.checkpoints import CheckpointPublisher
    from consumers.relay import Relay
    from consumers.runner import ConsumerRunner


def application(settings: Settings, *, clock: Clock | None = None, ids: IdFactory | None = None) -> GridGovernance:
    return GridGovernance(env=settings.library_env(), clock=clock, ids=ids, duplicate_policy=duplicate_policy(settings),
                          blobs=blob_store(settings), erasures=ErasureList(Path(settings.GRIDGOV_ERASURES_DIR)))


def duplicate_policy(settings: Settings) -> DuplicatePolicy:
    return DuplicatePolicy(radius_m=settings.DUPLICATE_RADIUS_M, window=timedelta(hours=settings.DUPLICATE_WINDOW_H))


def read_store(settings: Settings) -> ReadStore:
    """With nothing set, a SQLite file beside the embedded event store; with
    PERSISTENCE_MODULE=eventsourcing.postgres, the same PostgreSQL database, in
    schema READMODEL_SCHEMA."""
    if settings.readmodel_store == "postgres":
        from projections.stores.postgres import PostgresStore

        return PostgresStore(settings.postgres_conninfo(), settings.READMODEL_SCHEMA)
    from projections.stores.sqlite import SQLiteStore

    return SQLiteStore(settings.READMODEL_SQLITE_DBNAME)


def blob_store(settings: Settings) -> BlobStore:
    """Where photos' bytes are kept: with nothing set, files under var/photos/ beside
    the embedded stores; GRIDGOV_BLOBS=s3, a bucket of an S3-compatible store (made
    if missing, so this connects at once and fails at start, not at the first photo)."""
    if settings.GRIDGOV_BLOBS == "s3":
        from photos.s3 import S3BlobStore

        return S3BlobStore(endpoint=settings.GRIDGOV_S3_ENDPOINT, bucket=settings.GRIDGOV_S3_BUCKET,
                           access_key=settings.GRIDGOV_S3_ACCESS_KEY, secret_key=settings.GRIDGOV_S3_SECRET_KEY,
                           region=settings.GRIDGOV_S3_REGION)
    from photos.files import FileBlobStore

    return FileBlobStore(Path(settings.GRIDGOV_BLOBS_DIR))


def transparency_log(settings: Settings, app: GridGovernance) -> TransparencyLog:
    """The tree beside the event store, signing with AUDIT_KEY_FILE if set."""
    from transparency.checkpoints import BadKey, Signer
    from transparency.store import open_tree_store
    from transparency.witnessing import WitnessPolicy

    signer = None
    if settings.AUDIT_KEY_FILE:
        try:
            signer = Signer.from_file(settings.AUDIT_KEY_FILE)
        except BadKey as e:
            raise SettingsError(f"AUDIT_KEY_FILE={settings.AUDIT_KEY_FILE!r}: {e}") from None
    # orjson itself when the store neither encrypts nor compresses: a verify of millions notices.
    return TransparencyLog(app.eventlog, open_tree_store(app.eventlog), settings.AUDIT_ORIGIN, signer,
                           plain_decoder(app.mapper), WitnessPolicy.parse(settings.AUDIT_WITNESSES,
                                                                          settings.AUDIT_WITNESS_POLICY))


def log_hasher(settings: Settings, env: dict[str, str] | None = None) -> Any:
    """A `verify` helper (transparency.verify.Helper): hashes part of the log in a
    process of its own, which opens the event store again from `env` (None: this
    environment). None where another process cannot open it (a store in memory)."""
    module, db = settings.PERSISTENCE_MODULE or "", settings.SQLITE_DBNAME or ""
    if "postgres" not in module and ("sqlite" not in module or ":memory:" in db or "mode=memory" in db):
        return None

    def start(after: int, stop: int) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fresh interpreter, not a fork of this one's connections and threads.
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(_hash_range, env, after, stop)
        future.add_done_callback(lambda _: pool.shutdown(wait=False))
        return future

    return start


def _hash_range(env: dict[str, str] | None, after: int, stop: int) -> Any:
    from transparency.verify import hash_range

    app = application(load_settings(env))
    try:
        return hash_range(app.eventlog, plain_decoder(app.mapper), after, stop)
    finally:
        app.close()


def kafka_settings(settings: Settings) -> KafkaSettings:
    """Raises KafkaNotConfigured without KAFKA_BOOTSTRAP_SERVERS."""
    from consumers.settings import KafkaNotConfigured

    if settings.embedded:
        raise KafkaNotConfigured("KAFKA_BOOTSTRAP_SERVERS is not set. Without Kafka the projections are fed "
                                 "in-process from the event store (gridgov demo, gridgov serve).")
    return KafkaSettings(bootstrap=settings.KAFKA_BOOTSTRAP_SERVERS.strip(), prefix=settings.KAFKA_TOPIC_PREFIX,
                         partitions=settings.KAFKA_PARTITIONS, replication=settings.KAFKA_REPLICATION,
                         min_insync_replicas=settings.KAFKA_MIN_INSYNC_REPLICAS,
                         delivery_timeout_ms=settings.KAFKA_DELIVERY_TIMEOUT_MS,
                         stall_after_s=settings.KAFKA_STALL_S)


def relay(settings: Settings, app: GridGovernance, page: int = 1000) -> Relay:
    """The relay: `app`'s log published to the topics the settings name, from the
    position it tracks in the event store. Raises KafkaNotConfigured without Kafka."""
    from consumers.relay import Relay

    return Relay(app, kafka_settings(settings), page=page)


def consumer_runner(settings: Settings, store: ReadStore, name: str) -> ConsumerRunner:
    """The consumer group of the read model `name` (projections.registry) writing to
    `store`; its watchdog replaces a client that stalls for KAFKA_STALL_S. Raises
    ValueError for a name that is not one read model, KafkaNotConfigured without Kafka."""
    from consumers.runner import ConsumerRunner

    models = instances(name)
    if len(models) != 1:
        raise ValueError(f"one consumer group per read model, not {name!r}")
    return ConsumerRunner(models[0], store, kafka_settings(settings))


def checkpoint_publisher(settings: Settings) -> CheckpointPublisher | None:
    """Where `engine.sequence` publishes each signed checkpoint: <prefix>.checkpoints.v1
    with Kafka; None embedded, where the checkpoints are served over HTTP only."""
    if settings.embedded:
        return None
    from consumers.checkpoints import CheckpointPublisher

    return CheckpointPublisher(kafka_settings(settings), settings.AUDIT_ORIGIN)


def sweep(settings: Settings, app: GridGovernance, store: ReadStore) -> Sweep:
    """The engine's sweep over `store`; embedded, it feeds the read models itself
    first (with Kafka, the consumers keep them)."""
    return Sweep(app, store, log_feed(app, store) if settings.embedded else None)


def log_feed(app: GridGovernance, store: ReadStore, models: list[Projection] | None = None) -> LogFeed:
    """The embedded feed: read models fed straight from the event store's log; their tables made."""
    projector = Projector(store, instances() if models is None else models)
    projector.create_tables()
    return LogFeed(app.eventlog, app.mapper, projector)


@dataclass
class Engine:
    settings: Settings
    app: GridGovernance
    store: ReadStore
    # How the read models are fed: in-process from the log (embedded), or by the
    # Kafka consumers, whose lag is then what /readyz reports.
    feed: LogFeed | None = None
    kafka: Any = None  # consumers.lag.KafkaLag
    follower: Follower | None = field(default=None, repr=False)
    tlog: TransparencyLog | None = None
    sequencing: SequencerThread | None = field(default=None, repr=False)
    witnessing: Any = field(default=None, repr=False)  # transparency.witnessing.Witnessing

    def follow(self, interval: float = 0.05) -> Engine:
        """Embedded mode: keep the read models and the transparency log caught up in
        background threads. (With Kafka, `gridgov audit sequence` keeps the log.)"""
        if self.feed is not None and self.follower is None:
            self.follower = Follower(self.feed, interval).start()
        if self.feed is not None and self.tlog is not None and self.sequencing is None:
            self.sequencing = self.sequence()
        return self

    def sequence(self, publish: Any = None) -> SequencerThread:
        """The sequencer in a background thread, signing a checkpoint every
        AUDIT_CHECKPOINT_INTERVAL_S when the tree has grown (and `publish`ing it)."""
        assert self.tlog is not None
        if self.tlog.witnesses.witnesses and self.tlog.signer is not None and self.witnessing is None:
            from transparency.witnessing import Witnessing

            self.witnessing = Witnessing(self.tlog, self.tlog.witnesses,
                                         self.settings.AUDIT_WITNESS_TIMEOUT_S).start()
        checkpointer = Checkpointer(self.tlog, self.settings.AUDIT_CHECKPOINT_INTERVAL_S, publish,
                                    witnessing=self.witnessing)
        return SequencerThread(self.tlog.sequencer(), after_round=checkpointer).start()

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        if self.sequencing is not None:
            self.sequencing.stop()
        if self.witnessing is not None:
            self.witnessing.stop()
        if self.kafka is not None:
            self.kafka.close()
        self.store.close()
        self.app.close()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None, ids: IdFactory | None = None,
              feed: bool = True) -> Engine:
    """The application, the read-model store and (with `feed`) how the read models
    are fed: the Kafka consumers' lag when KAFKA_BOOTSTRAP_SERVERS is set, else a
    feed from the log, which `Engine.follow` runs in-process."""
    settings = load_settings() if settings is None else settings
    app = application(settings, clock=clock, ids=ids)
    try:
        store = read_store(settings)
    except Exception:
        app.close()
        raise
    try:
        engine = Engine(settings, app, store, tlog=transparency_log(settings, app))
    except Exception:
        store.close()
        app.close()
        raise
    if feed and settings.embedded:
        engine.feed = log_feed(app, store)
    elif feed:
        from consumers.lag import KafkaLag

        engine.kafka = KafkaLag(kafka_settings(settings))
    return engine
