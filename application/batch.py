"""Group commit: many commands decided one after another, saved in one transaction.

On PostgreSQL a command costs one transaction under the event store's table lock
and a handful of round trips; most of a command's time is waiting on them. A
batch decides each command exactly as `GridGovernance.execute` would, on the
state the commands before it left (they share one unit of work, so a task a
command claimed is claimed for the next), and writes them all with one `save`:
one transaction, one lock, the round trips of one command.

The rules hold as they do one at a time:
  - each command is decided on current state: the batch's own unsaved events
    included (the aggregates it loaded, and the clues it reported, which the
    duplicate check is shown: UnitOfWork.pending);
  - a refused command writes nothing: whatever it had decided before it was
    refused is undone, and the commands after it see the state without it;
  - all or nothing: if another writer appended to an aggregate the batch writes
    to, the commit raises ConcurrencyConflict and nothing of the batch is written
    (the answers it gave are void; the caller submits again). An aggregate the
    batch only read (a rider checked to be active) is not checked at commit, as
    with `execute`; but the window is the batch's, not one command's: keep
    batches short where other writers change what they read.
A command with an idempotency key writes its record with its events, as `execute` does; a key
used before (in the store, or earlier in the batch) is not answered here: `KeyUsedBefore` says
so, having decided nothing, and the caller commits the batch and asks `execute`, which replays
the first answer (or refuses a different command under the key).

    with app.batch() as batch:          # commits on leaving; the positions in batch.positions
        result = batch.execute(command, actor)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain import errors
from domain.aggregate import Aggregate, Context
from domain.commands import Command
from domain.events import Actor
from application.handlers import HANDLERS
from application.idempotency import IdempotencyRecord
from domain.ids import derived_id
from domain.scope import EVERYWHERE, Scope
from application.unit_of_work import UnitOfWork
from eventlog.keys import NewKey

if TYPE_CHECKING:
    from application.service import GridGovernance

A = TypeVar("A", bound=Aggregate)


class KeyUsedBefore(Exception):
    """The command's idempotency key has a record already: `execute` answers it (see above)."""


class Batch:
    def __init__(self, app: GridGovernance) -> None:
        self.app = app
        self.uow = UnitOfWork(app)
        self.commands = 0
        self.positions: list[int] = []  # after commit: each accepted command's position, in order
        self._accepted: list[Any] = []  # their command ids
        self._events: list[Any] = []  # their events, command by command

    def execute(self, command: Command, actor: Actor, scope: Scope = EVERYWHERE,
                idempotency_key: str | None = None) -> dict[str, Any]:
        """Decide `command`; its result, or the DomainError that refused it (nothing kept)."""
        from application.service import digest_of, without_secrets

        handler = HANDLERS[type(command)]
        record_id = IdempotencyRecord.id_for(actor, idempotency_key) if idempotency_key is not None else None
        # As `execute`: a keyed command's id comes from its key, so its events name it on every try.
        command_id = derived_id("command", record_id) if record_id else self.app.ids()
        ctx = Context(actor=actor, now=self.app.clock.now(), command_id=command_id, correlation_id=command_id,
                      scope=scope)
        self.uow.touched = marks = {}  # filled as the command asks for aggregates (UnitOfWork.get)
        keys_before = list(self.uow.keys)  # a copy: an erasure may take out an earlier command's key
        record = None
        if record_id is not None:
            assert idempotency_key is not None
            if self.app._earlier_record(self.uow, actor, idempotency_key) is not None:
                raise KeyUsedBefore(idempotency_key)
            record = self.uow.get(IdempotencyRecord, record_id)
        try:
            result = handler(self.uow, ctx, command)
            if record is not None:
                record.record(ctx, type(command).__name__, digest_of(command), without_secrets(type(command), result))
        except errors.DomainError as refusal:
            if refusal.keeps_events:  # a refusal that is a fact (a wrong code counted) is written with the batch
                self._keep(marks)
            else:
                self._undo(marks, keys_before)
            raise
        except Exception:  # the store failed mid-way: it leaves nothing behind
            self._undo(marks, keys_before)
            raise
        self._keep(marks)
        self.commands += 1
        self._accepted.append(command_id)
        return result

    def _keep(self, marks: dict[Any, int]) -> None:
        # In the order `execute` would write them: aggregate by aggregate, as the command asked for them.
        self._events += [event for id in self.uow.touched
                         for event in self.uow.loaded[id]._pending[marks.get(id, 0):]]

    @property
    def size(self) -> int:
        """Commands accepted and not yet committed."""
        return len(self._accepted)

    def get(self, cls: type[A], id: Any, missing: type[errors.NotFound] | None = None) -> A:
        """An aggregate as the batch has it now, saved or not (for a caller deciding what to do next)."""
        return self.uow.get(cls, id, missing)

    def prefetch(self, cls: type[A], ids: Iterable[UUID]) -> None:
        """Read ahead what the commands to come will ask for (UnitOfWork.prefetch)."""
        self.uow.prefetch(cls, ids)

    def _undo(self, marks: dict[Any, int], keys_before: list[NewKey]) -> None:
        """Take back what a refused command decided: each aggregate it changed (it changes only
        those it asked for) is loaded again and given back only the batch's earlier events; the
        keys it made are dropped."""
        self.uow.keys = keys_before
        for id, kept in marks.items():
            aggregate = self.uow.loaded.get(id)
            if aggregate is None or len(aggregate._pending) == kept:
                continue
            earlier = aggregate._pending[:kept]
            stored_version = aggregate.version - len(aggregate._pending)
            del self.uow.loaded[id]
            if not earlier:
                continue  # a later get loads it afresh from the store (or finds it new)
            # At the version the batch saw, not the newest: another writer's events would
            # mix into what later commands decide on (the commit would refuse it anyway).
            again = (self.app.repository.get(id, version=stored_version, projector_func=type(aggregate).project)
                     if stored_version else type(aggregate)(id))
            for event in earlier:
                again.apply(event)
            again._pending = list(earlier)
            self.uow.loaded[id] = again

    def commit(self) -> list[int]:
        """Write every accepted command's events in one transaction; their positions."""
        if not self._events:
            return []
        accepted, events, loaded, keys = self._accepted, self._events, self.uow.loaded, self.uow.keys
        self.uow, self._accepted, self._events = UnitOfWork(self.app), [], []  # a fresh start, written or not
        try:
            with self.app._writers:
                written = [r.notification.id for r in self.app.save(*events, keys=keys)]
        except IntegrityError:
            self.app.current.forget(loaded)
            # Another writer's, or this batch's own commit whose answer was lost (GridGovernance.landed).
            if (landed := self.app.landed(events)) is None:
                raise errors.ConcurrencyConflict(
                    f"another writer changed what this batch of {len(accepted)} commands decided on; nothing "
                    "was written, submit them again") from None
            written = landed
        else:
            for aggregate in loaded.values():
                aggregate._pending = []  # written: they are as the store has them
            self.app.current.written(written, loaded.values())
        last: dict[Any, int] = {}
        for event, position in zip(events, written):
            last[event.meta.causation_id] = position
        self.positions = [last.get(command_id, written[-1] if written else 0) for command_id in accepted]
        return self.positions

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
