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


def valid_31(spec: dict[str, Any]) -> dict[str, Any]:
    """The bearer scheme on every /v1 operation, and no OpenAPI 3.2 `itemSchema`."""
    spec.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = BEARER
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "itemSchema" in media:
                        # The schema of each item, as tools read a stream's `schema` (schemathesis does).
                        media["schema"] = {**media.pop("itemSchema"), "description": "each item of the stream"}
    return spec
