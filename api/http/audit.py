"""The transparency log over HTTP: signed checkpoints and the proofs that tie an
event, or an earlier checkpoint, to one (docs/audit.md). Any token may read
them: they carry hashes, positions and signatures, no event's content."""

from __future__ import annotations

from typing import Any, Callable
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as FastAPIPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.http.auth import Principal
from api.http.problems import problem
from domain.errors import InvalidInput
from transparency.log import AuditError, NoSigningKey, NoSuchCheckpoint, NotInLog, NotYetInTree, TransparencyLog
from transparency.store import StoredCheckpoint

# No signing key: no checkpoint to show or prove against, as for a size never signed.
STATUS = {NotInLog: 404, NoSuchCheckpoint: 404, NotYetInTree: 409, NoSigningKey: 404}
SIZE = Query(None, ge=1, le=2**62, description="the tree size of a kept checkpoint (default: the latest)")


def install(app: FastAPI, tlog: TransparencyLog, principal: Callable[..., Principal]) -> None:
    @app.exception_handler(AuditError)
    async def audit_error(request: Request, e: AuditError) -> JSONResponse:
        status = next((s for family, s in STATUS.items() if isinstance(e, family)), 422)
        return problem(status, e.code, type(e).__name__, str(e), request)

    app.include_router(routes(tlog, principal))


def routes(tlog: TransparencyLog, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

    def listed(checkpoint: StoredCheckpoint) -> dict[str, Any]:
        """Its cosigners are the named witnesses whose cosignature verifies; `witnessed`, the policy met."""
        cosigners = tlog.witnesses.cosigners(checkpoint)
        return {"size": checkpoint.size, "root": checkpoint.root.hex(), "made_at": checkpoint.made_at,
                "cosigners": cosigners, "witnessed": len(cosigners) >= tlog.witnesses.k}

    def shown(checkpoint: StoredCheckpoint) -> dict[str, Any]:
        verifier = tlog.verifier
        return {**listed(checkpoint), "note": checkpoint.served, "verifier_key": verifier.text() if verifier else None}

    @router.get("/checkpoint")
    async def latest_checkpoint(who: Principal = Depends(principal)) -> dict[str, Any]:
        """The latest signed checkpoint (C2SP tlog-checkpoint, as a signed note)."""
        return shown(await run_in_threadpool(tlog.latest))

    @router.get("/checkpoints")
    async def checkpoints(limit: int = Query(50, ge=1, le=1000, description="how many, largest first"),
                          below: int | None = Query(None, ge=1, le=2**62, description="only those smaller than "
                                                    "this size (the previous page's `next_below`)"),
                          who: Principal = Depends(principal)) -> dict[str, Any]:
        """The signed checkpoints, largest first: size, time, root, and the witnesses that cosigned each."""
        page = await run_in_threadpool(tlog.tree.recent, limit + 1, below)
        shown_ = await run_in_threadpool(lambda: [listed(c) for c in page[:limit]])
        return {"checkpoints": shown_, "next_below": page[limit - 1].size if len(page) > limit else None,
                "witnesses": {"named": tlog.witnesses.names, "policy": tlog.witnesses.k}}

    @router.get("/checkpoints/{size}")
    async def checkpoint_at(size: int = FastAPIPath(..., ge=1, le=2**62, description="the tree size it was signed at"),
                            who: Principal = Depends(principal)) -> dict[str, Any]:
        """The checkpoint signed at a tree size, if one was."""
        return shown(await run_in_threadpool(tlog.at, size))

    @router.get("/proofs/inclusion")
    async def inclusion(request: Request, position: int | None = Query(None, ge=1, le=2**62, description="the event's log position"),
                        stream_id: UUID | None = Query(None, description="or its stream …"),
                        version: int | None = Query(None, ge=1, le=2**62, description="… and version"),
                        size: int | None = SIZE, who: Principal = Depends(principal)) -> dict[str, Any]:
        """That an event is in a checkpoint: its leaf and the RFC 9162 inclusion proof."""
        if (position is None) == (stream_id is None or version is None):
            raise InvalidInput("name the event by `position`, or by `stream_id` and `version`")

        def prove() -> dict[str, Any]:
            at = position if position is not None else tlog.position(stream_id, version)  # type: ignore[arg-type]
            return tlog.inclusion(at, size).as_json()

        proof = await run_in_threadpool(prove)
        request.state.checkpoint = (proof["tree_size"], proof["root"])  # for the access log
        return proof

    @router.get("/proofs/consistency")
    async def consistency(old: int = Query(..., ge=1, le=2**62, description="the earlier checkpoint's size"),
                          new: int | None = Query(None, ge=1, le=2**62, description="the later (default: latest)"),
                          who: Principal = Depends(principal)) -> dict[str, Any]:
        """That a later checkpoint extends an earlier one: the RFC 9162 consistency proof."""
        return (await run_in_threadpool(tlog.consistency, old, new)).as_json()

    return router
