"""The access log: each query and export an auditor makes is itself an event —
who (the event's actor), when (its timestamp), what was asked, and at which
checkpoint — so it sits in the transparency log with everything else, and a
district's auditors can see who looked into that district's history.

Each access is a stream of its own (one event): recording one never contends
with another, nor with the commands it was about.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from domain.aggregate import Aggregate, Context
from domain.events import Event

Short = Annotated[str, StringConstraints(max_length=200)]


class AccessEvent(Event):
    aggregate = "access"


class AuditAccessed(AccessEvent):
    # The route asked, as declared (`/v1/awards/{piece_id}/chain`), and its parameters.
    what: Short
    parameters: dict[Short, Short] = Field(default_factory=dict, max_length=20)
    # Whose auditors see this access: the district asked about, else the caller's.
    districts: list[Short] = Field(max_length=50)
    # The HTTP status answered (or 200 for the command line): refusals are accesses too.
    status: int = Field(ge=100, le=599)
    # The checkpoint the answer was taken at (an export's), else the latest then kept.
    checkpoint_size: int | None = Field(default=None, ge=0)
    checkpoint_root: Short | None = None


LONGEST, MOST = 200, 20


class AccessRecord(Aggregate, events=AccessEvent):
    def record(self, ctx: Context, what: str, parameters: dict[str, str], districts: list[str], status: int,
               checkpoint_size: int | None = None, checkpoint_root: str | None = None) -> AuditAccessed:
        """Whatever was asked is recorded: over-long values are cut, not refused,
        so that no request can make its own record fail."""
        kept = {k[:LONGEST]: str(v)[:LONGEST] for k, v in sorted(parameters.items())[:MOST]}
        return self._trigger(ctx, AuditAccessed, what=what[:LONGEST], parameters=kept,
                             districts=sorted({d[:LONGEST] for d in districts})[:50], status=status,
                             checkpoint_size=checkpoint_size, checkpoint_root=checkpoint_root)

    def _when(self, event: Event) -> None:
        pass  # nothing to decide on later: a record is only ever written once
