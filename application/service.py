"""The application service: one method, `execute`, for every command of docs/design.md §4.

    app = gridgov.bootstrap.application(settings)   # or GridGovernance(env=…): the library's settings
    outcome = app.execute(ClaimTask(task_id=t, rider_id=r), Actor(id=str(r), role=Role.RIDER))
    outcome.position                            # where the command's events sit in the log

Concurrency is optimistic: a command decides on the aggregates as loaded, and the
store refuses the write if another command appended to any of them meanwhile.
Then the command is decided again on fresh state — which usually turns a lost
race into the domain's own answer (TaskAlreadyClaimed), not a retry-later.
"""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent, Recording, Repository
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import Environment, get_topic

from domain import errors
from domain.access import AccessRecord
from domain.aggregate import Aggregate, Context
from application.batch import Batch
from domain.clock import Clock, SystemClock
from application.clue_index import OpenClueIndex
from application.current import CurrentAggregates
from application.held_redemptions import HeldRedemptions
from application.places import Places
from domain.clues import DuplicatePolicy
from domain.commands import Command
from domain.events import Actor, Event
from application.handlers import HANDLERS, SECRETS
from application.idempotency import IdempotencyRecord
from domain.ids import IdFactory, derived_id, random_ids
from application.persistence import PydanticMapper
from eventlog.transcoder import OrjsonTranscoder
from application.personal import unseal
from eventlog.erasures import ErasureList, ShreddingKeyStore
from eventlog.keys import RECORDERS, KeyKind, KeyStore, writes_keys
from photos.blobs import BlobStore
from photos.memory import MemoryBlobStore
from domain.open311_keys import Open311Holder, Open311Key, key_sha256
from domain.points import PointsAccount
from domain.riders import Rider
from domain.scope import EVERYWHERE, Scope
from application.unit_of_work import UnitOfWork
from eventlog import Raw, open_log, stored_event, writing_keys

MAX_ATTEMPTS = 10
TRANSACTION_WINDOW = 64  # more events than any one command stores


@dataclass(frozen=True)
class Outcome:
    """What a command returns: its position in the log and what it created."""

    position: int
    result: dict[str, Any]
    # True when an idempotency key matched an earlier command: nothing was
    # appended, `result` is the first one and `position` the log head now.
    replayed: bool = False


def without_secrets(command: type[Command], result: dict[str, Any]) -> dict[str, Any]:
    """What the idempotency record keeps of an answer: secrets never enter the log."""
    fields = SECRETS[command][0] if command in SECRETS else ()
    return {k: v for k, v in result.items() if k not in fields}


def digest_of(command: Command) -> str:
    """What an idempotency record checks a retry against: the command's name and payload."""
    return hashlib.sha256(type(command).__name__.encode() + b"\0" + command.model_dump_json().encode()).hexdigest()


