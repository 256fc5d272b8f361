"""Open311 GeoReport v2 on the wire: its two formats (JSON and XML), its language, and its errors.

Every /open311 answer is a list of objects or one object, written here (ElementTree for XML) so
the two formats always carry the same data; every error under /open311 — ours, FastAPI's, the Guard's — is the
spec's `[{"code", "description"}]` / `<errors><error>…</error></errors>`, never problem+json.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Literal, Mapping
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.language import Language, chosen

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
PREFIX = "/open311/"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
VARY = {"Vary": "Accept-Language"}  # the words follow the language asked for
MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# A list under a key is written in XML as that key holding one element per item, named as the spec does.
ITEM_OF = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


class Open311Error(Exception):
    """An answer the spec's way: 400 (bad input), 403 (no or a wrong key), 404 (no such thing),
    413 (a body too large), 503 (a store that does not answer)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def format_of(fmt: str, language: Language = "zh") -> Format:
    """The format a path's extension names; any other is a path that does not exist."""
    if fmt not in FORMATS:
        raise Open311Error(404, f"没有这种格式：.{fmt[:40]}（只有 .json 和 .xml）" if language == "zh"
                           else f"no such format: .{fmt[:40]} (this service answers .json and .xml)")
    return fmt  # type: ignore[return-value]


def respond(fmt: Format, root: str, item: str, items: list[dict[str, Any]], status: int = 200) -> Response:
    """A list answer: JSON, the list of objects; XML, `<root><item>…</item>…</root>`."""
    items = _clean(items)
    if fmt == "json":
        return Response(orjson.dumps(items), status_code=status, media_type=MEDIA["json"], headers=VARY)
    tree = ET.Element(root)
    for obj in items:
        _fill(ET.SubElement(tree, item), obj)
    return _xml(tree, status)


def respond_one(fmt: Format, root: str, obj: dict[str, Any]) -> Response:
    """A one-object answer (discovery, a service's definition): JSON, the object; XML, `<root>…</root>`."""
    obj = _clean(obj)
    if fmt == "json":
        return Response(orjson.dumps(obj), media_type=MEDIA["json"], headers=VARY)
    tree = ET.Element(root)
    _fill(tree, obj)
    return _xml(tree, 200)


def errors(fmt: Format, status: int, description: str) -> Response:
    return respond(fmt, "errors", "error", [{"code": status, "description": description}], status)


def _clean(value: Any) -> Any:
    """Text XML 1.0 cannot hold (control characters, lone surrogates) as U+FFFD, in both formats alike: a
    client's own input echoed in an error would otherwise make the XML unreadable, or the JSON unwritable."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, list):
        return [_clean(each) for each in value]
    if isinstance(value, Mapping):
        return {key: _clean(each) for key, each in value.items()}
    return value


def _fill(element: ET.Element, obj: Mapping[str, Any]) -> None:
    for key, value in obj.items():
        child = ET.SubElement(element, key)
        if isinstance(value, list):
            for each in value:
                _value(ET.SubElement(child, ITEM_OF.get(key, "item")), each)
        else:
            _value(child, value)


def _value(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        _fill(element, value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def _xml(tree: ET.Element, status: int) -> Response:
    # ElementTree writes a carriage return raw, and every XML parser reads a raw one back as a line feed
    # (end-of-line handling, XML 1.0 §2.11): written as a reference it survives. Only text holds one here.
    text = ET.tostring(tree, encoding="utf-8", xml_declaration=False).replace(b"\r", b"&#13;")
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + text
    return Response(body, status_code=status, media_type=MEDIA["xml"], headers=VARY)


def language(request: Request, form: Mapping[str, Any] | None = None) -> Language:
    """`locale` (the query's, else the form's when the caller passes it), else Accept-Language;
    Chinese when neither names zh or en."""
    locale = request.query_params.get("locale") or (form or {}).get("locale")
    return language_from(locale if isinstance(locale, str) else None, request.headers.get("accept-language"))


def language_from(locale: str | None, accept_language: str | None) -> Language:
    for said in (locale, accept_language):
        named = _named(said.replace("_", "-")) if said else None
        if named is not None:
            return named
    return "zh"


def _named(said: str) -> Language | None:
    """The language `said` prefers, or None when it names neither zh nor en above quality zero: offered
    both at the least quality, it decides the same way whichever comes first only when it names one."""
    with_zh, with_en = chosen(f"{said},zh;q=0.001"), chosen(f"{said},en;q=0.001")
    return with_zh if with_zh == with_en else None


def format_of_path(path: str) -> Format:
    """The format an error is written in: the path's extension, JSON when it names none we write."""
    return "xml" if path.rsplit("/", 1)[-1].lower().endswith(".xml") else "json"


