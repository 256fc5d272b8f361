"""What one command touches: the aggregates it loaded and the helpers it may use.

All of it is saved in one `Application.save` call, i.e. one transaction: a
command's events across several aggregates land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, TypeVar
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.application import AggregateNotFoundError

from domain import errors
from domain.aggregate import Aggregate, WrongStream
from domain.events import Event
from eventlog.keys import KeyStore, NewKey

if TYPE_CHECKING:
    from application.service import GridGovernance

A = TypeVar("A", bound=Aggregate)


@dataclass
class UnitOfWork:
    app: GridGovernance
    loaded: dict[UUID, Aggregate] = field(default_factory=dict)
    # The aggregates the current command asked for, in order (a command's events are written in
    # this order: Application.save takes them aggregate by aggregate), each with how many unsaved
    # events it held when the command first asked: what a batch keeps, or takes back, of the
    # command's own comes after that (batch.py) — found without going over every aggregate the
    # batch holds, which was a quarter of a batch's time (each command's cost grew with the batch).
    touched: dict[UUID, int] = field(default_factory=dict)
    # Keys made here, written in the events' transaction (eventlog/keys.py: NewKey).
    keys: list[NewKey] = field(default_factory=list)
    synced: bool = False  # the app's current aggregates have taken in the log (current.py)

    def get(self, cls: type[A], id: UUID, missing: type[errors.NotFound] | None = None) -> A:
        """Load an aggregate; raise `missing` if it has no events, or hand back a
        fresh one when `missing` is None (streams named by a key start empty)."""
        if id not in self.touched:
            held = self.loaded.get(id)
            self.touched[id] = len(held._pending) if held is not None else 0
        if id in self.loaded:
            aggregate = self.loaded[id]
            if not isinstance(aggregate, cls):
                raise (missing or errors.InvalidInput)(f"{id} is a {type(aggregate).__name__}, not a {cls.__name__}",
                                                       id=str(id))
            return aggregate
        self._sync()
        try:
            aggregate = self.app.current.get(cls, id)
            if not isinstance(aggregate, cls):
                # The cache hands back whatever kind it holds for an id.
                raise WrongStream(f"{id} is a {type(aggregate).__name__}, not a {cls.__name__}")
        except (AggregateNotFoundError, WrongStream):
            if missing is not None:
                raise missing(f"no {cls.__name__.lower()} with id {id}", id=str(id)) from None
            aggregate = cls(id)
        self.loaded[id] = aggregate
        return aggregate

    def prefetch(self, cls: type[A], ids: Iterable[UUID]) -> None:
        """Read ahead aggregates the commands to come will ask for, all in one query (current.py)."""
        self._sync()
        self.app.current.prefetch(cls, [id for id in ids if id not in self.loaded])

    def head(self) -> int:
        """The log's position that what this reads is current as of: the indexes read from the log
        (open clues, places, held redemptions) are caught up to here (application/log_follower.py)."""
        self._sync()
        return self.app.current.seen

    def _sync(self) -> None:
        if not self.synced:  # once: what the log added since, for every aggregate this asks for
            self.app.current.sync()
            self.synced = True

    def changed(self) -> list[Aggregate]:
        """The aggregates with events to save, in the order loaded: only they go to Application.save."""
        return [aggregate for aggregate in self.loaded.values() if aggregate._pending]

    def pending(self) -> list[Event]:
        """The events decided here and not yet saved: a batch of commands (batch.py)
        holds several commands' worth, which what reads the log cannot see yet."""
        return [event for aggregate in self.loaded.values() for event in aggregate._pending]

    def new_key(self, store: KeyStore, owner: UUID) -> bytes:
        """A key for an owner that has none by construction (a redemption made here, a code's next
        generation), saved with the events; if one is there after all, the save is a conflict."""
        key = AESGCM.generate_key(bit_length=256)
        self.keys.append(NewKey(store, owner, key))
        return key

    def key(self, store: KeyStore, owner: UUID) -> bytes:
        """The owner's key: the one stored or made here already, else a new one saved with the events."""
        return self.existing_key(store, owner) or self.new_key(store, owner)

    def delete_key(self, store: KeyStore, owner: UUID) -> None:
        """Shred the owner's key: the stored one, and one made here (a batch's registration of the
        rider now erased) that would otherwise be written after the deletion, bringing it back."""
        self.keys = [new for new in self.keys if not (new.store is store and new.owner == owner)]
        store.delete(owner)

    def existing_key(self, store: KeyStore, owner: UUID) -> bytes | None:
        """The owner's key made here (a batch's earlier command: not stored until the batch is) or stored."""
        made = next((new.key for new in self.keys if new.store is store and new.owner == owner), None)
        return made if made is not None else store.get(owner)

    def new(self, cls: type[A], id: UUID | None = None) -> A:
        aggregate = cls(id or self.app.ids())
        self.loaded[aggregate.id] = aggregate
        self.touched.setdefault(aggregate.id, 0)
        return aggregate
