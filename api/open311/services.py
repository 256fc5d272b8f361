"""Discovery, the service list and a service's definition: GET, no key needed."""

from __future__ import annotations

from fastapi import APIRouter

from api.http import operations


def routes(reads: operations.Reads) -> APIRouter:
    router = APIRouter(prefix="/open311/v2", tags=["open311"])
    return router
