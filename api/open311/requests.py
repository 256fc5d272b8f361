"""Service requests: POST one (a clue reported as the key's rider, the same c.ReportClue as /v1's
report-clue), GET them (a district's clues, filtered the spec's way), one by id, a token, and a photo.

Every route needs an `api_key` (query, or the POST's form) of the district it reads; a request of another
district is not found. A request is placed at once: its service_request_id is the clue's id, answered by the
POST itself, so a token is never handed out — `tokens/{token}` answers for a token that is a request's id
(what a client that always asks gets), and 404 otherwise. Personal fields of the spec's POST (email, names,
phone, device and account ids) are taken and never read: nothing of them is kept.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http import operations, photos
from api.http.language import Language, words
from api.open311 import catalogue, keys, status, wire
from api.open311.wire import Open311Error
from application import photos as kept
from domain import commands as c
from domain import errors
from domain.clues import ClueReported, Location
from domain.open311_keys import Open311Holder
from domain.time_bounds import FIRST_DAY, LAST_DAY
from photos import images
from projections.board import district_grids, grid_district
from projections.open311 import RequestQuery, named_clues, service_requests
from projections.photos import photo

PREFIX = "/open311/v2"
UPLOAD_PATHS = (f"{PREFIX}/requests.json", f"{PREFIX}/requests.xml")  # where a body may carry a photo
MEDIA_FIELD = "media"
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,100})\](\[\])?$")
SHA256 = r"[0-9a-f]{64}"
# A photo of this engine, named the three ways a client may have it: never fetched, only looked up.
OUR_PHOTO = re.compile(rf"^(?:{PREFIX}/media/(?P<media>{SHA256})\.jpg|/v1/photos/(?P<photo>{SHA256}))$")
DEFAULT_SPAN = timedelta(days=90)
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
MAX_FIELDS, MAX_FILES = 200, 1  # a form's fields (attributes and all) and files (the photo)
MAX_OFFSET = timedelta(hours=14)
MAX_IDS = 1000
READABLE_WAIT_S = 5.0  # how long a request just posted may take to reach the read models before a GET says so
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")
WORDS: dict[str, tuple[str, str]] = {
    "unplaced": ("无法定位：请用 lat 和 long 给出位置（这里不能按地址查找位置）。",
                 "the request cannot be placed: give lat and long (addresses are not looked up here)"),
    "no_location": ("请用 lat 和 long 给出位置。", "give the location as lat and long"),
    "bad_location": ("lat 和 long 须为有效的纬度和经度数字。", "lat and long must be a latitude and a longitude"),
    "media_elsewhere": ("media_url 只能是本系统的照片（上传后得到的地址或 sha256），不会从其他网站下载。",
                        "media_url may only name a photo of this service (its address or sha256); nothing is "
                        "fetched from elsewhere"),
    "media_not_file": ("media 须以文件上传。", "send media as a file"),
    "media_too_large": ("照片不能超过 {n} 字节。", "a photo may hold at most {n} bytes"),
    "behind": ("请求刚刚提交，还在处理中，请稍后再查。", "the request was just posted and is not readable yet; ask again soon"),
    "too_many_fields": ("表单字段太多：最多 {fields} 个。", "too many form fields: at most {fields}"),
    "too_many_files": ("文件太多：最多 {files} 个（media 一张照片）。", "too many files: at most {files} (one photo as media)"),
    "bad_form": ("表单无法读取：{detail}", "the form cannot be read: {detail}"),
    "elsewhere": ("这个开放接口密钥属于{ours}，不能在{there}上报。", "this Open311 key belongs to {ours}; it cannot report in {there}"),
    "not_found": ("没有这个请求：{id}", "no such request: {id}"),
    "no_photo": ("没有这张照片，或它不属于本密钥的区。", "no such photo in this key's district"),
    "bad_date": ("{name} 须为带时区的 W3C 日期时间，例如 2026-12-05T09:00:00+08:00。",
                 "{name} must be a W3C datetime with its offset, e.g. 2026-12-05T09:00:00+08:00"),
    "date_window": ("{name} 须在 {first} 到 {last} 之间，时区偏移不超过 ±14:00。",
                    "{name} must lie from {first} to {last}, its offset within ±14:00"),
    "span": ("start_date 到 end_date 不能超过 90 天，且 start_date 不能晚于 end_date。",
             "start_date to end_date may span at most 90 days, start_date not after end_date"),
    "bad_status": ("status 只能是 open、closed 或二者（逗号分隔）。", "status may be open, closed, or both (comma-separated)"),
    "too_many_ids": ("service_request_id 最多 {n} 个。", "at most {n} service_request_id values"),
}


FMT = Path(description="json or xml: the format of the answer (and of its errors)")
API_KEY = Query(None, max_length=200, description="the Open311 key a district admin issued (g311_…); required")
JURISDICTION = Query(None, max_length=100, description="the district (e.g. 温江); optional: the key's own")
LOCALE = Query(None, max_length=35, description="zh or en: the language of the words, before Accept-Language")
FORM = {"type": "object", "required": ["api_key", "service_code"], "properties": {
    "api_key": {"type": "string", "maxLength": 200, "description": "the Open311 key of a rider (g311_…)"},
    "jurisdiction_id": {"type": "string", "maxLength": 100, "description": "the district; optional: the key's"},
    "service_code": {"type": "string", "maxLength": 100, "description": "a service_code of services.{fmt}"},
    "lat": {"type": "string", "maxLength": 40, "description": "latitude (WGS84), with long: where it is"},
    "long": {"type": "string", "maxLength": 40, "description": "longitude (WGS84), with lat"},
    "address_string": {"type": "string", "maxLength": 500,
                       "description": "refused alone: the request cannot be placed without lat and long"},
    "address_id": {"type": "string", "maxLength": 100, "description": "refused alone, as address_string"},
    "description": {"type": "string", "maxLength": 4000, "description": "what is reported, in words"},
    "media_url": {"type": "string", "maxLength": 500, "description": "a photo of this service: "
                  "…/open311/v2/media/<sha256>.jpg, …/v1/photos/<sha256> or the sha256 the rider uploaded"},
    "locale": {"type": "string", "maxLength": 35, "description": "zh or en"},
    **{name: {"type": "string", "maxLength": 200, "description": "accepted and never kept"}
       for name in ("email", "first_name", "last_name", "phone", "device_id", "account_id")}}}
POST_BODY = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": FORM},
    "multipart/form-data": {"schema": {**FORM, "properties": {**FORM["properties"], MEDIA_FIELD: {
        "type": "string", "format": "binary", "description": "a photo (JPEG, PNG or WebP), kept as the rider's "
                                                             "upload (as /v1/photos)"}}}}}}}


def said(key: str, language: Language, **facts: Any) -> str:
    return WORDS[key][0 if language == "zh" else 1].format(**facts)


def routes(reads: operations.Reads, public_url: str = "") -> APIRouter:
    """`public_url`: the origin clients reach (GRIDGOV_PUBLIC_URL) for photos' addresses; empty: the request's."""
    router = APIRouter(prefix=PREFIX, tags=["open311"])
    for add in (_post, _list, _one, _token, _media):
        add(router, Site(reads, public_url.rstrip("/")))
    return router


@dataclass(frozen=True)
class Site:
    """What the routes are made from: the reads, and the origin clients reach."""

    reads: operations.Reads
    public_url: str

    def origin(self, request: Request) -> str:
        return self.public_url or str(request.base_url).rstrip("/")


# --- POST requests ---------------------------------------------------------------------------

def _post(router: APIRouter, site: Site) -> None:
    reads = site.reads
    governance = reads.governance

    @router.post("/requests.{fmt}", status_code=201, openapi_extra=POST_BODY)
    async def post_request(request: Request, fmt: str = FMT) -> Response:
        """Report a clue as the key's rider: service_code, lat/long, description, attribute[…], media_url
        (a photo of this service) or a `media` file. Answers the new service_request_id."""
        form_format = wire.format_of(fmt)
        form = await _form(request)
        try:
            language = wire.language(request, form)
            holder = await _holder(reads, request, form, language)
            who = keys.reporter(holder, language)
            category = _service(_text(form, "service_code"), language)
            location = _location(form, language)
            await _within(governance, holder, location, language)
            text = catalogue.report_text(category.value, _text(form, "description"), _attributes(form), language)
            hashes = [*_cited((site.origin(request), str(request.base_url).rstrip("/")), _text(form, "media_url"),
                              language),
                      *await _uploaded(governance, who, form.get(MEDIA_FIELD), language)]
        finally:
            await form.close()
        command = _command(holder, category, text, location, hashes, language)
        outcome = await _execute(reads, command, who, language)
        # Answered as /v1's report-clue is, once the clue is in the log: the reads by id wait for it (_waited).
        clue_id = outcome.result["clue_id"]
        placed = {"grid_id": outcome.result.get("grid_id"), "district": outcome.result["district"],
                  "grid_name": await _grid_name(reads, outcome.result.get("grid_id"))}
        return wire.respond(form_format, "service_requests", "request", [
            {"service_request_id": clue_id, "service_notice": status.notice(placed, language), "account_id": None}],
            status=201)


async def _form(request: Request) -> FormData:
    """The POST's form, held to MAX_FIELDS fields and one file; past a limit, told which in words."""
    try:
        return await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except StarletteHTTPException as e:
        language = wire.language(request)
        detail = str(e.detail)
        key = "too_many_fields" if "fields" in detail else "too_many_files" if "files" in detail else "bad_form"
        raise Open311Error(400, said(key, language, fields=MAX_FIELDS, files=MAX_FILES, detail=detail)) from None


