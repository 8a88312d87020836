"""Descriptions of the dataset: VoID at /.well-known/void."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from graph import Namespaces
from service import description, jsonld
from service.blocking import run_blocking
from service.deps import PoolDep, SettingsDep

router = APIRouter(tags=["dataset"])


@router.get("/.well-known/void", summary="VoID description: triples, classes and properties per named graph")
async def void(request: Request, settings: SettingsDep) -> Response:
    stats = await run_blocking(request.app.state.statistics.get)
    endpoint = str(request.url_for("sparql_get"))
    return description.respond(description.void_graph(stats, settings, endpoint), request.headers.get("accept"))


@router.get("/context.jsonld", summary="The JSON-LD context of the API: prefixes and a short name for every term")
async def context(pool: PoolDep, settings: SettingsDep) -> JSONResponse:
    document: dict[str, Any] = await run_blocking(jsonld.context, pool, Namespaces(settings.base_iri),
                                                  settings.query_timeout)
    return JSONResponse(document, media_type="application/ld+json")
