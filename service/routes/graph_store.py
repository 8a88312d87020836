"""The SPARQL 1.1 Graph Store HTTP Protocol at /rdf-graph-store: indirect identification (?graph=, ?default)
and direct identification (a path below the endpoint, whose IRI is the graph's)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from graph import EmbeddedStore, Job, Namespaces, writes
from graph.store import insert_data, is_iri
from service import negotiation
from service.auth import require_writer
from service.blocking import answer_response, run_blocking, run_query, stream_query
from service.deps import PoolDep, SettingsDep, StoreDep
from service.openapi import answers
from service.problems import (
    NotAcceptableError,
    NotFoundError,
    PayloadTooLargeError,
    ProblemError,
    UnsupportedMediaTypeError,
)
from service.settings import Settings

router = APIRouter(tags=["graph store"])
PATH = "/rdf-graph-store"
DIRECT = PATH + "/{path:path}"  # direct identification: the request IRI names the graph
UPLOAD_FORMATS = {**{m: f for m, f in negotiation.GRAPH_MEDIA_TYPES.items() if f not in ("nquads", "trig")},
                  "application/x-turtle": "turtle", "text/plain": "ntriples"}
GraphParam = Annotated[str | None, Query(description="IRI of the named graph (indirect identification).",
                                         examples=["https://w3id.org/ecrn/graph/data/regions"])]
WrittenGraphParam = Annotated[str | None, Query(description="IRI of the named graph (indirect identification).",
                                                examples=["https://example.org/graph/notes"])]
DefaultParam = Annotated[str | None, Query(description="Present (empty) to address the default graph.")]
EXAMPLE_TURTLE = '<https://example.org/notes/1> <http://www.w3.org/2000/01/rdf-schema#comment> "A note"@en .\n'
BODY_SCHEMAS = {"jsonld": {"type": ["object", "array"]}}  # a JSON-LD document is JSON; the other formats are text
UPLOAD = {"requestBody": {"required": True, "content": {
    media_type: {"schema": BODY_SCHEMAS.get(fmt, {"type": "string"}),
                 **({"example": EXAMPLE_TURTLE} if fmt == "turtle" else {})}
    for media_type, fmt in UPLOAD_FORMATS.items()}}}
CONTENT: dict[int | str, dict[str, Any]] = {
    200: answers("The graph's triples, in the negotiated RDF format", *negotiation.GRAPH_MEDIA_TYPES)}
CREATED: dict[int | str, dict[str, Any]] = {201: {"description": "The graph did not exist and was created"}}


def _target(request: Request) -> str | None:
    """The addressed graph: its IRI, or None for the default graph. A path below the endpoint identifies the graph
    directly (the request IRI is the graph IRI); at the endpoint, exactly one of ?graph= and ?default does."""
    if request.path_params.get("path"):
        if request.query_params:
            raise ProblemError("a graph addressed by its own IRI takes no ?graph= or ?default")
        return _iri(str(request.url.replace(query="", fragment="")))  # the path comes decoded: '%3E' is '>'
    graphs = request.query_params.getlist("graph")
    default = "default" in request.query_params
    if default == bool(graphs) or len(graphs) > 1:
        raise ProblemError("address one graph: either ?default or ?graph=<IRI>")
    return _iri(graphs[0]) if graphs else None


def _request_iri(request: Request) -> str:
    """The request IRI: the base of relative IRIs in an upload (uvicorn lets a raw '<' in the query by)."""
    return _iri(str(request.url))


def _iri(value: str) -> str:
    """`value`, once the engine takes it as an IRI: it is written between angle brackets in SPARQL, or is a base."""
    if not is_iri(value):
        raise ProblemError(f"not an absolute IRI: {value!r}")
    return value


async def _exists(pool: PoolDep, graph: str | None, settings: Settings) -> bool:
    if graph is None:
        return True
    # a graph holding a triple, or (where the store keeps them) an empty one: Virtuoso keeps none, and finds every
    # GRAPH <g> { }
    exists = f"ASK {{ {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} UNION {{ GRAPH ?g {{ }} FILTER(?g = <{graph}>) }} }}"
    answer = await run_query(pool, Job(exists, {"ask": "json"}, 1, union=False), settings.query_timeout)
    return b"true" in answer.body


async def _readable(request: Request, pool: PoolDep, settings: Settings) -> tuple[str | None, tuple[str, str]]:
    """The addressed graph, which must exist, and the RDF format to send it in."""
    target = _target(request)
    choice = negotiation.choose(request.headers.get("accept"), "graph")
    if choice is None:
        raise NotAcceptableError("no acceptable RDF format; offered: " + ", ".join(negotiation.GRAPH_MEDIA_TYPES))
    if not await _exists(pool, target, settings):
        raise NotFoundError(f"there is no graph <{target}>")
    return target, choice


@router.get(DIRECT, summary="Get the content of a graph identified by its own IRI", include_in_schema=False)
@router.get(PATH, summary="Get the content of a graph", operation_id="graph-get", response_class=Response,
            responses=CONTENT)
async def get_graph(request: Request, pool: PoolDep, settings: SettingsDep, graph: GraphParam = None,
                    default: DefaultParam = None) -> Response:
    target, choice = await _readable(request, pool, settings)
    scope = f"GRAPH <{target}> {{ ?s ?p ?o }}" if target else "?s ?p ?o"
    job = Job(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {scope} }}", {"graph": choice[0]}, 2**62, union=False)
    head, rest = await stream_query(pool, job, settings.query_timeout)
    return answer_response(head, rest, choice[1], {"Vary": "Accept"})


@router.head(DIRECT, summary="Headers of a directly identified graph's content", include_in_schema=False)
@router.head(PATH, summary="Headers of a graph's content, without the content", operation_id="graph-head",
             response_class=Response, responses=CONTENT)
async def head_graph(request: Request, pool: PoolDep, settings: SettingsDep, graph: GraphParam = None,
                     default: DefaultParam = None) -> Response:
    _, choice = await _readable(request, pool, settings)
    return Response(status_code=200, media_type=choice[1], headers={"Vary": "Accept"})


@router.put(DIRECT, summary="Replace the content of a graph identified by its own IRI", include_in_schema=False)
@router.put(PATH, summary="Replace a graph's content (creates it if need be)", operation_id="graph-put",
            openapi_extra=UPLOAD, response_class=Response, status_code=204, responses=CREATED)
async def put_graph(request: Request, pool: PoolDep, store: StoreDep, settings: SettingsDep,
                    graph: WrittenGraphParam = None, default: DefaultParam = None) -> Response:
    require_writer(request, settings)
    target = _target(request)
    existed = await _exists(pool, target, settings)
    upload = await _upload(request, settings)
    drop = f"DROP SILENT GRAPH <{target}> ;\n" if target else "DROP SILENT DEFAULT ;\n"
    create = f"CREATE SILENT GRAPH <{target}> ;\n" if target else ""
    await _commit(request, pool, store, settings, drop + create + insert_data(upload, target), upload, target)
    return Response(status_code=204 if existed else 201)


@router.post(DIRECT, summary="Add to the content of a graph identified by its own IRI", include_in_schema=False)
@router.post(PATH, summary="Add to a graph's content; without a graph, create a new graph (201, Location)",
             operation_id="graph-post", openapi_extra=UPLOAD, response_class=Response, status_code=204,
             responses={201: {"description": "Created: a new graph (named by Location) or the one addressed"}})
async def post_graph(request: Request, pool: PoolDep, store: StoreDep, settings: SettingsDep,
                     graph: WrittenGraphParam = None, default: DefaultParam = None) -> Response:
    require_writer(request, settings)
    created = not request.query_params and not request.path_params.get("path")
    target = f"{settings.base_iri}graph/uploads/{uuid.uuid4()}" if created else _target(request)
    existed = not created and await _exists(pool, target, settings)
    upload = await _upload(request, settings)
    create = f"CREATE SILENT GRAPH <{target}> ;\n" if target else ""
    await _commit(request, pool, store, settings, create + insert_data(upload, target), upload, None)
    if created:
        return Response(status_code=201, headers={"Location": str(target)})
    return Response(status_code=204 if existed else 201)


@router.delete(DIRECT, summary="Delete a graph identified by its own IRI", include_in_schema=False)
@router.delete(PATH, summary="Delete a graph", operation_id="graph-delete", response_class=Response,
               status_code=204)
async def delete_graph(request: Request, pool: PoolDep, store: StoreDep, settings: SettingsDep,
                       graph: WrittenGraphParam = None, default: DefaultParam = None) -> Response:
    require_writer(request, settings)
    target = _target(request)
    if not await _exists(pool, target, settings):
        raise NotFoundError(f"there is no graph <{target}>")
    drop = f"DROP GRAPH <{target}>" if target else "DROP DEFAULT"
    await _commit(request, pool, store, settings, drop, EmbeddedStore(), target)
    return Response(status_code=204)


async def _commit(request: Request, pool: PoolDep, store: StoreDep, settings: Settings, update: str,
                  upload: EmbeddedStore, replaced: str | None) -> None:
    change = writes.Change(update, base_iri=_request_iri(request), subjects=upload.subjects(),
                           graphs=(replaced,) if replaced or "default" in request.query_params else ())
    await run_blocking(writes.commit, pool, store, change, Namespaces(settings.base_iri), settings.query_timeout)


async def _upload(request: Request, settings: Settings) -> EmbeddedStore:
    """The request's RDF, parsed into a staging store; multipart/form-data may carry several files."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    staging = EmbeddedStore()
    if media_type == "multipart/form-data":
        form = await request.form()
        for part in form.values():
            if isinstance(part, UploadFile):
                part_type = (part.content_type or "").split(";")[0].strip().lower()
                await run_blocking(_parse, staging, await part.read(), part_type, settings, _request_iri(request))
        return staging
    await run_blocking(_parse, staging, await request.body(), media_type, settings, _request_iri(request))
    return staging


def _parse(staging: EmbeddedStore, data: bytes, media_type: str, settings: Settings, base: str) -> None:
    if media_type not in UPLOAD_FORMATS:
        offered = ", ".join(UPLOAD_FORMATS)
        raise UnsupportedMediaTypeError(f"send RDF as one of {offered}, not {media_type or 'nothing'}")
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLargeError(f"the upload has {len(data)} bytes; the limit is {settings.max_upload_bytes}")
    staging.parse_bytes(data, UPLOAD_FORMATS[media_type], None, "request body", base_iri=base)