async def _holder(reads: operations.Reads, request: Request, form: FormData | None,
                  language: Language) -> Open311Holder:
    api_key = _text(form, "api_key") if form is not None else None
    jurisdiction = _text(form, "jurisdiction_id") if form is not None else None
    return await run_in_threadpool(keys.holder, reads.governance, api_key or request.query_params.get("api_key"),
                                   jurisdiction or request.query_params.get("jurisdiction_id"), language)


def _text(form: FormData | None, name: str) -> str | None:
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) and value != "" else None


def _service(code: str | None, language: Language) -> Any:
    if code is None:
        raise Open311Error(400, "缺少 service_code。" if language == "zh" else "service_code is missing")
    return catalogue.service(code, 400, language)


def _location(form: FormData, language: Language) -> Location:
    lat, lon = _text(form, "lat"), _text(form, "long")
    if lat is None or lon is None:
        if lat is None and lon is None and (_text(form, "address_string") or _text(form, "address_id")):
            raise Open311Error(400, said("unplaced", language))
        raise Open311Error(400, said("no_location", language))
    try:
        return Location(lat=float(lat), lon=float(lon))
    except (ValueError, ValidationError):
        raise Open311Error(400, said("bad_location", language)) from None


async def _within(governance: Any, holder: Open311Holder, location: Location, language: Language) -> None:
    """A key reports in its own district only, though its rider may report in others through /v1. Where the
    location falls is the same atlas the command places it by (a location in no district: the domain's words)."""
    placed = (await run_in_threadpool(governance.places.current)).locate(location)
    if placed.district is not None and placed.district != holder.district:
        raise Open311Error(403, said("elsewhere", language, ours=holder.district, there=placed.district))


