"""The transparency log as C2SP tlog-tiles under `/tlog/` (docs/audit.md, "Tiles"):
`/tlog/checkpoint`, `/tlog/tile/<L>/<N>[.p/<W>]`, `/tlog/tile/entries/<N>[.p/<W>]`.

Served to anyone, without a token: mirroring a log must need nothing but plain GETs
(any tile client, a static file server's cache in front). The hashes carry no event's
content; an entry bundle carries each leaf's data as stored, whose personal fields are
sealed (docs/audit.md, "Leaf data"). Full tiles never change, so they are cacheable
forever; a partial tile's bytes never change either, but it is dropped for the full one
in time, so it is cached briefly; the checkpoint moves, so it is cached for seconds.
"""

from __future__ import annotations

import gzip

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from transparency.log import NoSigningKey, NoSuchCheckpoint, TransparencyLog
from transparency.tiles import ENTRIES, EntryTooLarge, NotATile, TileSource, parse_path

PREFIX = "/tlog"
FOREVER = "public, max-age=31536000, immutable"
BRIEFLY = "public, max-age=60"
MOVING = "public, max-age=2, must-revalidate"
TEXT = "text/plain; charset=utf-8"
OCTETS = "application/octet-stream"


def install(app: FastAPI, tlog: TransparencyLog) -> None:
    app.include_router(routes(tlog))


def routes(tlog: TransparencyLog) -> APIRouter:
    # Not in the OpenAPI document: static resources of a protocol of their own (C2SP), not JSON.
    router = APIRouter(prefix=PREFIX, tags=["audit"], include_in_schema=False)
    source = TileSource(tlog.tree, tlog.eventlog, tlog.decode)

    @router.get("/checkpoint", response_class=Response)
    async def checkpoint() -> Response:
        """The latest signed checkpoint, as a C2SP signed note (C2SP tlog-tiles)."""
        try:
            note = (await run_in_threadpool(tlog.latest)).served  # with every cosignature got
        except (NoSuchCheckpoint, NoSigningKey) as e:
            return Response(f"{e}\n", 404, media_type=TEXT, headers={"Cache-Control": MOVING})
        return Response(note, media_type=TEXT, headers={"Cache-Control": MOVING})

    @router.get("/tile/{path:path}", response_class=Response)
    async def tile(path: str, request: Request) -> Response:
        """A tile of hashes, or a bundle of entries (leaf data), as C2SP tlog-tiles names them."""
        try:
            wanted = parse_path(f"tile/{path}")
        except NotATile:
            return Response("no such tile: not a tile path as C2SP tlog-tiles spells it\n", 404, media_type=TEXT)
        try:
            data = await run_in_threadpool(source.read, wanted)
        except (EntryTooLarge, LookupError) as e:
            return Response(f"{e}\n", 500, media_type=TEXT)
        if data is None:
            # Not yet: a tile the tree has not grown to. Cached briefly, as the checkpoint is.
            return Response("no such tile yet\n", 404, media_type=TEXT, headers={"Cache-Control": MOVING})
        headers = {"Cache-Control": BRIEFLY if wanted.partial else FOREVER}
        if wanted.level == ENTRIES and "gzip" in request.headers.get("accept-encoding", ""):
            data = gzip.compress(data, 6)
            headers |= {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(data, media_type=OCTETS, headers=headers)

    return router
