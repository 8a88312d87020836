"""Descriptions of the dataset: VoID at /.well-known/void."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service import description
from service.blocking import run_blocking
from service.deps import SettingsDep

router = APIRouter(tags=["dataset"])


@router.get("/.well-known/void", summary="VoID description: triples, classes and properties per named graph")
async def void(request: Request, settings: SettingsDep) -> Response:
    stats = await run_blocking(request.app.state.statistics.get)
    endpoint = str(request.url_for("sparql_get"))
    return description.respond(description.void_graph(stats, settings, endpoint), request.headers.get("accept"))
