"""The pages people work in, served by the app with no build step: the grid
officer's and district admin's workbench, the rider's phone page, the auditor's
view and the partner's counter page, all in Chinese first (English on a toggle),
reading the same API with the token they are given. Each page is the shared
shell (header, token form, result line) around its own body; the scripts and
styles are files of this package, and so is the chart library (ECharts,
`static/echarts/`): nothing is fetched from outside, which a
Content-Security-Policy holds the pages to."""

from __future__ import annotations

from pathlib import Path
from string import Template

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

FOLDER = Path(__file__).with_name("pages")
SHELL = Template((FOLDER / "shell.html").read_text(encoding="utf-8"))
# ECharts draws on canvas but sets inline styles; data: URLs are its exported images.
POLICY = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
# path: (the page's title key, its body, its own scripts)
PAGES = {
    "/": ("page.home", "home.html", ("home.js",)),
    "/workbench": ("page.workbench", "workbench.html", ("/static/echarts/echarts.min.js", "charts.js", "workbench.js")),
    "/rider": ("page.rider", "rider.html", ("rider.js",)),
    "/audit": ("page.audit", "audit.html", ("/static/echarts/echarts.min.js", "charts.js", "audit.js")),
    "/partner": ("page.partner", "partner.html", ("partner.js",)),
}


def page(title_key: str, body: str, scripts: tuple[str, ...]) -> str:
    tags = "\n".join(f'<script src="{s if s.startswith("/") else "/pages/" + s}"></script>' for s in scripts)
    return SHELL.substitute(page_key=title_key, page=body.removesuffix(".html"),
                            body=(FOLDER / body).read_text(encoding="utf-8"), scripts=tags)


def install(app: FastAPI) -> None:
    # A rider's phone loads the scripts over a mobile network: compressed, they are a third of their size.
    app.mount("/pages", GZipMiddleware(StaticFiles(directory=FOLDER), minimum_size=1024), name="pages")
    app.mount("/static/echarts", GZipMiddleware(StaticFiles(directory=FOLDER.parent / "static" / "echarts"),
                                                minimum_size=1024), name="echarts")
    for path, (title_key, body, scripts) in PAGES.items():
        html = page(title_key, body, scripts)
        app.add_api_route(path, _serve(html), methods=["GET"], include_in_schema=False,
                          name=f"page {path}")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/swagger-ui/favicon-32x32.png")

    @app.get("/dashboard", include_in_schema=False)
    def dashboard() -> RedirectResponse:
        return RedirectResponse("/")  # the old single dashboard: now a page per role


def _serve(html: str):  # type: ignore[no-untyped-def]
    def serve() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"})
    return serve