def install(app: FastAPI) -> None:
    """Open311Error answered the spec's way; the app's other errors under /open311 are turned into
    the spec's form by `SpecErrors` (which `install` adds: call it after the app's other layers), and
    documented so in the OpenAPI document."""

    @app.exception_handler(Open311Error)
    async def open311_error(request: Request, e: Open311Error) -> Response:
        return errors(format_of_path(request.url.path), e.status, e.description)

    app.add_middleware(SpecErrors)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return documented(generate())

    app.openapi = openapi  # type: ignore[method-assign]


class SpecError(BaseModel):
    """One error as Open311 GeoReport v2 writes it: a list of these (in XML, `<errors><error>…`)."""

    code: int = Field(description="the HTTP status: 400 bad input, 403 a missing or wrong api_key, 404 no such "
                                  "thing, 405, 413 a body too large, 500, 503 a store that does not answer")
    description: str = Field(description="what went wrong, in the language asked for (`locale`, Accept-Language)")


def documented(spec: dict[str, Any]) -> dict[str, Any]:
    """Every /open311 operation's errors as the spec's list in either format, not FastAPI's 422 (the
    app answers a validation error with the spec's 400)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Open311Error"] = SpecError.model_json_schema(ref_template="#/components/schemas/{model}")
    listed = {"type": "array", "items": {"$ref": "#/components/schemas/Open311Error"}}
    as_xml = {"type": "string", "description": '<?xml version="1.0" encoding="utf-8"?><errors><error><code>…'
                                               '</code><description>…</description></error></errors>'}
    for path, operations in spec["paths"].items():
        if not path.startswith(PREFIX):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, why in (("4XX", "refused: the spec's error list, in the path's format"),
                                ("500", "the server failed; the error is logged")):
                responses[status] = {"description": why, "content": {"application/json": {"schema": listed},
                                                                     "text/xml": {"schema": as_xml}}}
    return spec


class SpecErrors:
    """Under /open311: the request's language made the one every layer answers in (`locale`, else
    Accept-Language, else Chinese), and every problem+json answer — a validation error, an unknown
    path, a refused method, the Guard's 413 and its logged 500 — rewritten as the spec's error list.
    A refusal of the input (422) is the spec's 400. Outermost, so it sees the Guard's answers too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            return await self.app(scope, receive, send)
        scope, language = _in_language(scope)
        fmt = format_of_path(scope["path"])
        held: Message | None = None
        body: list[bytes] = []

        async def rewritten(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                if Headers(raw=message["headers"]).get("content-type", "").startswith("application/problem+json"):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _send_spec(held["status"], b"".join(body), fmt, language, send)
                return
            await send(message)

        await self.app(scope, receive, rewritten)


def _in_language(scope: Scope) -> tuple[Scope, Language]:
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    header = Headers(scope=scope).get("accept-language")
    chosen_language = language_from(query.get("locale"), header)
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-language"]
    return {**scope, "headers": [*headers, (b"accept-language", chosen_language.encode())]}, chosen_language


async def _send_spec(status: int, problem: bytes, fmt: Format, language: Language, send: Send) -> None:
    status = 400 if status == 422 else status
    answer = errors(fmt, status, _said(problem, language))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", MEDIA[fmt].encode()),
                            (b"content-length", str(len(answer.body)).encode()),
                            (b"vary", b"Accept-Language")]})
    await send({"type": "http.response.body", "body": bytes(answer.body)})


def _said(problem: bytes, language: Language) -> str:
    """What a problem says, as one description. The problem's detail is already in the language asked for,
    but for a refused parameter in Chinese, where pydantic's English stays out: the fields it names are added."""
    try:
        answer = orjson.loads(problem)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        return "请求无法处理。" if language == "zh" else "the request could not be handled"
    said = str(answer.get("detail") or answer.get("title") or "")
    issues = answer.get("issues")
    if language == "zh" and isinstance(issues, list) and issues:
        said += "（" + "、".join(str(issue.get("where")) for issue in issues if isinstance(issue, dict)) + "）"
    return said or ("请求无法处理。" if language == "zh" else "the request could not be handled")
