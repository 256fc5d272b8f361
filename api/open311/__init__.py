"""Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2) under /open311/v2: a facade over the same
commands and read models as /v1, never a second domain (docs/open311.md).

  wire.py       the two formats (JSON, XML), the language, the spec's errors for everything under /open311
  catalogue.py  the services: the clue categories in words, their questions (attributes), a report's text
  services.py   discovery, the service list and a service's definition (no key needed)
  keys.py       who a request is from: its api_key's holder (from the event store), a rider or a service
  requests.py   service requests: POST one (a clue reported as the key's rider), GET them, one, a token, a photo
  status.py     a clue and its task as Open311 tells them: open or closed, and the story in words
"""

from __future__ import annotations

from fastapi import FastAPI

from api.http import operations
from api.open311 import requests, services, wire


def install(app: FastAPI, reads: operations.Reads, public_url: str = "") -> None:
    """The Open311 routes and their errors. Call it after the app's other layers: its error
    translation is then the outermost layer and sees the Guard's 413s and 500s too. `public_url`:
    the origin clients reach (GRIDGOV_PUBLIC_URL), for discovery; empty: the request's own."""
    wire.install(app)
    app.include_router(services.routes(reads, public_url))
    app.include_router(requests.routes(reads, public_url))
