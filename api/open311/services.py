"""Discovery, the service list and a service's definition: GET, no key needed. The services are the same in
every district; a `jurisdiction_id` is still checked, so a client pointed at a wrong one hears so at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.http import operations
from api.http.language import Language
from api.open311 import catalogue, wire
from projections.board import district_grids, district_places

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
JURISDICTION = Query(None, max_length=100, description="the district (e.g. 温江); optional, as the services are "
                                                       "the same in every district")
FMT = Path(description="json or xml: the format of the answer (and of its errors)")
CODE = Path(description="the service_code, as services.{fmt} lists it (e.g. fire_hazard)")
LOCALE = Query(None, max_length=35, description="zh or en (e.g. zh_CN, en-GB): the language of the words, before "
                                                "Accept-Language; Chinese when neither names one")


class Endpoint(BaseModel):
    specification: str = Field(description="the specification this endpoint speaks: " + SPECIFICATION)
    url: str = Field(description="the endpoint's URL (GRIDGOV_PUBLIC_URL, else the request's origin) + /open311/v2")
    changeset: str = Field(description="when the services or their definitions last changed (sortable)")
    type: str = Field(description="production")
    formats: list[str] = Field(description="application/json and text/xml")


class Discovery(BaseModel):
    """Open311 service discovery (wiki.open311.org/Service_Discovery)."""

    changeset: str = Field(description="when the services or their definitions last changed (sortable)")
    contact: str = Field(description="whom to ask, in words")
    key_service: str = Field(description="how to get an api_key, in words")
    endpoints: list[Endpoint] = Field(description="the GeoReport v2 endpoint")


class Listed(BaseModel):
    """A service of the list: a kind of clue a rider can report."""

    service_code: str = Field(description="the kind of clue (e.g. fire_hazard), as POST requests takes it")
    service_name: str = Field(description="the kind in words")
    description: str = Field(description="what the service is for, in words")
    metadata: bool = Field(description="true: the service asks questions (its definition lists them)")
    type: str = Field(description="realtime: a request's id is answered at once")
    keywords: str = Field(description="comma-separated words that help find the service")
    group: str = Field(description="a grouping in words (安全隐患, 食品, 治安, 民生, 其他)")


class Choice(BaseModel):
    key: str = Field(description="the value to send as attribute[code]")
    name: str = Field(description="the choice in words")


class Attribute(BaseModel):
    variable: bool = Field(description="true: the reporter answers it")
    code: str = Field(description="the attribute's code: send attribute[code]=…")
    datatype: str = Field(description="string or singlevaluelist")
    required: bool = Field(description="true: a request without an answer is refused")
    datatype_description: str | None = Field(description="what a string answer may be, in words")
    order: int = Field(description="the order to ask in, from 1")
    description: str = Field(description="the question, in words")
    values: list[Choice] = Field(description="the choices of a singlevaluelist (empty for a string)")


class Definition(BaseModel):
    """A service's definition: the questions it asks."""

    service_code: str = Field(description="the service")
    attributes: list[Attribute] = Field(description="its questions, in order")


def answers(model: Any, xml_root: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI document's 200: the model in JSON, the same fields as XML under `xml_root`."""
    return {200: {"model": model, "content": {"text/xml": {"schema": {
        "type": "string", "description": f"the same fields as XML, under <{xml_root}>"}}}}}


def routes(reads: operations.Reads, public_url: str = "") -> APIRouter:
    """`public_url`: the origin clients reach the engine at (GRIDGOV_PUBLIC_URL); empty: the request's own."""
    router = APIRouter(prefix="/open311/v2", tags=["open311"])

    @router.get("/discovery.{fmt}", summary="Open311 service discovery", responses=answers(Discovery, "discovery"))
    def discovery(request: Request, fmt: str = FMT, locale: str | None = LOCALE) -> Response:
        """Where the GeoReport v2 endpoint is, its formats, and how to get a key. No key needed."""
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

    @router.get("/services.{fmt}", summary="Open311 services", responses=answers(list[Listed], "services"))
    async def services(request: Request, fmt: str = FMT, jurisdiction_id: str | None = JURISDICTION,
                       locale: str | None = LOCALE) -> Response:
        """The kinds of clue a rider can report, as the spec's services. No key needed."""
        language = wire.language(request)
        form = wire.format_of(fmt, language)
        await _known(reads, jurisdiction_id, language)
        return wire.respond(form, "services", "service", catalogue.services(language))

    @router.get("/services/{code}.{fmt}", summary="Open311 service definition",
                responses=answers(Definition, "service_definition"))
    async def definition(request: Request, code: str = CODE, fmt: str = FMT,
                         jurisdiction_id: str | None = JURISDICTION, locale: str | None = LOCALE) -> Response:
        """The questions a service asks, as the spec's attributes. No key needed."""
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
