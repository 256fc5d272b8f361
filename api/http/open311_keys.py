"""The district's Open311 keys over HTTP (docs/open311.md): a district admin issues one
(`POST /v1/districts/{district}/open311-keys`, the secret answered this once) and lists them
(`GET`, from the read model, without any secret); revoking is a command like any other
(`/v1/commands/revoke-open311-key`).

The secret is made here, from the operating system's randomness, and only its SHA-256 goes
into the command (`IssueOpen311Key`, internal): nothing the engine stores, logs or keeps for
idempotency holds it. So the issue takes no Idempotency-Key — a retry could not show the first
secret again — and a key lost is revoked and issued anew.
"""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.http import responses, scoping
from api.http.auth import Principal
from api.http.operations import POSITION, WAIT, Reads
from domain import commands as c
from domain.open311_keys import key_sha256
from projections.open311_keys import district_keys
from projections.riders import district_riders

PREFIX = "g311_"  # tells a reader (and a secret scanner) what the string is
SECRET_BYTES = 32


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rider_id: UUID | None = Field(None, description="the rider whose clues the key reports (it has a grid in the "
                                                    "district); leave out for a service's key, which only reads")
    label: c.Name = Field(description="what the key is for, in words: the client or the app that will hold it")


def routes(reads: Reads) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["open311"])
    for add in (_issue, _list, _riders):
        add(router, reads)
    return router


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def _issue(router: APIRouter, reads: Reads) -> None:
    governance, principal = reads.governance, reads.principal

    @router.post("/districts/{district}/open311-keys", status_code=201, response_model=responses.Open311KeyMade)
    async def issue_open311_key(district: str, body: KeyRequest, who: Principal = Depends(principal)) -> Any:
        """Issue an Open311 key for the district: the secret (`api_key`) is in this answer and nowhere else, ever.
        Who: the district's admins."""
        api_key = new_secret()
        command = c.IssueOpen311Key(key_sha256=key_sha256(api_key), district=district, rider_id=body.rider_id,
                                    label=body.label)
        outcome = await run_in_threadpool(governance.execute, command, who.actor, scope=who.scope)
        made = {"key_id": outcome.result["key_id"], "api_key": api_key, "district": district,
                "rider_id": None if body.rider_id is None else str(body.rider_id), "label": body.label,
                "position": outcome.position}
        return JSONResponse(made, status_code=201, headers={"Cache-Control": "no-store"})


def _list(router: APIRouter, reads: Reads) -> None:
    store, wait, principal = reads.store, reads.wait, reads.principal

    @router.get("/districts/{district}/open311-keys", response_model=responses.Open311Keys)
    async def get_open311_keys(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                               who: Principal = Depends(principal)) -> dict[str, Any]:
        """The district's Open311 keys: label, whose, issued and revoked when (never a secret). For the district's
        admins."""
        scoping.open311_keys_of(who, district)
        await wait("open311_keys", position, wait_ms)
        return {"district": district, "keys": await run_in_threadpool(district_keys, store, district)}


def _riders(router: APIRouter, reads: Reads) -> None:
    store, wait, principal = reads.store, reads.wait, reads.principal

    @router.get("/districts/{district}/riders", response_model=responses.DistrictRiders)
    async def get_district_riders(district: str, position: int | None = POSITION, wait_ms: int = WAIT,
                                  who: Principal = Depends(principal)) -> dict[str, Any]:
        """The riders who have been in the district, each with the grids it is in now, by name: whom an admin
        picks to issue a rider's Open311 key. For the district's admins."""
        scoping.open311_keys_of(who, district)
        await wait("riders", position, wait_ms)
        riders = await run_in_threadpool(district_riders, store, district)
        return {"district": district, "riders": [{**rider, "personal": None} for rider in riders]}
