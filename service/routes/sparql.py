"""The SPARQL 1.1 Protocol endpoint: queries by GET and POST, updates by POST, with the protocol's dataset.

A GET from a browser (HTML before any RDF or results type in Accept, and no `format`) gets the query page instead:
the editor, and the answer to the query in the URL as a table (service/query_page.py).
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Query, Request, Response

from graph import GraphError, Job, Namespaces, guard, ordering, writes
from graph.store import is_iri
from service import description, negotiation, query_page
from service.answer_cache import AnswerCache, Cached, cacheable, etag_of
from service.auth import require_writer
from service.backend import Backend, Pool
from service.blocking import answer_response, run_blocking, run_query, stream_query
from service.fairness import client_of
from service.openapi import NOT_MODIFIED, answers
from service.problems import NotAcceptableError, PayloadTooLargeError, ProblemError, UnsupportedMediaTypeError
from service.routing import ReadRouter
from service.settings import Settings
from service.telemetry import query_took

router = ReadRouter(tags=["sparql"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
Params = dict[str, list[str]]
CHECKED_TEXTS, CHECKED_MAX_CHARS = 256, 16_384  # at most 4 Mi characters of texts kept, and their rewrites
ANSWER_KINDS = ("select", "ask", "graph")  # the kinds of answer a query has (negotiation.TABLES has documents too)


EXAMPLE_QUERY = "SELECT ?region ?label WHERE { ?region a ecrn:Region ; rdfs:label ?label } ORDER BY ?label LIMIT 10"
EXAMPLE_UPDATE = ("INSERT DATA { GRAPH <https://example.org/graph/notes> { <https://example.org/notes/1> "
                  "<http://www.w3.org/2000/01/rdf-schema#comment> \"A note\"@en } }")
EXAMPLE_GRAPH = "https://w3id.org/ecrn/graph/data/regions"
POST_BODY = {"requestBody": {"required": True, "content": {
    FORM: {"schema": {"type": "object", "properties": {"query": {"type": "string"}, "update": {"type": "string"}}},
           "example": {"query": EXAMPLE_QUERY}},
    SPARQL_QUERY: {"schema": {"type": "string"}, "example": EXAMPLE_QUERY},
    SPARQL_UPDATE: {"schema": {"type": "string"}, "example": EXAMPLE_UPDATE}}}}
ANSWER_TYPES = [*negotiation.RESULT_MEDIA_TYPES, *negotiation.GRAPH_MEDIA_TYPES]
ANSWERS = "Results (SELECT, ASK) or RDF (CONSTRUCT, DESCRIBE; without a query, the service description), negotiated"


@router.get("/sparql", summary="Run a SPARQL query given in the URL; without one, the service description "
                               "(browsers get the query page)",
            operation_id="sparql-query", response_class=Response,
            responses={200: answers(ANSWERS + "; the query page for browsers", *ANSWER_TYPES, "text/html"),
                       304: NOT_MODIFIED})
async def sparql_get(
    request: Request,
    query: Annotated[str | None, Query(description="The SPARQL query.", examples=[EXAMPLE_QUERY])] = None,
    default_graph_uri: Annotated[list[str] | None, Query(alias="default-graph-uri", examples=[[EXAMPLE_GRAPH]],
                                                         description="Default graph of the dataset.")] = None,
    named_graph_uri: Annotated[list[str] | None, Query(alias="named-graph-uri",
                                                       description="Named graphs of the dataset.")] = None,
    format: Annotated[str | None, Query(description="A result format name or media type; overrides Accept.",
                                        examples=["csv"])] = None,
    timeout: Annotated[float | None, Query(description="A shorter time limit in seconds than the server's.",
                                           examples=[10])] = None,
) -> Response:
    pool: Pool = request.app.state.pool  # not by Depends, as in sparql_post
    settings: Settings = request.app.state.settings
    params = _url_params(request)
    if "update" in params:
        raise ProblemError("updates must be POSTed")
    _asked_timeout(params)
    for_people = "format" not in params and negotiation.prefers_html(request.headers.get("accept"))
    if "query" not in params:
        if for_people:
            return query_page.page(request, settings, None)
        return await _service_description(request, settings)
    return await (_page if for_people else _query)(request, pool, settings, params)


async def _service_description(request: Request, settings: Settings) -> Response:
    stats = await run_blocking(request.app.state.statistics.get)
    return description.respond(description.service_graph(stats, settings, _endpoint(request)),
                               request.headers.get("accept"))


@router.post("/sparql", summary="Run a query (form or application/sparql-query) or an update (form or "
                                "application/sparql-update)", operation_id="sparql-query-or-update",
             openapi_extra=POST_BODY, response_class=Response,
             responses={200: answers(ANSWERS, *ANSWER_TYPES), 204: {"description": "The update was applied"},
                        304: NOT_MODIFIED})
async def sparql_post(request: Request) -> Response:
    # the app's state read here, not by Depends: FastAPI solves each dependency anew for every request (10 to 20 µs)
    pool: Pool = request.app.state.pool
    store: Backend = request.app.state.store
    settings: Settings = request.app.state.settings
    body = await request.body()
    if len(body) > settings.max_query_bytes:
        raise PayloadTooLargeError(f"the body is longer than the limit of {settings.max_query_bytes} bytes")
    params = _url_params(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in (SPARQL_QUERY, SPARQL_UPDATE):
        params.setdefault("query" if media_type == SPARQL_QUERY else "update", []).append(_utf8(body))
    elif media_type == FORM:
        for name, values in parse_qs(_utf8(body), keep_blank_values=True).items():
            params.setdefault(name, []).extend(values)
    else:
        raise UnsupportedMediaTypeError(
            f"POST a query as {FORM} or {SPARQL_QUERY}, an update as {FORM} or {SPARQL_UPDATE}; "
            f"not {media_type or 'nothing'}")
    if "query" in params and "update" in params:
        raise ProblemError("send a query or an update, not both")
    if "update" in params:
        return await _update(request, pool, store, settings, params)
    return await _query(request, pool, settings, params)


def _url_params(request: Request) -> Params:
    return {k: request.query_params.getlist(k) for k in request.query_params}


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProblemError(f"the body is not UTF-8 (byte {error.start})") from None


def _one(params: Params, name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise ProblemError(f"give the '{name}' parameter once, not {len(values)} times")
    return values[0] if values else None


def _text(params: Params, name: str, settings: Settings, store: Backend,
          vouched: ordering.Vouched = ordering.UNVOUCHED) -> tuple[str, str | None, frozenset[str]]:
    """The query or update text, checked by the guard, with its sort keys made a total order for an engine that
    needs it and its SERVICE calls capped; the same with every sort class when what the store vouched for left some
    out (else None); and the remote endpoints it reaches."""
    text = _one(params, name)
    if not text:
        raise ProblemError(f"no {name}: pass it as the '{name}' parameter or POST it")
    if len(text.encode()) > settings.max_query_bytes:
        raise PayloadTooLargeError(f"the {name} is longer than {settings.max_query_bytes} bytes")
    checked = _checked if len(text) <= CHECKED_MAX_CHARS else _checked.__wrapped__
    return checked(text, settings.max_nesting, frozenset(settings.service_allowlist), store.sort_classes,
                   settings.service_row_cap, vouched)


@lru_cache(maxsize=CHECKED_TEXTS)
def _checked(text: str, max_nesting: int, allowlist: frozenset[str], sort_classes: bool, row_cap: int,
             vouched: ordering.Vouched) -> tuple[str, str | None, frozenset[str]]:
    """The guard's verdict and the rewrites of a text, kept for the texts most recently asked (they are asked
    again: paging, dashboards, named queries): checking a text of the benchmark's mix takes about 50 µs."""
    remote = guard.check(text, max_nesting, allowlist)
    classed = ordering.total_order(text) if sort_classes else text
    lean = ordering.total_order(text, vouched) if sort_classes and vouched.predicates else classed
    if remote:
        classed, lean = guard.cap_services(classed, row_cap), guard.cap_services(lean, row_cap)
    return lean, (classed if lean != classed else None), remote


