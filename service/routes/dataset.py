"""Descriptions of the dataset: VoID at /.well-known/void, the JSON-LD context at /context.jsonld."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from graph import Namespaces
from graph.schemas import vocabulary
from service import catalogue, description, negotiation
from service.blocking import run_blocking
from service.deps import SettingsDep
from service.openapi import answers
from service.routing import ReadRouter

router = ReadRouter(tags=["dataset"])


@router.get("/.well-known/void", summary="VoID description: triples, classes and properties per named graph",
            operation_id="void", response_class=Response,
            responses={200: answers("VoID, in the negotiated RDF format", *negotiation.GRAPH_MEDIA_TYPES)})
async def void(request: Request, settings: SettingsDep) -> Response:
    stats = await run_blocking(request.app.state.statistics.get)
    endpoint = str(request.url_for("sparql_get"))
    graph = description.void_graph(stats, settings, endpoint)
    catalogue.link_void(graph, settings.base_iri, catalogue.Links.of(request))
    return description.respond(graph, request.headers.get("accept"))


@router.get("/context.jsonld", summary="The JSON-LD context of the API: prefixes and a short name for every term, "
            "typed as the shapes constrain it", operation_id="jsonld-context", response_class=Response,
            responses={200: answers("The context", "application/ld+json")})
async def context(settings: SettingsDep) -> JSONResponse:
    return JSONResponse(vocabulary(Namespaces(settings.base_iri)).context, media_type="application/ld+json")
