"""The SPARQL 1.1 query endpoint: GET, POST form and POST application/sparql-query."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response

from graph import EmbeddedStore, Namespaces
from service import negotiation
from service.blocking import run_blocking
from service.deps import SettingsDep, StoreDep
from service.problems import NotAcceptableError, PayloadTooLargeError, ProblemError, UnsupportedMediaTypeError
from service.settings import Settings

router = APIRouter(tags=["sparql"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"


@router.get("/sparql", summary="Run a SPARQL query given in the URL")
async def sparql_get(
    request: Request, store: StoreDep, settings: SettingsDep,
    query: str | None = Query(None, description="The SPARQL query."),
    format: str | None = Query(None, description="A result format name or media type; overrides Accept."),
) -> Response:
    params = {k: request.query_params.getlist(k) for k in request.query_params}
    return await _answer(request, store, settings, params)


@router.post("/sparql", summary="Run a SPARQL query sent in the body (form or application/sparql-query)")
async def sparql_post(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    body = await request.body()
    if len(body) > settings.max_query_bytes:
        raise PayloadTooLargeError(f"the body has {len(body)} bytes; the limit is {settings.max_query_bytes}")
    params = {k: request.query_params.getlist(k) for k in request.query_params}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == SPARQL_QUERY:
        params["query"] = [_utf8(body)]
    elif media_type == FORM:
        params.update(parse_qs(_utf8(body), keep_blank_values=True))
    else:
        raise UnsupportedMediaTypeError(f"POST a query as {FORM} or {SPARQL_QUERY}, not {media_type or 'nothing'}")
    return await _answer(request, store, settings, params)


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProblemError(f"the body is not UTF-8 (byte {error.start})") from None


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise ProblemError(f"give the '{name}' parameter once, not {len(values)} times")
    return values[0] if values else None


async def _answer(request: Request, store: EmbeddedStore, settings: Settings, params: dict[str, list[str]]) -> Response:
    query = _one(params, "query")
    if not query:
        raise ProblemError("no query: pass it as the 'query' parameter or POST it")
    fmt = _one(params, "format")
    accept = request.headers.get("accept")
    options = {"union": settings.union_default_graph, "prefixes": Namespaces(settings.base_iri).prefixes()}
    body, media_type = await run_blocking(_execute, store, query, options, accept, fmt)
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


def _execute(store: EmbeddedStore, query: str, options: dict[str, Any], accept: str | None,
             fmt: str | None) -> tuple[bytes, str]:
    result = store.query(query, **options)
    choice = negotiation.by_format(fmt, result.kind) if fmt else negotiation.choose(accept, result.kind)
    if choice is None:
        offered = ", ".join(negotiation.TABLES[result.kind])
        raise NotAcceptableError(f"no acceptable format for a {result.kind} result; offered: {offered}")
    name, media_type = choice
    return result.serialize(name), media_type