def _attributes(form: FormData) -> dict[str, list[str]]:
    """`attribute[code]` and `attribute[code][]`, each code's answers in the order given."""
    answers: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        match = ATTRIBUTE.match(key)
        if match and isinstance(value, str):
            answers.setdefault(match.group(1), []).append(value)
    return answers


def _cited(origins: tuple[str, ...], media_url: str | None, language: Language) -> list[str]:
    """The photo a media_url names, if it is one of this service's (a bare sha256, or its address here)."""
    if media_url is None:
        return []
    if re.fullmatch(SHA256, media_url):
        return [media_url]
    path = media_url
    for origin in origins:
        if media_url.startswith(origin + "/"):
            path = media_url[len(origin):]
    found = OUR_PHOTO.match(path)
    if found is None:
        raise Open311Error(400, said("media_elsewhere", language))
    return [found.group("media") or found.group("photo")]


async def _uploaded(governance: Any, who: Any, media: Any, language: Language) -> list[str]:
    """A `media` file, kept through the photos' one way in (api/http/photos.keep)."""
    if media is None or media == "":
        return []
    if not isinstance(media, UploadFile):
        raise Open311Error(400, said("media_not_file", language))
    data = await media.read(images.MAX_BYTES + 1)
    try:
        outcome = None if len(data) > images.MAX_BYTES else await photos.keep(governance, who, data)
    except errors.DomainError as e:
        raise _refusal(e, language) from None
    if outcome is None:
        raise Open311Error(413, said("media_too_large", language, n=images.MAX_BYTES))
    return [outcome.result["sha256"]]


