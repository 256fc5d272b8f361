"""Photos as evidence over HTTP: a rider uploads one (`POST /v1/photos`, multipart,
field `photo`), then gives its sha256 as evidence in report-clue or complete-task;
whoever may see a clue or task citing it reads it (`GET /v1/photos/{sha256}`, the
JPEG kept, `?size=thumb` its thumbnail; `/about`, who and when and what cites it).

The upload's body has its own limit (UPLOAD_BODY, counted by problems.Guard like
every other body's 64 KiB, which stays for them): it is read in chunks into a
spooled file as it arrives, and reading stops at the limit with a 413. The bytes
are then decided and re-encoded (photos/images.py) before the command sees them;
a refusal keeps nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from api.http import operations, responses, scoping
from api.http.auth import Principal
from api.http.operations import Reads
from api.http.problems import problem
from application import photos as kept
from application.service import GridGovernance, Outcome
from domain import commands as c
from domain import errors
from photos import images
from projections.photos import photo

UPLOAD_PATH = "/v1/photos"
UPLOAD_BODY = images.MAX_BYTES + 64 * 1024  # the photo, and room for the multipart headers around it
FIELD = "photo"
SHA256 = Path(pattern=r"^[0-9a-f]{64}$", description="the photo's sha256, as its upload answered")
# A photo is shown as an image and nothing else: no sniffing, no script, no embedding in another origin's frame.
# Kept by the browser alone and asked again each time (its hash the ETag: a 304 costs no bytes), so an
# erasure or a scope lost reaches a cached copy at once.
PICTURE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache",
                   "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
                   "Cross-Origin-Resource-Policy": "same-origin"}
UPLOAD_SCHEMA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FIELD], "properties": {FIELD: {
        "type": "string", "format": "binary",
        "description": f"the photo: JPEG, PNG or WebP (decided from its bytes), at most {images.MAX_BYTES} bytes and "
                       f"{images.MAX_PIXELS} pixels"}}}}}}}
REFUSALS = {images.NOT_AN_IMAGE: errors.NotAPhoto, images.TOO_MANY_PIXELS: errors.TooManyPixels}


def routes(reads: Reads) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["photos"])
    for add in (_upload, _read):
        add(router, reads)
    return router


def _upload(router: APIRouter, reads: Reads) -> None:
    governance, principal = reads.governance, reads.principal

    @router.post("/photos", status_code=201, response_model=responses.PhotoKept, openapi_extra=UPLOAD_SCHEMA,
                 responses={413: {"description": "the body is over its limit: reading stopped there"}})
    async def upload_photo(request: Request, who: Principal = Depends(principal)) -> Any:
        """Upload a photo to give as evidence: re-encoded as a JPEG of at most 1,600 px (EXIF, GPS and all else
        of the file left behind), sealed, and named by its sha256. Who: riders."""
        scoping.photo_uploader(who)
        data = await _photo_bytes(request)
        outcome = None if data is None else await keep(governance, who, data)
        if outcome is None:
            return _too_large(request)
        return JSONResponse({**outcome.result, "position": outcome.position}, status_code=201)


async def keep(governance: GridGovernance, who: Principal, data: bytes) -> Outcome | None:
    """A rider's photo re-encoded (photos/images.py) and kept as its upload (c.UploadPhoto): the command's
    outcome, None when the bytes are over the limit. Not a photo, or too many pixels: the domain's refusal.
    The one way in for a photo's bytes (/v1/photos, Open311's `media`)."""
    rider_id = scoping.photo_uploader(who)
    try:
        picture = await run_in_threadpool(images.reencode, data)
    except images.Refused as refused:
        if refused.reason == images.TOO_MANY_BYTES:
            return None
        raise REFUSALS[refused.reason](str(refused)) from None
    command = c.UploadPhoto(rider_id=rider_id, sha256=picture.sha256, width=picture.width, height=picture.height,
                            jpeg=picture.jpeg, thumb=picture.thumb)
    outcome: Outcome = await run_in_threadpool(governance.execute, command, who.actor, scope=who.scope)
    return outcome


async def _photo_bytes(request: Request) -> bytes | None:
    """The `photo` field's bytes, None when they are over the limit. The form is parsed as the
    body arrives (files spool to disk past 1 MB); problems.Guard stops the body at UPLOAD_BODY."""
    async with request.form(max_files=1, max_fields=0) as form:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            raise errors.InvalidInput(f"send the photo as a file in the multipart field {FIELD!r}", field=FIELD)
        data = await upload.read(images.MAX_BYTES + 1)
    return None if len(data) > images.MAX_BYTES else data


def _too_large(request: Request) -> JSONResponse:
    return problem(413, "body-too-large", "Request body too large",
                   f"a photo may hold at most {images.MAX_BYTES} bytes", request)


def _read(router: APIRouter, reads: Reads) -> None:
    governance, store, wait, principal = reads.governance, reads.store, reads.wait, reads.principal

    async def seen(sha256: str, position: int | None, wait_ms: int, who: Principal) -> dict[str, Any]:
        await wait("photos", position, wait_ms)
        found = await run_in_threadpool(photo, store, sha256)
        seen_by = None if found is None else scoping.photo_seen(who, found)
        if seen_by is None:
            raise errors.PhotoNotFound(f"no photo {sha256} in this token's scope", sha256=sha256)
        return seen_by

    @router.get("/photos/{sha256}", response_class=Response,
                responses={200: {"content": {"image/jpeg": {}}, "description": "the JPEG kept"}})
    async def get_photo(request: Request, sha256: str = SHA256, size: Literal["full", "thumb"] = "full",
                        position: int | None = operations.POSITION, wait_ms: int = operations.WAIT,
                        who: Principal = Depends(principal)) -> Response:
        """A photo given as evidence, as kept (`?size=thumb`: its thumbnail, at most 320 px): for its uploader and
        whoever may see a clue or task citing it. After its rider's erasure its key is gone, and so is the photo."""
        await seen(sha256, position, wait_ms, who)
        etag = f'"{kept.blob_name(sha256, size == "thumb")}"'
        if request.headers.get("if-none-match") == etag and not await run_in_threadpool(kept.erased, governance,
                                                                                         sha256):
            return Response(status_code=304, headers={**PICTURE_HEADERS, "ETag": etag})
        picture = await run_in_threadpool(kept.picture, governance, sha256, size == "thumb")
        if picture is None:
            raise errors.PhotoErased(f"photo {sha256} was erased with its rider's personal data; its hash stays "
                                     "in the log", sha256=sha256)
        return Response(picture, media_type="image/jpeg", headers={**PICTURE_HEADERS, "ETag": etag})

    @router.get("/photos/{sha256}/about", response_model=responses.Photo)
    async def get_photo_about(sha256: str = SHA256, position: int | None = operations.POSITION,
                              wait_ms: int = operations.WAIT, who: Principal = Depends(principal)) -> dict[str, Any]:
        """Who uploaded a photo, when, its size, and the clues and tasks that cite it (scoped as the photo)."""
        return await seen(sha256, position, wait_ms, who)
