"""Liveness: the process answers and the store is readable."""

from __future__ import annotations

from fastapi import APIRouter

from service.blocking import run_blocking
from service.deps import StoreDep

router = APIRouter(tags=["operations"])


@router.get("/health", summary="The service is up and its store answers", operation_id="health")
async def health(store: StoreDep) -> dict[str, object]:
    quads = await run_blocking(len, store)
    return {"status": "ok", "quads": quads}
