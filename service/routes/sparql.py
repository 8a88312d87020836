"""The SPARQL 1.1 query endpoint: GET, POST form and POST application/sparql-query."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response

from graph import Job, Namespaces, guard
from service import negotiation
from service.blocking import run_blocking
from service.deps import PoolDep, SettingsDep
from service.problems import NotAcceptableError, PayloadTooLargeError, ProblemError, UnsupportedMediaTypeError
from service.settings import Settings

router = APIRouter(tags=["sparql"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
Params = dict[str, list[str]]


@router.get("/sparql", summary="Run a SPARQL query given in the URL")
async def sparql_get(
    request: Request, pool: PoolDep, settings: SettingsDep,
    query: str | None = Query(None, description="The SPARQL query."),
    format: str | None = Query(None, description="A result format name or media type; overrides Accept."),
    timeout: float | None = Query(None, description="A shorter time limit in seconds than the server's."),
) -> Response:
    params = {k: request.query_params.getlist(k) for k in request.query_params}
    return await _answer(request, pool, settings, params)


@router.post("/sparql", summary="Run a SPARQL query sent in the body (form or application/sparql-query)")
async def sparql_post(request: Request, pool: PoolDep, settings: SettingsDep) -> Response:
    body = await request.body()
    if len(body) > settings.max_query_bytes:
        raise PayloadTooLargeError(f"the body has {len(body)} bytes; the limit is {settings.max_query_bytes}")
    params = {k: request.query_params.getlist(k) for k in request.query_params}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == SPARQL_QUERY:
        params["query"] = [*params.get("query", []), _utf8(body)]
    elif media_type == FORM:
        for name, values in parse_qs(_utf8(body), keep_blank_values=True).items():
            params[name] = [*params.get(name, []), *values]
    else:
        raise UnsupportedMediaTypeError(f"POST a query as {FORM} or {SPARQL_QUERY}, not {media_type or 'nothing'}")
    return await _answer(request, pool, settings, params)


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


def _time_limit(params: Params, settings: Settings) -> float:
    asked = _one(params, "timeout")
    if asked is None:
        return settings.query_timeout
    try:
        seconds = float(asked)
    except ValueError:
        raise ProblemError(f"timeout must be a number of seconds, not {asked!r}") from None
    if not seconds > 0:
        raise ProblemError("timeout must be more than 0 seconds")
    return min(seconds, settings.query_timeout)


def _formats(accept: str | None, fmt: str | None) -> dict[str, str | None]:
    """The format to answer each kind of result with: by the 'format' parameter, else by Accept."""
    choices = {kind: negotiation.by_format(fmt, kind) if fmt else negotiation.choose(accept, kind)
               for kind in negotiation.TABLES}
    return {kind: choice[0] if choice else None for kind, choice in choices.items()}


async def _answer(request: Request, pool: PoolDep, settings: Settings, params: Params) -> Response:
    query = _one(params, "query")
    if "update" in params:
        raise ProblemError("send a query or an update, not both")
    if not query:
        raise ProblemError("no query: pass it as the 'query' parameter or POST it")
    if len(query.encode()) > settings.max_query_bytes:
        raise PayloadTooLargeError(f"the query is longer than {settings.max_query_bytes} bytes")
    guard.check(query, settings.max_nesting, frozenset(settings.service_allowlist))
    job = Job(query, _formats(request.headers.get("accept"), _one(params, "format")), settings.row_cap,
              settings.union_default_graph, Namespaces(settings.base_iri).prefixes())
    answer = await run_blocking(pool.execute, job, _time_limit(params, settings))
    if answer.fmt is None:
        offered = ", ".join(negotiation.TABLES[answer.kind])
        raise NotAcceptableError(f"no acceptable format for a {answer.kind} result; offered: {offered}")
    headers = {"Vary": "Accept"}
    if answer.truncated:
        headers["Result-Truncated"] = f"true; limit={settings.row_cap}"
    return Response(answer.body, media_type=negotiation.media_type_of(answer.fmt), headers=headers)
