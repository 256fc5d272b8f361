"""Discovery, the service list and a service's definition: GET, no key needed. The services are the same in
every district; a `jurisdiction_id` is still checked, so a client pointed at a wrong one hears so at once."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.http import operations
from api.http.language import Language
from api.open311 import catalogue, wire
from projections.board import district_grids, district_places

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
JURISDICTION = Query(None, max_length=100, description="the district (e.g. 温江); optional, as the services are "
                                                       "the same in every district")


def routes(reads: operations.Reads, public_url: str = "") -> APIRouter:
    """`public_url`: the origin clients reach the engine at (GRIDGOV_PUBLIC_URL); empty: the request's own."""
    router = APIRouter(prefix="/open311/v2", tags=["open311"])

    @router.get("/discovery.{fmt}", summary="Open311 service discovery: where the GeoReport v2 endpoint is")
    def discovery(fmt: str, request: Request) -> Response:
        language = wire.language(request)
        origin = public_url.rstrip("/") or str(request.base_url).rstrip("/")
        return wire.respond_one(wire.format_of(fmt, language), "discovery", {
            "changeset": catalogue.CHANGESET,
            "contact": _in(("请联系所在区的网格治理办公室。", "Ask the district's grid governance office."), language),
            "key_service": _in(("密钥由区管理员在区工作台签发和吊销。",
                                "A key is issued (and revoked) by the district's admins in their workbench."),
                               language),
            "endpoints": [{"specification": SPECIFICATION, "url": f"{origin}/open311/v2",
                           "changeset": catalogue.CHANGESET, "type": "production",
                           "formats": ["application/json", "text/xml"]}]})

    @router.get("/services.{fmt}", summary="Open311 services: the kinds of clue a rider can report")
    async def services(fmt: str, request: Request, jurisdiction_id: str | None = JURISDICTION) -> Response:
        language = wire.language(request)
        form = wire.format_of(fmt, language)
        await _known(reads, jurisdiction_id, language)
        return wire.respond(form, "services", "service", catalogue.services(language))

    @router.get("/services/{code}.{fmt}", summary="Open311 service definition: the questions a service asks")
    async def definition(code: str, fmt: str, request: Request,
                         jurisdiction_id: str | None = JURISDICTION) -> Response:
        language = wire.language(request)
        form = wire.format_of(fmt, language)
        await _known(reads, jurisdiction_id, language)
        return wire.respond_one(form, "service_definition", catalogue.definition(code, language))

    return router


async def _known(reads: operations.Reads, jurisdiction_id: str | None, language: Language) -> None:
    """A named jurisdiction must be a district the engine knows (it has grids or a drawn boundary); the spec
    answers one it does not know with a 404."""
    if not jurisdiction_id:  # the spec's optional argument: empty is the same as absent
        return
    if not await run_in_threadpool(known_district, reads, jurisdiction_id):
        raise wire.Open311Error(404, _in((f"没有这个辖区：{jurisdiction_id}",
                                          f"no such jurisdiction_id: {jurisdiction_id}"), language))


def known_district(reads: operations.Reads, district: str) -> bool:
    return bool(district_grids(reads.store, district)) or district_places(reads.store, district)["boundary"] is not None


def _in(words: tuple[str, str], language: Language) -> str:
    return words[0] if language == "zh" else words[1]
