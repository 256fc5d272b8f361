"""The access log: each request an auditor's token makes (and each export) is itself
an event — who (the event's actor), when (its timestamp), what was asked, and at
which checkpoint — so it sits in the transparency log with everything else, and a
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
Values = Annotated[list[Short], Field(max_length=20)]


class AccessEvent(Event):
    aggregate = "access"


class AuditAccessed(AccessEvent):
    # v2: the method joined the route, and the path's parameters and the query's are kept
    # apart (v1 merged them, so a query parameter could hide the path's: domain/upcasting.py).
    schema_version = 2
    # The method and the route asked, as declared (`GET /v1/awards/{piece_id}/chain`), or
    # the path as sent when no route matched; or the command line's (`gridgov audit export`).
    what: Short
    # The route's path parameters; the query's, each under its own name (a list when
    # repeated); the command line's options are its query.
    path_parameters: dict[Short, Short] = Field(default_factory=dict, max_length=20)
    query_parameters: dict[Short, Short | Values] = Field(default_factory=dict, max_length=20)
    # Whose auditors see this access: the districts asked about, and the caller's own
    # unless every one asked about is the caller's (a refusal is seen on both sides).
    districts: list[Short] = Field(max_length=50)
    # The HTTP status answered (or 200 for the command line): refusals are accesses too.
    status: int = Field(ge=100, le=599)
    # The checkpoint the answer was taken at (an export's), else the latest then kept.
    checkpoint_size: int | None = Field(default=None, ge=0)
    checkpoint_root: Short | None = None


LONGEST, MOST, DISTRICTS = 200, 20, 50


def kept(text: object) -> str:
    """A value as recorded: cut, and without the NUL no store keeps in text."""
    return str(text)[:LONGEST].replace("\x00", "\ufffd")


class AccessRecord(Aggregate, events=AccessEvent):
    def record(self, ctx: Context, what: str, path: dict[str, str], districts: list[str], status: int,
               checkpoint_size: int | None = None, checkpoint_root: str | None = None,
               query: dict[str, str | list[str]] | None = None) -> AuditAccessed:
        """Whatever was asked is recorded: over-long values and lists are cut, not
        refused, so that no request can make its own record fail. `districts` in the
        order they matter: past the 50th they are cut."""
        asked = {kept(k): kept(v) if isinstance(v, str) else [kept(x) for x in v[:MOST]]
                 for k, v in list((query or {}).items())[:MOST]}
        return self._trigger(ctx, AuditAccessed, what=kept(what),
                             path_parameters={kept(k): kept(v) for k, v in sorted(path.items())[:MOST]},
                             query_parameters=asked,
                             districts=sorted(list(dict.fromkeys(kept(d) for d in districts))[:DISTRICTS]),
                             status=status, checkpoint_size=checkpoint_size, checkpoint_root=checkpoint_root)

    def _when(self, event: Event) -> None:
        pass  # nothing to decide on later: a record is only ever written once