def _command(holder: Open311Holder, category: Any, text: str, location: Location, hashes: list[str],
             language: Language) -> c.ReportClue:
    try:
        return c.ReportClue(rider_id=holder.rider_id, category=category, text=text, location=location,
                            evidence_hashes=tuple(dict.fromkeys(hashes)))
    except ValidationError as e:
        detail = "; ".join(str(issue["msg"]) for issue in e.errors())
        raise Open311Error(400, ("输入无效：" if language == "zh" else "invalid input: ") + detail) from None


async def _execute(reads: operations.Reads, command: c.Command, who: Any, language: Language) -> Any:
    """The report, coalesced with /v1's commands when the app coalesces them (one writer for both)."""
    try:
        return await reads.decide(command, who.actor, who.scope)
    except errors.DomainError as e:
        raise _refusal(e, language) from None


def _refusal(e: errors.DomainError, language: Language) -> Open311Error:
    """A domain refusal the spec's way, in the domain's words: 403 when the key may not, 503 when a store is
    away, else 400 (the spec has no 409 or 422)."""
    code = 403 if isinstance(e, errors.Forbidden) else 503 if isinstance(e, errors.PhotoStoreUnavailable) else 400
    # The English words are the domain's message, which names things by id: the ids are left out (a client
    # can do nothing with the rider's), as in the notes.
    return Open311Error(code, status.UUID_TEXT.sub("…", words(e.code, language, type(e).__name__, e.message)[1]))


async def _grid_name(reads: operations.Reads, grid_id: str | None) -> str | None:
    if grid_id is None:
        return None
    district = await run_in_threadpool(grid_district, reads.store, grid_id)
    grids = await run_in_threadpool(district_grids, reads.store, district or "", {grid_id})
    return grids[0]["name"] if grids else None


# --- GET requests ----------------------------------------------------------------------------

def _list(router: APIRouter, site: Site) -> None:
    reads = site.reads
    @router.get("/requests.{fmt}")
    async def get_requests(request: Request, fmt: str = FMT, api_key: str | None = API_KEY,
                           jurisdiction_id: str | None = JURISDICTION, locale: str | None = LOCALE,
                           service_request_id: str | None = Query(None, max_length=40_000, description=(
                               "service_request_ids, comma-separated: these alone, the other filters ignored")),
                           service_code: str | None = Query(None, max_length=2000, description=(
                               "service_codes, comma-separated")),
                           start_date: str | None = Query(None, max_length=40, description=(
                               "the earliest requested_datetime (W3C datetime); default end_date less 90 days")),
                           end_date: str | None = Query(None, max_length=40, description=(
                               "the latest requested_datetime (W3C datetime); at most 90 days after start_date")),
                           status: str | None = Query(None, max_length=20, description=(
                               "open, closed, or both (comma-separated)"))) -> Response:
        """The key's district's requests, newest first, at most 1,000: by `service_request_id` (a comma list;
        the other filters then ignored), else by `service_code` (a comma list), `start_date`/`end_date` (W3C
        datetimes, 90 days at most; the last 90 days by default) and `status` (open, closed)."""
        answer_format = wire.format_of(fmt)
        language = wire.language(request)
        holder = await _holder(reads, request, None, language)
        query = _query(holder.district, service_request_id, service_code, start_date, end_date, status,
                       reads.governance.clock.now(), language)
        found = await _waited(site, request, query, language)
        return wire.respond(answer_format, "service_requests", "request", found)


def _one(router: APIRouter, site: Site) -> None:
    reads = site.reads
    @router.get("/requests/{service_request_id}.{fmt}")
    async def get_request(request: Request, service_request_id: str = Path(
                              max_length=100, description="the request's id, as its POST answered"),
                          fmt: str = FMT, api_key: str | None = API_KEY, jurisdiction_id: str | None = JURISDICTION,
                          locale: str | None = LOCALE) -> Response:
        """One request of the key's district (another district's: not found)."""
        answer_format = wire.format_of(fmt)
        language = wire.language(request)
        holder = await _holder(reads, request, None, language)
        found = await _placed(site, request, holder.district, _id(service_request_id), language)
        if not found:
            raise Open311Error(404, said("not_found", language, id=service_request_id[:100]))
        return wire.respond(answer_format, "service_requests", "request", found)