@lru_cache(maxsize=4)
def _engine_prefixes(base_iri: str) -> tuple[tuple[str, str], ...]:
    """The prefixes queries may use undeclared."""
    return tuple(Namespaces(base_iri).prefixes().items())


def _time_limit(params: Params, settings: Settings, remote: frozenset[str]) -> float:
    """The server's limit (the federation limit when the query reaches out), or the client's lower one."""
    limit = min(settings.query_timeout, settings.service_timeout) if remote else settings.query_timeout
    seconds = _asked_timeout(params)
    if seconds is None:
        return limit
    if not seconds > 0:
        raise ProblemError("timeout must be more than 0 seconds")
    return min(seconds, limit)


def _asked_timeout(params: Params) -> float | None:
    """The client's `timeout`, a number as the API documents it (checked on every GET, as FastAPI checked it)."""
    asked = _one(params, "timeout")
    if asked is None:
        return None
    try:
        return float(asked)
    except ValueError:
        raise ProblemError(f"timeout must be a number of seconds, not {asked!r}") from None


def _formats(accept: str | None, params: Params) -> dict[str, str | None]:
    """The format to answer each kind of result with: the first 'format' value that names one for the kind
    (clients repeat the parameter and use names like 'json-ld' or media-type lists), else by Accept."""
    return {kind: _format_for(kind, accept, params.get("format", [])) for kind in ANSWER_KINDS}


