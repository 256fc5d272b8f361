"""`/docs`: Swagger UI from the app itself, not from a CDN. Without the outside
network — or from mainland China, where CDNs are unreliable — the page still
renders: its script, style and icon are files of this package
(`static/swagger-ui/`, swagger-ui-dist 5, which reads OpenAPI 3.1).

And `/openapi.json` as a valid OpenAPI 3.1 document (openapi-spec-validator),
with the bearer token as its security scheme, so the page's Authorize button
works: FastAPI describes the event stream with `itemSchema`, which only OpenAPI
3.2 has; here it becomes the `schema` (of each item, as tools read it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from api.http.glossary import description

ASSETS = Path(__file__).with_name("static") / "swagger-ui"
PREFIX = "/static/swagger-ui"


BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
          "description": "a token of `gridgov token` (or one `gridgov serve --demo` prints)"}


def install(app: FastAPI) -> None:
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="swagger-ui")
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = valid_31(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — API",
                                   swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{PREFIX}/swagger-ui.css",
                                   swagger_favicon_url=f"{PREFIX}/favicon-32x32.png")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    facts: dict[str, Any] | None = None
    issues: list[dict[str, str]] | None = None


# Which refusals an operation can meet: every /v1 route needs a token (401) that
# reaches what it names (403), about things that exist (404), in well-formed input (422).
ERRORS = {"401": "no token, or one not ours, or expired", "403": "the token does not reach this",
          "404": "no such thing in this token's scope", "422": "malformed input: `issues` says where",
          "500": "the server failed; the error is logged"}
COMMAND_ERRORS = {"409": "the thing's state does not allow it (e.g. a task already claimed)",
                  "413": "the body is larger than 64 KiB"}
QUERY_ERRORS = {"503": "the read model has not reached `position` within `wait_ms`; retry"}


def valid_31(spec: dict[str, Any]) -> dict[str, Any]:
    """The bearer scheme on every /v1 operation, every error documented as a
    problem, a description on every field and parameter, and no OpenAPI 3.2 `itemSchema`."""
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = BEARER
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description") and (words := description(field, name)):
                prop["description"] = words
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description") and (words := description(parameter["name"].lower())):
                    parameter["description"] = words
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
                errors = {**ERRORS, **(COMMAND_ERRORS if method == "post" else QUERY_ERRORS)}
                responses = operation.setdefault("responses", {})
                for status, why in errors.items():
                    responses[status] = {"description": why, "content": {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "itemSchema" in media:
                        # The schema of each item, as tools read a stream's `schema` (schemathesis does).
                        media["schema"] = {**media.pop("itemSchema"), "description": "each item of the stream"}
    return spec