def _token(router: APIRouter, site: Site) -> None:
    reads = site.reads
    @router.get("/tokens/{token}.{fmt}")
    async def get_token(request: Request, token: str = Path(max_length=100, description=(
                            "a token: here a request's own id, as requests are placed at once")),
                        fmt: str = FMT, api_key: str | None = API_KEY, jurisdiction_id: str | None = JURISDICTION,
                        locale: str | None = LOCALE) -> Response:
        """The request a token became. Requests here are placed at once (the POST answers the id), so the only
        tokens are the requests' own ids: the request it names, in the key's district, or not found."""
        answer_format = wire.format_of(fmt)
        language = wire.language(request)
        holder = await _holder(reads, request, None, language)
        found = await _placed(site, request, holder.district, _id(token), language)
        if not found:
            raise Open311Error(404, said("not_found", language, id=token[:100]))
        return wire.respond(answer_format, "service_requests", "request",
                            [{"service_request_id": found[0]["service_request_id"], "token": token}])


def _media(router: APIRouter, site: Site) -> None:
    reads = site.reads
    @router.get("/media/{sha256}.jpg")
    async def get_media(request: Request, sha256: str = Path(max_length=100, description=(
                            "the photo's sha256, as a request's media_url names it")),
                        api_key: str | None = API_KEY, jurisdiction_id: str | None = JURISDICTION,
                        locale: str | None = LOCALE) -> Response:
        """A request's photo, for a key of a district where a clue or task cites it (else not found)."""
        language = wire.language(request)
        holder = await _holder(reads, request, None, language)
        found = await run_in_threadpool(photo, reads.store, sha256) if re.fullmatch(SHA256, sha256) else None
        if found is None or not any(cite["district"] == holder.district for cite in found["cites"]):
            raise Open311Error(404, said("no_photo", language))
        picture = await run_in_threadpool(kept.picture, reads.governance, sha256)
        if picture is None:  # erased with its rider's personal data
            raise Open311Error(404, said("no_photo", language))
        return Response(picture, media_type="image/jpeg", headers=photos.PICTURE_HEADERS)


async def _placed(site: Site, request: Request, district: str, request_id: str,
                  language: Language) -> list[dict[str, Any]]:
    """One request of the district, waited for as _waited says. Not in the log, or of another district: none."""
    return await _waited(site, request, RequestQuery(district, ids=(request_id,)), language)


async def _waited(site: Site, request: Request, query: RequestQuery, language: Language) -> list[dict[str, Any]]:
    """The requests the query finds; when it names ids, those already in the district's log are waited for
    (bounded) until the read models have them, so a client reads back at once what it just posted, though
    the POST answered without waiting (an Open311 client has no position to pass, as /v1's reads take)."""
    found = await _requests(site, request, query, language)
    missing = set(query.ids) - {each["service_request_id"] for each in found}
    awaited = await run_in_threadpool(_reported_in_district, site.reads.governance, missing, query.district)
    deadline = time.monotonic() + READABLE_WAIT_S
    while awaited - {each["service_request_id"] for each in found}:
        if time.monotonic() >= deadline:
            raise Open311Error(503, said("behind", language))
        await asyncio.sleep(0.01)
        found = await _requests(site, request, query, language)
    return found


def _reported_in_district(governance: Any, request_ids: set[str], district: str) -> set[str]:
    return {request_id for request_id in request_ids if _reported_in(governance, request_id, district)}


def _reported_in(governance: Any, request_id: str, district: str) -> bool:
    """Whether the log holds this clue, reported in `district` (what the read models will show)."""
    if request_id == "-":
        return False
    first = next(iter(governance.events.get(UUID(request_id), lte=1)), None)
    return isinstance(first, ClueReported) and first.district == district


def _id(text: str) -> str:
    """A request id as the read models keep it (a UUID's canonical text); anything else names none."""
    try:
        return str(UUID(text))
    except ValueError:
        return "-"