class Collected(ProcessingEvent[UUID]):
    """What one save writes, gathered by our own classes. The library's ProcessingEvent asks of each
    object whether it is an event, then an aggregate, through runtime-checkable protocols, and on
    Python 3.11 each of those asks walks the protocol's members: a tenth of a redemption's time."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif isinstance(obj, Event):
                self.events.append(obj)
            elif obj is not None:  # the library's own kinds, should one ever be saved here
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class GridGovernance(Application):
    name = "gridgov"
    # How events become bytes. Everything else the library reads (which store, its
    # pool, the aggregate cache) comes from gridgov.settings, through the constructor;
    # constructed bare, the library's defaults apply (an in-memory store).
    env: ClassVar[dict[str, str]] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
    }

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock | None = None,
                 ids: IdFactory | None = None, duplicate_policy: DuplicatePolicy | None = None,
                 blobs: BlobStore | None = None, erasures: ErasureList | None = None) -> None:
        super().__init__(env)
        # Where shredded keys are written down, so no restore brings them back (eventlog/erasures.py).
        self.erasures = erasures
        # Photos' sealed bytes (application/photos.py): gridgov.bootstrap gives the configured store.
        self.clock: Clock = clock or SystemClock()
        self.blobs: BlobStore = blobs if blobs is not None else MemoryBlobStore(now=self.clock.now)
        self.ids: IdFactory = ids or random_ids
        self.eventlog = open_log(self.recorder)
        # Commands read aggregates from here (current.py), not from the library's cache.
        self.current = CurrentAggregates(self.repository, self.eventlog,
                                         int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 0))
        self.duplicate_policy = duplicate_policy or DuplicatePolicy()
        self.open_clues = OpenClueIndex(self.eventlog, self.mapper, self.duplicate_policy)
        self.held_redemptions = HeldRedemptions(self.eventlog, self.mapper)
        self.places = Places(self.eventlog, self.mapper)
        # SQLite takes one writer at a time; threads that race for its lock back off
        # in sleeps of growing length, so in-process they queue here instead.
        sqlite = "sqlite" in (self.env.get("PERSISTENCE_MODULE") or "")
        self._writers: threading.Lock | nullcontext[None] = threading.Lock() if sqlite else nullcontext()
        self._shredders: dict[KeyKind, KeyStore] = {}

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """The library's environment, naming the recorder that writes a command's new keys in its
        events' transaction (eventlog/keys.py: NewKey, RECORDERS)."""
        environment = super().construct_env(name, env)
        module = environment.get("PERSISTENCE_MODULE") or ""
        backend = next((b for b in ("sqlite", "postgres") if b in module), None)
        if backend is not None and not environment.get("APPLICATION_RECORDER_TOPIC"):
            environment["APPLICATION_RECORDER_TOPIC"] = RECORDERS[backend]
        return environment

    def construct_recorder(self):  # type: ignore[no-untyped-def]
        # SQLite will not create the folder of its file; `var/` may not exist yet.
        if "sqlite" in (self.env.get("PERSISTENCE_MODULE") or ""):
            db = self.env.get("SQLITE_DBNAME") or ""
            if db and ":memory:" not in db and "mode=memory" not in db:
                os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
        recorder = writing_keys(super().construct_recorder())
        if not writes_keys(recorder):
            raise ValueError(f"APPLICATION_RECORDER_TOPIC names {type(recorder).__name__}, which would not write "
                             "a command's new keys with its events: leave it unset (eventlog/keys.py: NewKey)")
        return recorder

    def construct_repository(self) -> Repository:
        """The library's repository, without its cache: AGGREGATE_CACHE_MAXSIZE sizes `current`, which
        knows when a held aggregate is current without asking the store for each (current.py)."""
        return Repository(event_store=self.events, snapshot_store=self.snapshots)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, collecting through `Collected`; the indexes that follow the log
        take in what was written here themselves (LogFollower.wrote)."""
        processing_event = Collected()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        positions = [recording.notification.id for recording in recordings]
        for index in (self.open_clues, self.places, self.held_redemptions):
            index.wrote(processing_event.events, positions)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    # --- commands ----------------------------------------------------------------

    def execute(self, command: Command, actor: Actor, *, idempotency_key: str | None = None,
                correlation_id: UUID | None = None, scope: Scope = EVERYWHERE) -> Outcome:
        """`scope`: the districts and grids the caller's token covers (the API
        passes it; the engine's own callers reach everywhere)."""
        with self._writers:
            return self._execute(command, actor, idempotency_key, correlation_id, scope)

    def _execute(self, command: Command, actor: Actor, idempotency_key: str | None,
                 correlation_id: UUID | None, scope: Scope) -> Outcome:
        handler = HANDLERS[type(command)]
        name = type(command).__name__
        record_id = IdempotencyRecord.id_for(actor, idempotency_key) if idempotency_key is not None else None
        # Only a keyed command is checked against a retry: a payload's hash was 4 % of an unkeyed create.
        digest = digest_of(command) if record_id is not None else ""
        # A retried request keeps its causation id, so its events (if any) say so.
        command_id = derived_id("command", record_id) if record_id else self.ids()
        for _ in range(MAX_ATTEMPTS):
            ctx = Context(actor=actor, now=self.clock.now(), command_id=command_id,
                          correlation_id=correlation_id or command_id, scope=scope)
            uow = UnitOfWork(self)
            record = None
            if record_id is not None:
                assert idempotency_key is not None
                earlier = self._earlier_record(uow, actor, idempotency_key)
                if earlier is not None:
                    return self._replay(uow, earlier, type(command), digest, idempotency_key)
                record = uow.get(IdempotencyRecord, record_id)
            try:
                result = handler(uow, ctx, command)
            except errors.DomainError as refusal:
                if not refusal.keeps_events:
                    raise
                if self._write(uow) is None:
                    continue  # decide again on fresh state: the refusal may no longer be one
                raise
            if record is not None:
                record.record(ctx, name, digest, without_secrets(type(command), result))
            positions = self._write(uow)
            if positions is None:
                continue  # someone else appended first: decide again on fresh state
            return Outcome(position=positions[-1] if positions else self.head(), result=result)
        raise errors.ConcurrencyConflict(f"{name} kept conflicting with other writers; try again")

    def batch(self) -> Batch:
        """Group commit: many commands, one transaction (batch.py)."""
        return Batch(self)

    @staticmethod
    def _earlier_record(uow: UnitOfWork, actor: Actor, key: str) -> IdempotencyRecord | None:
        """This caller's record of the key, if any: the per-caller one, or one kept
        before keys were per caller, when the same caller wrote it."""
        record = uow.get(IdempotencyRecord, IdempotencyRecord.id_for(actor, key))
        if record.exists:
            return record
        legacy = uow.get(IdempotencyRecord, IdempotencyRecord.legacy_id_for(key))
        return legacy if legacy.exists and legacy.actor == actor else None

    def _replay(self, uow: UnitOfWork, record: IdempotencyRecord, command: type[Command], digest: str,
                key: str) -> Outcome:
        name = command.__name__
        if record.command != name or record.payload_sha256 != digest:
            raise errors.IdempotencyKeyReused(
                f"idempotency key {key!r} was used for a different {'payload' if record.command == name else 'command'}",
                first_command=record.command)
        result = record.result
        if command in SECRETS:  # the record kept none of them: the key store answers again
            result = {**result, **SECRETS[command][1](uow, result)}
        return Outcome(position=self._first_position(record.id), result=result, replayed=True)

    def _first_position(self, record_id: UUID) -> int:
        """The position the first answer gave: the end of the transaction that
        stored the idempotency record. Read-your-writes waits on it, so a retry
        must not hand out the head, which may be someone else's command."""
        start = self.eventlog.position_of(record_id, 1)
        return self.transaction_at(start)[-1][0] if start is not None else self.head()

    def transaction_at(self, position: int) -> list[Raw]:
        """The log rows stored with the one at `position`, by the same command:
        one transaction, so they sit together in the log and share a correlation id."""
        window = self.eventlog.page(max(position - TRANSACTION_WINDOW, 0), 2 * TRANSACTION_WINDOW - 1)
        at = next((i for i, row in enumerate(window) if row[0] == position), None)
        if at is None:
            return []
        correlations = [self.mapper.to_domain_event(stored_event(row)).meta.correlation_id for row in window]
        first = last = at
        while first > 0 and correlations[first - 1] == correlations[at]:
            first -= 1
        while last + 1 < len(window) and correlations[last + 1] == correlations[at]:
            last += 1
        return window[first:last + 1]

    def record_access(self, actor: Actor, what: str, path: dict[str, str], districts: list[str],
                      status: int, checkpoint: tuple[int, str] | None = None,
                      query: dict[str, str | list[str]] | None = None) -> int:
        """Keep an auditor's request or export in the log (domain/access.py); its position.
        Not a command: nobody asks for it, the engine records what was asked of it."""
        access_id = self.ids()
        ctx = Context(actor=actor, now=self.clock.now(), command_id=access_id, correlation_id=access_id)
        record = AccessRecord(access_id)
        size, root = checkpoint if checkpoint is not None else (None, None)
        record.record(ctx, what, path, districts, status, checkpoint_size=size, checkpoint_root=root, query=query)
        with self._writers:
            return self.save(record)[-1].notification.id

    @property
    def keys(self) -> KeyStore:
        """Rider keys; their table is made on first use, so processes that never
        touch personal data (rebuild helpers, consumers) make no DDL at start."""
        return self._shredding("rider")

    @property
    def code_keys(self) -> KeyStore:
        """Redemptions' keys: a code's digest is keyed with one, so what the events
        show cannot be tried against every six-digit code (domain/redemptions.py)."""
        return self._shredding("redemption")

    @property
    def photo_keys(self) -> KeyStore:
        """Photos' keys, one per photo: erasing a rider or sweeping a photo shreds it (application/photos.py)."""
        return self._shredding("photo")

    def _shredding(self, kind: KeyKind) -> KeyStore:
        # One store per kind, the same object each time: a command's new keys are told apart by it (UnitOfWork.key).
        if kind not in self._shredders:
            store = self.eventlog.keys(kind)
            self._shredders[kind] = store if self.erasures is None else ShreddingKeyStore(store, kind, self.erasures)
        return self._shredders[kind]

    # --- small queries the domain itself can answer ----------------------------------

    def head(self) -> int:
        return self.eventlog.head()

    def _write(self, uow: UnitOfWork) -> list[int] | None:
        """What `uow` decided, saved: the positions written (this write's own commit met again
        counts, see `landed`), or None when another writer appended first."""
        events = uow.pending()  # before save, which takes them out of the aggregates
        try:
            positions = [recording.notification.id for recording in self.save(*uow.changed(), keys=uow.keys)]
        except IntegrityError:
            self.current.forget(uow.loaded)
            return self.landed(events)
        self.current.written(positions, uow.loaded.values())
        return positions

    def landed(self, events: list[Event]) -> list[int] | None:
        """The positions of `events`, a write refused as a conflict, if it was this write's own commit
        that the store met: a PostgreSQL primary that died after its synchronous standby had the commit
        and before the answer came back, the library writing again on the promoted standby. None when
        any event stored there is not the very one written here: another writer's, even another
        instance deciding the same idempotency key (the same causation, its own time) — that one is
        decided again and finds the first answer to replay."""
        if not events:
            return None
        for event in events:
            there = list(self.events.get(event.originator_id, gt=event.originator_version - 1,
                                         lte=event.originator_version))
            if there != [event]:
                return None
        found = self.eventlog.positions_of((e.originator_id, e.originator_version) for e in events)
        return [found[(e.originator_id, e.originator_version)] for e in events]

    def points_by_district(self, rider_id: UUID) -> dict[str, int]:
        """A rider's available points by the district whose work earned them: what each
        district's catalogue can take (domain/points.py). From the account itself, which
        keeps the lots a read model would have to copy."""
        return UnitOfWork(self).get(PointsAccount, PointsAccount.id_for(rider_id)).available_by_district()

    def open311_key(self, api_key: str) -> Open311Holder | None:
        """Who holds an Open311 key, or None for a key never issued: read from its stream, named by the
        secret's digest, so a revocation is in force at the next request (no read model to wait for)."""
        key = UnitOfWork(self).get(Open311Key, Open311Key.id_for(key_sha256(api_key)))
        return key.holder() if key.exists else None

    def personal_data(self, rider_id: UUID) -> dict[str, str] | None:
        """A rider's name and phone, or None once erased."""
        rider = UnitOfWork(self).get(Rider, rider_id, errors.RiderNotFound)
        key = self.keys.get(rider_id)
        if key is None or rider.erased:
            return None
        return unseal(key, rider.personal_sealed)

    def rider_name(self, rider_id: UUID) -> str | None:
        """A rider's name, or None once erased (or for no rider): what pages show, masked, of a rider."""
        try:
            personal = self.personal_data(rider_id)
        except errors.RiderNotFound:
            return None
        return personal["name"] if personal else None