def _format_for(kind: str, accept: str | None, asked: list[str]) -> str | None:
    for fmt in asked:
        for option in fmt.split(","):
            if choice := negotiation.by_format(option.strip(), kind):
                return choice[0]
    choice = negotiation.choose(accept, kind)
    return choice[0] if choice else None


def _endpoint(request: Request) -> str:
    """The endpoint's own IRI, as reached: the base IRI of queries and updates."""
    return str(request.url.replace(query="", fragment=""))


def _job(request: Request, pool: Pool, settings: Settings, params: Params,
         formats: dict[str, str | None]) -> tuple[Job, frozenset[str]]:
    """The query of the request as a job for the pool, and the remote endpoints it reaches."""
    generation, predicates = pool.vouched()
    vouched = ordering.Vouched(predicates, _engine_prefixes(settings.base_iri))
    query, classed, remote = _text(params, "query", settings, request.app.state.store, vouched)
    dataset = "default-graph-uri" in params or "named-graph-uri" in params
    for name in ("default-graph-uri", "named-graph-uri"):
        for iri in params.get(name, []):
            if not is_iri(iri):
                raise ProblemError(f"{name} must be an absolute IRI, not {iri!r}")
    job = Job(query, formats, settings.row_cap, settings.union_default_graph,
              Namespaces(settings.base_iri).prefixes(), _endpoint(request),
              params.get("default-graph-uri", []) if dataset else None,
              params.get("named-graph-uri", []) if dataset else None, remote=bool(remote),
              vouched_at=generation, classed=classed)
    return job, remote


async def _page(request: Request, pool: Pool, settings: Settings, params: Params) -> Response:
    """The query page with the answer as a table, or with the error its problem response would give."""
    text = params["query"][0]
    try:
        job, remote = _job(request, pool, settings, params, query_page.FORMATS)
        limit = _time_limit(params, settings, remote)
        async with request.app.state.fairness.turn(client_of(request)) as turn:
            answer = await run_query(pool, job, limit)
            turn.seconds = answer.seconds
    except (GraphError, ProblemError) as error:
        return query_page.failed(request, settings, text, error)
    return query_page.answered(request, settings, text, answer)


async def _query(request: Request, pool: Pool, settings: Settings, params: Params) -> Response:
    job, remote = _job(request, pool, settings, params, _formats(request.headers.get("accept"), params))
    if not any(job.formats.values()):  # no kind of answer could be sent: say so before a worker runs the query
        raise NotAcceptableError("no acceptable format for any kind of result; offered: " +
                                 ", ".join(dict.fromkeys(t for k in ANSWER_KINDS for t in negotiation.TABLES[k])))
    cache: AnswerCache = request.app.state.answers
    generation = pool.generation
    key = (generation, job.sparql, tuple(sorted(job.formats.items())), job.union, job.base_iri,
           tuple(job.default_graphs or ()), tuple(job.named_graphs or ()), job.cap)
    keep = cacheable(job.sparql, remote)
    cached = cache.get(key) if keep else None
    if cached is None:
        started, limit = time.perf_counter(), _time_limit(params, settings, remote)
        try:
            async with request.app.state.fairness.turn(client_of(request)) as turn:
                head, rest = await stream_query(pool, job, limit)
                turn.seconds = head.seconds
        finally:  # a query stopped at its time limit is a slow query too
            query_took(request.app.state.metrics, settings.slow_query_seconds, time.perf_counter() - started,
                       job.sparql, getattr(request.state, "request_id", None))
        if rest is None and keep:
            cache.forget_before(generation)
            cached = Cached(head, etag_of(generation, head.body))
            cache.put(key, cached)
    else:
        head, rest = cached.answer, None
    if head.fmt is None:
        offered = ", ".join(negotiation.TABLES[head.kind])
        raise NotAcceptableError(f"no acceptable format for a {head.kind} result; offered: {offered}")
    headers = {"Vary": "Accept"}
    if head.truncated:
        headers["Result-Truncated"] = f"true; limit={settings.row_cap}"
        request.app.state.metrics.truncations.inc()
    if cached is not None:
        headers |= {"ETag": cached.etag, "Cache-Control": "public, no-cache"}
        if cached.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
    return answer_response(head, rest, negotiation.media_type_of(head.fmt), headers)


async def _update(request: Request, pool: Pool, store: Backend, settings: Settings, params: Params) -> Response:
    require_writer(request, settings)
    text, _, _ = _text(params, "update", settings, store)
    update = guard.with_using(text, params.get("using-graph-uri", []), params.get("using-named-graph-uri", []))
    change = writes.Change(update, base_iri=_endpoint(request))
    await run_blocking(writes.commit, pool, store, change, Namespaces(settings.base_iri), settings.query_timeout)
    return Response(status_code=204)