def _query(district: str, ids: str | None, codes: str | None, start: str | None, end: str | None,
           statuses: str | None, now: datetime, language: Language) -> RequestQuery:
    if ids:
        listed = [part.strip() for part in ids.split(",") if part.strip()]
        if len(listed) > MAX_IDS:
            raise Open311Error(400, said("too_many_ids", language, n=MAX_IDS))
        return RequestQuery(district, ids=tuple(_id(part) for part in listed), limit=MAX_RESULTS)
    categories = tuple(catalogue.service(code.strip(), 400, language).value
                       for code in (codes or "").split(",") if code.strip())
    wanted = tuple(part.strip() for part in (statuses or "").split(",") if part.strip())
    if any(part not in ("open", "closed") for part in wanted):
        raise Open311Error(400, said("bad_status", language))
    since, until = _date(start, "start_date", language), _date(end, "end_date", language)
    if since is None and until is None:
        since, until = now - DEFAULT_SPAN, None
    elif since is None:
        since = until - DEFAULT_SPAN  # type: ignore[operator]
    elif until is None:
        until = since + DEFAULT_SPAN
    if until is not None and (since > until or until - since > MAX_SPAN):
        raise Open311Error(400, said("span", language))
    return RequestQuery(district, categories=categories, since=_utc(since),
                        until=_utc(until) if until is not None else None, statuses=wanted, limit=MAX_RESULTS)


def _date(text: str | None, name: str, language: Language) -> datetime | None:
    """A W3C datetime (ISO 8601 with its offset); a bare date is midnight in China."""
    if text is None or text == "":
        return None
    try:
        if not text.isascii():  # a digit of another script is no W3C datetime
            raise ValueError(text)
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, said("bad_date", language, name=name)) from None
    if when.tzinfo is None:
        if len(text.strip()) != 10:
            raise Open311Error(400, said("bad_date", language, name=name))
        when = when.replace(tzinfo=status.CHINA)
    offset = when.utcoffset() or timedelta(0)
    try:
        in_window = abs(offset) <= MAX_OFFSET and all(
            FIRST_DAY <= day <= LAST_DAY for day in (when.date(), when.astimezone(status.CHINA).date()))
    except OverflowError:
        in_window = False
    if not in_window:
        raise Open311Error(400, said("date_window", language, name=name, first=FIRST_DAY, last=LAST_DAY))
    return when


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _requests(site: Site, request: Request, query: RequestQuery, language: Language) -> list[dict[str, Any]]:
    reads = site.reads
    rows = await run_in_threadpool(service_requests, reads.store, query)
    named_ids = {row["duplicate_of"] for row in rows if row["duplicate_of"]}
    named_ids |= {row["candidates"][0] for row in rows if row["candidates"] and row["status"] == "reported"}
    named = await run_in_threadpool(named_clues, reads.store, query.district, named_ids) if named_ids else {}
    now = reads.governance.clock.now()
    base = site.origin(request)
    return [_request(row, named, now, base, language) for row in rows]


def _request(row: dict[str, Any], named: dict[str, dict[str, Any]], now: datetime, base: str,
             language: Language) -> dict[str, Any]:
    """One request, its fields in the spec's order; nothing of its reporter."""
    row = {**row, "task_status": status.task_now(row["task_status"], row["claim_expires_at"], now)}
    updated = max(filter(None, (row["updated_at"], row["task_updated_at"])))
    place = " ".join(part for part in (row["district"], row["street"], row["community"]) if part)
    first_photo = row["evidence_hashes"][0] if row["evidence_hashes"] else None
    values = {
        "service_request_id": row["clue_id"],
        "status": "closed" if status.is_closed(row["status"], row["task_status"]) else "open",
        "status_notes": status.notes(row, language, named.get),
        "service_name": status.service_name(row["category"], language),
        "service_code": row["category"],
        "description": row["text"],
        "agency_responsible": status.agency(row, language),
        "service_notice": status.notice(row, language),
        "requested_datetime": status.china_time(row["reported_at"]),
        "updated_datetime": status.china_time(updated),
        "expected_datetime": status.china_time(row["due"]),
        "address": place or None,
        "address_id": None,
        "zipcode": None,
        "lat": row["location"]["lat"],
        "long": row["location"]["lon"],
        "media_url": f"{base}{PREFIX}/media/{first_photo}.jpg" if first_photo else None,
    }
    return {field: values[field] for field in REQUEST_FIELDS}
