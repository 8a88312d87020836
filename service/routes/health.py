"""Operations: liveness (/health), readiness (/ready: a query worker answers) and Prometheus metrics (/metrics)."""

from __future__ import annotations

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from graph import GraphError, Job
from service.blocking import run_blocking, run_query
from service.deps import PoolDep, StoreDep
from service.problems import ServiceUnavailableError
from service.routing import ReadRouter

router = ReadRouter(tags=["operations"])
READY_TIMEOUT = 5.0


@router.get("/health", summary="The service is up and its store answers", operation_id="health")
async def health(store: StoreDep) -> dict[str, object]:
    quads = await run_blocking(len, store)
    return {"status": "ok", "quads": quads}


@router.get("/ready", summary="The service can answer queries now: a query worker runs one (else 503)",
            operation_id="ready")
async def ready(pool: PoolDep) -> dict[str, object]:
    try:
        await run_query(pool, Job("ASK {}", {"ask": "json"}, 1), READY_TIMEOUT)
    except (GraphError, OSError, EOFError) as error:  # the worker timed out, failed or is gone
        raise ServiceUnavailableError(f"no query worker answered within {READY_TIMEOUT:g} s") from error
    return {"status": "ready", "generation": pool.generation, "workerRestarts": pool.restarts}


@router.get("/metrics", summary="Prometheus metrics: requests, latency, problems (timeouts, …), truncations, slow "
            "queries, worker restarts, store size", operation_id="metrics",
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(request: Request, store: StoreDep) -> Response:
    collected = request.app.state.metrics
    collected.quads.set(await run_blocking(len, store))
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)
