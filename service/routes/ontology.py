"""The ontology at its IRI ({base}def/, served as /def/): documentation for people, RDF for machines, a diagram.

Negotiation at /def/: the documentation (HTML) when the Accept header names text/html or application/xhtml+xml
before Turtle, JSON-LD, N-Triples, RDF/XML or a wildcard, as browsers do (`negotiation.prefers_html`); else the RDF that
`negotiation.choose(accept, "graph")` picks, so Turtle for `*/*` or no Accept header; 406 when neither fits.
/def/ecrn.{ttl,jsonld,nt,rdf} and /def/index.html name one representation; /def redirects to /def/. Each path
answers HEAD too (left out of the OpenAPI document), so that the catch-all /def/{path} never takes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from graph import Namespaces
from graph.ontology import serialized
from service import html, negotiation, ontology_docs
from service.blocking import run_blocking
from service.deps import SettingsDep
from service.problems import PROBLEM_TYPE, NotAcceptableError, NotFoundError, ServiceUnavailableError

router = APIRouter(tags=["ontology"])
FILES = {"ttl": "turtle", "jsonld": "jsonld", "nt": "ntriples", "rdf": "rdfxml"}
PROBLEM: dict[str, Any] = {"content": {PROBLEM_TYPE: {}}}
NEGOTIATED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The documentation or the ontology as RDF",
          "content": {"text/html": {}, **{media_type: {} for media_type in negotiation.GRAPH_MEDIA_TYPES}}},
    406: {"description": "Neither HTML nor an RDF format is acceptable", **PROBLEM}}


@router.head("/def", include_in_schema=False)
@router.get("/def", include_in_schema=False)
async def ontology_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url_for("ontology"), status_code=301)


@router.head("/def/", include_in_schema=False)
@router.get("/def/", summary="The ontology: its documentation for browsers, else RDF (Turtle for */*)",
            operation_id="ontology", response_class=Response, responses=NEGOTIATED)
async def ontology(request: Request, settings: SettingsDep) -> Response:
    accept = request.headers.get("accept")
    if negotiation.prefers_html(accept):
        return await _documentation(settings.base_iri, {"Vary": "Accept"})
    choice = negotiation.choose(accept, "graph")
    if choice is None:
        offered = ", ".join(["text/html", *negotiation.GRAPH_MEDIA_TYPES])
        raise NotAcceptableError(f"no acceptable format; offered: {offered}", headers={"Vary": "Accept"})
    return await _rdf(settings.base_iri, *choice, {"Vary": "Accept"})


@router.head("/def/index.html", include_in_schema=False)
@router.get("/def/index.html", include_in_schema=False)
async def ontology_page(settings: SettingsDep) -> Response:
    return await _documentation(settings.base_iri, {})


@router.head("/def/ecrn.{extension}", include_in_schema=False)
@router.get("/def/ecrn.{extension}", summary="The ontology and its SKOS schemes in the RDF format of an extension",
            operation_id="ontology-file", response_class=Response,
            responses={200: {"content": {negotiation.media_type_of(fmt): {} for fmt in FILES.values()}},
                       404: {"description": "No such file", **PROBLEM}})
async def ontology_file(settings: SettingsDep, extension: Annotated[str, Path(
        description=f"One of {', '.join(FILES)}", examples=["ttl"])]) -> Response:
    if extension not in FILES:
        files = ", ".join(f"ecrn.{name}" for name in FILES)
        raise NotFoundError(f"there is no ecrn.{extension}; the ontology is at {files}")
    fmt = FILES[extension]
    return await _rdf(settings.base_iri, fmt, negotiation.media_type_of(fmt), {})


@router.head("/def/diagram.svg", include_in_schema=False)
@router.get("/def/diagram.svg", summary="The class diagram of the ontology (SVG drawn by Graphviz)",
            operation_id="ontology-diagram", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}},
                       503: {"description": "Graphviz is not installed on the server", **PROBLEM}})
async def ontology_diagram(settings: SettingsDep) -> Response:
    svg = await run_blocking(ontology_docs.diagram, settings.base_iri)
    if svg is None:
        raise ServiceUnavailableError("the class diagram needs Graphviz's `dot` program: missing or failed here")
    return Response(svg, media_type="image/svg+xml", headers=html.SECURITY_HEADERS)


async def _documentation(base: str, headers: dict[str, str]) -> Response:
    return HTMLResponse(await run_blocking(ontology_docs.page, base), headers={**html.SECURITY_HEADERS, **headers})


async def _rdf(base: str, fmt: str, media_type: str, headers: dict[str, str]) -> Response:
    return Response(await run_blocking(serialized, Namespaces(base), fmt), media_type=media_type, headers=headers)
