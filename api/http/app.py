"""The FastAPI application: one POST route per command, GET routes for the read
models, all under /v1; errors as problem+json.

The command routes are made from the command models themselves, so the OpenAPI
document has each one's exact body schema.
"""

import re
from typing import Any, Callable

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.http import (audit, auditors, callers, casework, dashboards, docs, forms, open311_keys, operations, pages,
                      people, photos, problems, queries, rewards, scoping, subscription, tiles)
from api.http.auth import Authenticator, Principal, SharedSecret
from api.http.provider_client import ProviderClient
from api.http.sessions import MemorySessions, StoredSessions
from api.http.signin import SignIn
from api import open311
from consumers.lag import KafkaLag
from domain import commands as c
from application.handlers import HANDLERS, INTERNAL
from application.coalescer import Coalescer
from application.service import GridGovernance
from projections.registry import instances
from projections.engine.projector import Projector
from projections.stores import ReadStore
from transparency.log import TransparencyLog


class CommandAccepted(BaseModel):
    position: int
    result: dict[str, Any]
    replayed: bool


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def create_app(governance: GridGovernance, store: ReadStore, secret: str | Authenticator,
               kafka: KafkaLag | None = None, tlog: TransparencyLog | None = None, ready_max_lag: int = 5000,
               signin: Any = None, demo_people: dict[str, str] | None = None, coalesce: bool = False) -> FastAPI:
    """`kafka`: set when consumers feed the read models from Kafka (for lag in /readyz and /metrics);
    `tlog`: the transparency log, whose checkpoints and proofs are then served; `ready_max_lag`: how
    many events behind a read model may be while /readyz still says ready. `secret`: how bearer
    tokens are verified (a str: HS256 with that secret, the demo's and the tests' way); `coalesce`: commands
    arriving together are written in one transaction (application/coalescer.py)."""
    authenticator = SharedSecret(secret) if isinstance(secret, str) else secret
    # Every app has the sign-in routes: by default sessions in memory, no provider (`demo_people`: role ->
    # a token of the demo's person, for the chooser at /auth/login).
    signin = signin or SignIn(MemorySessions(), authenticator, demo_people=demo_people)
    # /docs is served from this package (docs.py); ReDoc would load from a CDN, so there is none.
    app = FastAPI(title="gridgov", version="1.0.0", docs_url=None, redoc_url=None,
                  description="Event-sourced grid governance: commands append events; queries read projections. "
                              "Errors are problem+json; send `Accept-Language: zh-CN` for their words in Chinese.")
    # The queries read these tables: made here (empty), so a server started before
    # its consumers answers "behind", not a 500.
    Projector(store, instances()).create_tables()
    problems.install(app)
    metrics = operations.Metrics()
    operations.install(app, governance, store, metrics, kafka, tlog, ready_max_lag)

    async def principal(request: Request, authorization: str | None = Header(None)) -> Principal:
        # A token seen before is answered here; a new one, or a session, may fetch keys or read the
        # session store: in a thread. (A sync dependency is a thread's round trip on every request.)
        who = callers.known(request, authenticator) or await run_in_threadpool(callers.caller, request,
                                                                                authenticator, signin)
        scoping.partner_may_read(who, request)
        request.state.principal = who  # read again by the access log's recorder (auditors.py)
        return who

    writer = Coalescer(governance) if coalesce else governance
    app.state.writer = writer  # one for every route that sends commands (/v1's and Open311's POST)
    app.include_router(command_routes(writer, principal, metrics))
    reads = operations.Reads(governance, store, principal, tlog, writer)
    for reads_of in (queries, casework, dashboards, rewards, photos, open311_keys):  # in this order in /docs
        app.include_router(reads_of.routes(reads))
    app.include_router(subscription.routes(governance, principal))
    if tlog is not None:
        audit.install(app, tlog, principal)
        tiles.install(app, tlog)  # no token: a mirror needs plain GETs
    auditors.install(app, governance, store, tlog, principal)
    pages.install(app)
    signin.install(app)
    docs.install(app)
    # People by name beside their ids in every read (riders masked to those who may not see them whole).
    app.add_middleware(people.Names, store=store, rider_name=governance.rider_name)
    # Inside the Guard, which holds the body to its limit as sent: raw UTF-8 in a form read as UTF-8 (forms.py).
    app.add_middleware(forms.Utf8Forms)
    # Every body is held to 64 KiB but a photo's upload, which has a limit of its own (api/http/photos.py).
    app.add_middleware(problems.Guard, larger={photos.UPLOAD_PATH: photos.UPLOAD_BODY,
                                               **dict.fromkeys(open311.requests.UPLOAD_PATHS, photos.UPLOAD_BODY)})
    # Outermost, around even the Guard: its 500s and refusals to an auditor are accesses too.
    app.add_middleware(auditors.AccessRecorder, governance=governance, tlog=tlog, authenticator=authenticator,
                       signin=signin)
    # Open311 GeoReport v2 over the same reads; last, so its errors' translation is the outermost layer.
    open311.install(app, reads, public_url=signin.public_url)
    return app


def command_routes(writer: GridGovernance | Coalescer, principal: Callable[..., Principal],
                   metrics: operations.Metrics) -> APIRouter:
    """One POST route per command, its body the command's model."""
    commands = APIRouter(prefix="/v1/commands", tags=["commands"])
    for command_type in (command for command in HANDLERS if command not in INTERNAL):
        commands.add_api_route(f"/{kebab(command_type.__name__)}",
                               command_route(writer, command_type, principal, metrics),
                               methods=["POST"], response_model=CommandAccepted, name=command_type.__name__,
                               summary=command_type.__name__,
                               description=" ".join((command_type.__doc__ or "").split()))
    return commands


def command_route(governance: GridGovernance | Coalescer, command_type: type[c.Command],
                  principal: Callable[..., Principal], metrics: operations.Metrics) -> Callable[..., CommandAccepted]:
    timer = metrics.commands.labels(command_type.__name__)

    async def run(body: Any, who: Principal = Depends(principal),
                  idempotency_key: str | None = Header(None, max_length=200)) -> CommandAccepted:
        # Authenticated only: what the token may do is the command's to decide (application.handlers).
        with timer.time():
            outcome = await operations.decided(governance, body, who.actor, idempotency_key=idempotency_key,
                                               scope=who.scope)
        return CommandAccepted(position=outcome.position, result=outcome.result, replayed=outcome.replayed)

    run.__annotations__["body"] = command_type
    return run


def app_of(engine: Any, secret: str | Authenticator, demo_people: dict[str, str] | None = None) -> FastAPI:
    """The HTTP API over what the composition root built (a gridgov.bootstrap.Engine):
    the composition root imports no entry point, so the app is made here, from its parts.
    The pages' sessions are kept in the read store's database: they outlive a restart and
    every instance of the API shares them."""
    settings = engine.settings
    authenticator = SharedSecret(secret) if isinstance(secret, str) else secret
    signin = SignIn(StoredSessions(engine.store), authenticator, provider=ProviderClient.from_settings(settings),
                    demo_people=demo_people, public_url=settings.GRIDGOV_PUBLIC_URL)
    return create_app(engine.app, engine.store, authenticator, engine.kafka, engine.tlog, settings.READY_MAX_LAG,
                      signin=signin, coalesce=settings.GRIDGOV_COALESCE_WRITES)
