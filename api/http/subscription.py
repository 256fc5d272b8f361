"""Server-Sent Events for other services: the event log as CloudEvents (the
same envelope Kafka carries, in structured JSON), filtered to what the token
may see, resumable from `Last-Event-ID`.

The SSE `id` of each event is its position in the event store's log, so a
reconnecting client (a browser's EventSource does this by itself) resumes
exactly after the last event it got. The stream reads the store, not a read
model, so it is never behind a projection and works the same embedded or with
Kafka + PostgreSQL.

Who sees what (docs/design.md §5): a stream belongs to the districts and grids its
events name, as of each event (a rider who joins a second district later does
not make their earlier history visible there), and to the rider its first
event is about (the rider's own stream, its accounts, its clues, its appeals).
A rider sees its own streams and, elsewhere, the events that name it (its
claims of a task, not the next claimant's); an officer sees its grids'; admins,
auditors and services their districts'. A partner sees its own business only: its
partner stream, its items' and the redemptions handed to it (the streams whose
first event names it), not its district's.

A rider also hears the board of the grids it is in as each event passes (a task
published, claimed, released, cancelled): what changes the tasks open to it, so
its page shows a new task without asking. A step another rider took comes without
that rider's id or the actor who caused it.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Callable
from dataclasses import dataclass, field
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.http import scoping
from api.http.auth import Principal
from consumers.envelope import to_json
from consumers.topics import NOT_PUBLISHED
from domain.errors import InvalidInput
from domain.events import EVENT_TYPES, Role, topics_of
from application.service import GridGovernance
from projections.facts import Fact, from_raw, from_stored

PAGE = 500
POLL_S = 0.25
STREAM_TYPES = ("GridRegistered", "RiderRegistered")  # streams that are themselves a grid, a rider


RIDER_FIELDS = ("rider_id", "reporter_id")
PIECE_NAMED = ("PointsEarned", "SubsidyCapped", "SubsidyReversed", "AwardReinstated")
# What changes the tasks open in a grid: a rider of the grid hears these.
BOARD = frozenset({"TaskPublished", "TaskClaimed", "ClaimReleased", "TaskCancelled"})


def riders_named(fact: Fact) -> set[str]:
    return {str(fact.data[key]) for key in RIDER_FIELDS if fact.data.get(key)}


@dataclass
class Scope:
    districts: set[str] = field(default_factory=set)
    grids: set[str] = field(default_factory=set)
    owner: str | None = None  # the rider a stream is about: its own, its account, its clue, its appeal
    partner: str | None = None  # the partner a stream is about: its own, its item, a redemption handed to it

    def add(self, fact: Fact) -> None:
        data = fact.data
        if district := data.get("district"):
            self.districts.add(district)
        if grid := data.get("grid_id"):
            self.grids.add(str(grid))
        if fact.type == "GridRegistered":
            self.grids.add(fact.stream)
        if fact.version == 1:
            named = riders_named(fact)
            self.owner = fact.stream if fact.type == "RiderRegistered" else (next(iter(named)) if named else None)
            self.partner = fact.stream if fact.type == "PartnerRegistered" else (
                str(data["partner_id"]) if data.get("partner_id") else None)

    def visible_to(self, who: Principal, fact: Fact) -> bool:
        return scoping.sees_stream(who, self.districts, self.grids, self.owner, self.partner,
                                   lambda: riders_named(fact))


def board_only(fact: Fact) -> Fact:
    """A board step as a rider of the grid may hear it: no rider named, no actor."""
    data = {key: value for key, value in fact.data.items() if key not in RIDER_FIELDS and key != "meta"}
    return fact._replace(data=data)


class Membership:
    """The grids a rider is in, as of the event the reader has reached."""

    def __init__(self, app: GridGovernance, rider: str, after: int) -> None:
        self.rider = rider
        self.grids: set[str] = set()
        stored = app.eventlog.stream(UUID(rider))
        positions = app.eventlog.positions_of((UUID(rider), one.originator_version) for one in stored)
        for one in stored:
            if positions.get((UUID(rider), one.originator_version), after + 1) <= after:
                self.follow(from_stored(one, app.mapper.decode_state))

    def follow(self, fact: Fact) -> None:
        if fact.stream != self.rider:
            return
        if fact.type == "RiderJoinedGrid":
            self.grids.add(str(fact.data["grid_id"]))
        elif fact.type == "RiderLeftGrid":
            self.grids.discard(str(fact.data["grid_id"]))

    def hears(self, fact: Fact, scope: Scope) -> bool:
        return fact.type in BOARD and bool(scope.grids & self.grids)


class Scopes:
    """Stream id -> Scope, learnt from the events as they pass and, for a stream
    first met in the middle (a resumed subscription), from its earlier events."""

    def __init__(self, app: GridGovernance, keep: int = 50_000) -> None:
        self.app = app
        self.keep = keep  # a subscriber from the start of a city's log meets millions of streams
        self.known: OrderedDict[str, Scope] = OrderedDict()

    def of(self, fact: Fact) -> Scope:
        scope = self.known.get(fact.stream)
        if scope is None:
            scope = self.known[fact.stream] = self._history(fact.stream, fact.version - 1)
            if len(self.known) > self.keep:
                self.known.popitem(last=False)  # forgotten is fine: learnt again from its history
        else:
            self.known.move_to_end(fact.stream)
        scope.add(fact)
        return self._of_event(fact, scope)

    def _of_event(self, fact: Fact, stream: Scope) -> Scope:
        """An event that names its district or grid belongs there alone (a rider's
        award in 锦江 is not 温江's news because the same month's account had one
        there); others belong wherever their stream does."""
        data = fact.data
        districts, grids = stream.districts, stream.grids
        if district := data.get("district"):
            districts = {district}
        elif fact.type in PIECE_NAMED:
            # A points or subsidy account is the rider's month in any district; an event
            # that names only its piece belongs where that piece (task or appeal) was.
            piece = str(data["piece_id"])
            districts = (self.known.get(piece) or self._history(piece, None)).districts
        if grid := data.get("grid_id"):
            grids = {str(grid)}
        return Scope(districts, grids, stream.owner, stream.partner)

    def _history(self, stream: str, through: int | None) -> Scope:
        scope = Scope()
        if through is not None and through < 1:
            return scope
        for stored in self.app.eventlog.stream(UUID(stream), through):
            scope.add(from_stored(stored, self.app.mapper.decode_state))
        return scope


@dataclass(frozen=True)
class Subscription:
    who: Principal
    after: int
    types: frozenset[str]
    follow: bool
    limit: int | None


def subscription(who: Principal, after: int, last_event_id: str | None, types: str | None, follow: bool,
                 limit: int | None, head: int) -> Subscription:
    """Check the request before the stream starts, so a bad one gets a problem, not a broken stream."""
    if last_event_id is not None:
        if not re.fullmatch(r"[0-9]{1,19}", last_event_id.strip()):  # str.isdigit() also takes "²"
            raise InvalidInput("Last-Event-ID must be a position this stream sent (a whole number)",
                               last_event_id=last_event_id)
        after = int(last_event_id)
    if after > head:
        raise InvalidInput(f"position {after} is beyond the end of the log ({head})", position=after)
    published = {name for name in EVENT_TYPES if name not in NOT_PUBLISHED}
    wanted = {t.strip() for t in (types or "").split(",") if t.strip()} or published
    if unknown := wanted - published:
        raise InvalidInput(f"unknown event types: {', '.join(sorted(unknown))}", unknown=sorted(unknown))
    return Subscription(who, after, frozenset(wanted), follow, limit)


class Reader:
    """Pages through the log for one subscriber, keeping its place and its scopes."""

    def __init__(self, app: GridGovernance, sub: Subscription) -> None:
        self.app = app
        self.sub = sub
        self.scopes = Scopes(app)
        self.position = sub.after
        self.topics = topics_of(cls for name, cls in EVENT_TYPES.items() if name not in NOT_PUBLISHED)
        self.member = Membership(app, sub.who.sub, sub.after) if sub.who.role is Role.RIDER else None

    def page(self) -> tuple[list[tuple[int, str, bytes]], bool]:
        """The next visible events as (position, type, CloudEvent JSON), and
        whether the log had more than one page to give."""
        rows = self.app.eventlog.page(self.position, PAGE, self.topics)
        out = []
        for position, stream, version, topic, state in rows:
            self.position = position
            fact = from_raw(topic, stream, version, state, self.app.mapper.decode_state)
            # Scope every event, even unwanted types, so each stream's scope stays whole.
            scope = self.scopes.of(fact)
            if self.member is not None:
                self.member.follow(fact)
            if fact.type not in self.sub.types:
                continue
            if scope.visible_to(self.sub.who, fact):
                out.append((position, fact.type, to_json(fact, position)))
            elif self.member is not None and self.member.hears(fact, scope):
                out.append((position, fact.type, to_json(board_only(fact), position)))
        return out, len(rows) == PAGE


async def events(app: GridGovernance, sub: Subscription) -> AsyncIterator[tuple[int, str, bytes]]:
    """The subscriber's events in log order; with `follow`, new ones as they
    are stored, for as long as the client stays. Reads run in the thread pool;
    waiting holds no thread, so idle subscribers cost nothing but a socket."""
    reader, sent = Reader(app, sub), 0
    while True:
        page, more = await run_in_threadpool(reader.page)
        for item in page:
            yield item
            sent += 1
            if sub.limit is not None and sent >= sub.limit:
                return
        if not more:
            if not sub.follow:
                return
            await asyncio.sleep(POLL_S)


def routes(app: GridGovernance, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["events"])

    def subscribe(after: int = Query(0, ge=0, le=2**62,
                                     description="start after this log position (0: from the beginning)"),
                  types: str | None = Query(None, max_length=2000,
                                            description="comma-separated event types (default: all)"),
                  follow: bool = Query(True, description="keep the stream open for new events"),
                  limit: int | None = Query(None, ge=1, le=2**62, description="close after this many events"),
                  last_event_id: str | None = Header(None, max_length=40,
                                                     description="resume after this event (overrides `after`)"),
                  district: str | None = Query(None, max_length=100, description=(
                      "only this one of the token's districts (a page shows one district at a time)")),
                  who: Principal = Depends(principal)) -> Subscription:
        if district is not None:
            # Narrow the token to the district: the stream then sees what a token of it alone would.
            who = scoping.narrowed(who, district)
        return subscription(who, after, last_event_id, types, follow, limit, app.head())

    @router.get("/events/stream", response_class=EventSourceResponse,
                summary="Server-Sent Events: the events this token may see, as CloudEvents")
    async def stream(sub: Subscription = Depends(subscribe)) -> AsyncIterator[ServerSentEvent]:
        """The events this token may see, in log order, as CloudEvents: each frame's `id` is
        its log position (resume with `Last-Event-ID`), its `event` the event type."""
        async for position, kind, body in events(app, sub):
            yield ServerSentEvent(raw_data=body.decode(), event=kind, id=str(position))

    return router
