"""The dashboard: one static page that reads the API — board, budgets,
statistics, and the live event stream — with the token it is given."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse

PAGE = Path(__file__).with_name("dashboard.html").read_text(encoding="utf-8")


def install(app: FastAPI) -> None:
    @app.get("/dashboard", include_in_schema=False)
    def dashboard() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/dashboard")
