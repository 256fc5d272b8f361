"""People by name in the API's answers: beside each id that names a person, a `*_name`.

Officers and admins by the name the district's staff directory gives them
(`name-staff`); riders by their sealed name (application/personal.py), whole to
the rider itself and to the officers of its grids and the admins of its districts,
masked (`masked`: 王*平) to everyone else, and `已注销` / `Erased` once erased.

One place does it for every JSON read (`Names`, a pure ASGI middleware): the read
routes answer ids as before, and on the way out each answer's ids are looked up in
one query per kind (riders' profiles, staff names) and the names added beside them.
A rider's unsealed name is kept in a small cache (`RiderNames`); whether it is
erased is asked of the riders read model on every answer, so erasure shows at once.
The event data of an audit step (`detail`) is the log's own and is left as it is.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Iterator
from uuid import UUID

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import scoping
from api.http.auth import Principal
from api.http.language import chosen
from domain.events import Role
from domain.names import masked
from projections.riders import rider_profiles
from projections.staff import staff_names
from projections.stores import ReadStore

ERASED = {"zh": "已注销", "en": "Erased"}
SYSTEM = {"zh": "系统", "en": "The system"}

# Which keys of an answer name a rider, which an officer or admin, and the name key beside each.
RIDER_KEYS = {"rider_id": "rider_name", "reporter_id": "reporter_name", "claimant": "claimant_name"}
STAFF_KEYS = {"assignee": "assignee_name", "author_id": "author_name", "issued_by": "issued_by_name",
              "named_by": "named_by_name", "officer_id": "officer_name"}
ACTOR_KEY, ACTOR_ROLE, ACTOR_NAME = "actor_id", "actor_role", "actor_name"
# What is the log's own, or no one's: left as it is.
OPAQUE = frozenset({"detail", "parameters", "personal", "data"})


# --- who is shown how -------------------------------------------------------------------------

class RiderNames:
    """Riders' unsealed names, the last `size` asked for: unsealing loads the rider's stream and its key."""

    def __init__(self, unseal: Callable[[UUID], str | None], size: int = 10_000) -> None:
        self.unseal, self.size = unseal, size
        self.names: OrderedDict[str, str | None] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, rider_id: str) -> str | None:
        with self.lock:
            if rider_id in self.names:
                self.names.move_to_end(rider_id)
                return self.names[rider_id]
        name = self.unseal(UUID(rider_id))
        with self.lock:
            self.names[rider_id] = name
            while len(self.names) > self.size:
                self.names.popitem(last=False)
        return name


class Namer:
    """The names one reader may see of the people one answer names."""

    def __init__(self, who: Principal, language: str, store: ReadStore, riders: RiderNames,
                 rider_ids: set[str], staff_ids: set[str]) -> None:
        self.who, self.language, self.riders = who, language, riders
        self.profiles = rider_profiles(store, sorted(rider_ids))
        self.staff = staff_names(store, staff_ids)

    def rider(self, rider_id: str) -> str | None:
        profile = self.profiles.get(rider_id)
        if profile is None:
            return None
        name = None if profile["erased"] else self.riders(rider_id)
        if name is None:
            return ERASED[self.language]
        whole = scoping.sees_rider(self.who, profile) and scoping.sees_personal(self.who)
        return name if whole else masked(name)

    def actor(self, actor_id: str, role: str) -> str | None:
        if role == Role.RIDER.value:
            return self.rider(actor_id)
        if role == Role.SYSTEM.value:
            return SYSTEM[self.language]
        return self.staff.get(actor_id)


def ids_named(answer: Any) -> tuple[set[str], set[str]]:
    """The riders' and the staff's ids an answer names (outside what is OPAQUE)."""
    riders: set[str] = set()
    staff: set[str] = set()
    for row in _rows(answer):
        riders.update(row[k] for k in RIDER_KEYS if _is_uuid(row.get(k)))
        staff.update(row[k] for k in STAFF_KEYS if isinstance(row.get(k), str))
        actor, role = row.get(ACTOR_KEY), row.get(ACTOR_ROLE)
        if isinstance(actor, str) and role != Role.SYSTEM.value:
            (riders if role == Role.RIDER.value and _is_uuid(actor) else staff).add(actor)
    return riders, staff


def add_names(answer: Any, namer: Namer) -> None:
    """Each id that names a person gets its `*_name` beside it (None: no name to show)."""
    for row in _rows(answer):
        for key, name_key in RIDER_KEYS.items():
            if key in row:
                row[name_key] = namer.rider(row[key]) if _is_uuid(row[key]) else None
        for key, name_key in STAFF_KEYS.items():
            if key in row:
                row[name_key] = namer.staff.get(row[key]) if isinstance(row[key], str) else None
        if isinstance(row.get(ACTOR_KEY), str):
            row[ACTOR_NAME] = namer.actor(row[ACTOR_KEY], str(row.get(ACTOR_ROLE)))


def _rows(answer: Any) -> Iterator[dict[str, Any]]:
    if isinstance(answer, dict):
        yield answer
        for key, value in answer.items():
            if key not in OPAQUE:
                yield from _rows(value)
    elif isinstance(answer, list):
        for value in answer:
            yield from _rows(value)


def _is_uuid(value: Any) -> bool:
    try:
        UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


# --- on the way out -----------------------------------------------------------------------------

class Names:
    """Adds the names to every successful JSON answer of a GET under /v1/ (pure ASGI: the answer is held only
    when it is JSON, so the event stream and the exports pass as they are)."""

    def __init__(self, app: ASGIApp, store: ReadStore, rider_name: Callable[[UUID], str | None]) -> None:
        self.app, self.store, self.riders = app, store, RiderNames(rider_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        start: Message | None = None
        body: list[bytes] = []

        async def held(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                type_ = Headers(raw=message["headers"]).get("content-type", "")
                if message["status"] == 200 and type_.startswith("application/json"):
                    start = message
                    return
            elif start is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_named(scope, start, b"".join(body), send)
                return
            await send(message)

        await self.app(scope, receive, held)

    async def _send_named(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        who: Principal | None = scope.get("state", {}).get("principal")
        if who is not None:
            answer = orjson.loads(body)
            # Names are read from the store, in a thread; an answer that names no one goes as it is.
            riders, staff = ids_named(answer)
            if riders or staff:
                language = chosen(Headers(scope=scope).get("accept-language"))
                await run_in_threadpool(self._name, answer, who, language, riders, staff)
                body = orjson.dumps(answer)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _name(self, answer: Any, who: Principal, language: str, riders: set[str], staff: set[str]) -> None:
        add_names(answer, Namer(who, language, self.store, self.riders, riders, staff))
