"""A projection: tables, the events it folds, and the fold.

Each projection owns a set of tables named `<prefix><name>_<table>`. The live
copy has no prefix; a rebuild fills `shadow_…` and swaps it in; a verify fills
`verify_…` and compares. Two tracking tables travel with every copy:

  <name>_streams    stream id -> last version applied (drops redelivered events)
  <name>_positions  source -> last position read (the log's notification id, or
                    a Kafka topic/partition's offset), for resuming

Both are written in the same transaction as the change they describe.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, ClassVar

from eventsourcing.utils import get_topic

from domain.events import Event
from projections.store import Tx

TRACKING = {
    "streams": "stream_id TEXT PRIMARY KEY, version BIGINT NOT NULL",
    "positions": "source TEXT PRIMARY KEY, position BIGINT NOT NULL",
}


def ts(when: datetime) -> str:
    """Timestamps as fixed-width UTC text: sorts and compares the same in both databases."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Projection:
    name: ClassVar[str]
    handles: ClassVar[tuple[type[Event], ...]]
    # table -> column definitions; the first column list in `keys` orders dumps
    tables: ClassVar[dict[str, str]]
    keys: ClassVar[dict[str, str]]
    indexes: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.t = {table: f"{prefix}{self.name}_{table}" for table in [*self.tables, *TRACKING]}

    @cached_property
    def topics(self) -> list[str]:
        return [get_topic(cls) for cls in self.handles]

    def sql(self, text: str) -> str:
        """SQL with `{table}` names filled in for this copy."""
        return text.format(**self.t)

    def create(self, tx: Tx) -> None:
        for table, columns in {**self.tables, **TRACKING}.items():
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.t[table]} ({columns})")
        for table, columns in self.indexes.items():
            for column_list in columns:
                # Index names are unique per database and survive a table rename,
                # so a copy's indexes get names no other copy can have.
                suffix = uuid.uuid4().hex[:8]
                tx.execute(f"CREATE INDEX ix_{self.name}_{table}_{suffix} ON {self.t[table]} ({column_list})")

    def drop(self, tx: Tx) -> None:
        for table in self.t.values():
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def apply(self, tx: Tx, event: Event) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget anything cached between transactions (after a rollback)."""


def detail(event: Event, *skip: str) -> dict[str, Any]:
    """An event's own fields, for a human reading the audit trail."""
    return event.model_dump(mode="json", exclude={"originator_id", "originator_version", "timestamp", "meta", *skip})
