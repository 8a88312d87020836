"""Named queries as a REST API: /api/queries lists them, /api/queries/{name} runs one.

Each queries/*.rq file becomes its own operation (the file stem is the path and the OpenAPI operationId), with
its declared parameters typed in the OpenAPI document and bound as RDF terms when it runs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from graph import NamedQuery, Namespaces
from graph.schemas import vocabulary
from service import jsonld, negotiation
from service.blocking import run_blocking, run_query
from service.fairness import client_of
from service.openapi import answers
from service.problems import NotFoundError, ProblemError
from service.routing import ReadRouter
from service.settings import Settings

PAGING = {"limit", "offset", "format"}
ROWS = answers("Rows as JSON (format=json), CSV or SPARQL JSON; a query that builds a graph answers JSON-LD",
               "application/json", "text/csv", "application/sparql-results+json", "application/ld+json")
DEFAULT_LIMIT = 100
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMBERS = {XSD + "integer", XSD + "int", XSD + "long", XSD + "decimal", XSD + "double", XSD + "float"}
OPENAPI_TYPES = {"integer": {"type": "integer"}, "decimal": {"type": "number"}, "date": {"type": "string",
                 "format": "date"}, "iri": {"type": "string", "format": "iri"}}


def router(queries: dict[str, NamedQuery], settings: Settings) -> APIRouter:
    """The routes: the list, and one operation per named query."""
    api = ReadRouter(prefix="/api", tags=["named queries"])

    @api.get("/queries", summary="Every named query with its parameters", operation_id="list-queries")
    async def list_queries(request: Request) -> list[dict[str, Any]]:
        return [_describe(q, str(request.url_for(q.name))) for q in queries.values()]

    for query in queries.values():
        api.add_api_route(f"/queries/{query.name}", _endpoint(query, settings), methods=["GET"], name=query.name,
                          operation_id=query.name, summary=query.summary, description=query.description,
                          openapi_extra={"parameters": _openapi_parameters(query, settings)},
                          response_class=Response, responses={200: ROWS})

    @api.get("/queries/{name}", include_in_schema=False)
    async def unknown_query(name: str) -> None:
        raise NotFoundError(f"there is no named query '{name}'; /api/queries lists them")

    return api


def _describe(query: NamedQuery, url: str) -> dict[str, Any]:
    params = [{"name": p.name, "type": p.type, "required": p.required, "default": p.default, "example": p.example,
               "description": p.description, **({"values": list(p.values)} if p.values else {})}
              for p in query.params.values()]
    return {"name": query.name, "summary": query.summary, "description": query.description,
            "tags": list(query.tags), "parameters": params, "url": url}


def _openapi_parameters(query: NamedQuery, settings: Settings) -> list[dict[str, Any]]:
    declared = [{"name": p.name, "in": "query", "required": p.required, "description": p.description,
                 "schema": {**OPENAPI_TYPES.get(p.type, {"type": "string"}),
                            **({"enum": list(p.values)} if p.values else {}),
                            **({"default": p.default} if p.default is not None else {})},
                 **({"example": p.example} if p.example else {})} for p in query.params.values()]
    paging = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": settings.row_cap,
                                                    "default": DEFAULT_LIMIT}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "sparql-json"],
                                                     "default": "json"}},
    ]
    return declared + paging


def _endpoint(query: NamedQuery, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        args = _single_values(request)
        limit, offset = _number(args, "limit", DEFAULT_LIMIT, 1, settings.row_cap), _number(args, "offset", 0, 0)
        fmt = args.pop("format", "json")
        if fmt not in ("json", "csv", "sparql-json"):
            raise ProblemError(f"format must be json, csv or sparql-json, not {fmt!r}")
        speaks = "lang" in query.params and query.params["lang"].type == "language"
        if speaks:
            args["lang"] = negotiation.choose_language(args.get("lang"), request.headers.get("accept-language"))
        job = query.job(args, Namespaces(settings.base_iri), cap=min(offset + limit + 1, settings.row_cap))
        async with request.app.state.fairness.turn(client_of(request)) as turn:
            answer = await run_query(request.app.state.pool, job, settings.query_timeout)
            turn.seconds = answer.seconds
        if answer.kind == "graph":
            return await _graph(answer.body, fmt, settings)
        results = json.loads(answer.body)
        page, more = results["results"]["bindings"][offset:offset + limit], answer.count > offset + limit
        headers = _links(request, args, limit, offset, more, fmt)
        if speaks:
            headers |= {"Content-Language": args["lang"], "Vary": "Accept-Language"}
        truncated = answer.truncated and not more  # the row cap, not the page, cut the answer short
        if truncated:
            headers["Result-Truncated"] = f"true; limit={settings.row_cap}"
        if fmt == "sparql-json":
            return JSONResponse({**results, "results": {"bindings": page}}, headers=headers,
                                media_type="application/sparql-results+json")
        rows = [{k: _plain(v) for k, v in binding.items()} for binding in page]
        if fmt == "csv":
            return Response(_csv(results["head"]["vars"], rows), media_type="text/csv", headers=headers)
        total = None if more or truncated else offset + len(page)
        return JSONResponse({"rows": rows, "limit": limit, "offset": offset, "total": total, "truncated": truncated},
                            headers=headers)

    return run


async def _graph(ntriples: bytes, fmt: str, settings: Settings) -> Response:
    """A CONSTRUCT query's answer: JSON-LD framed with the published context (every node at the top)."""
    if fmt != "json":
        raise ProblemError(f"this query answers a graph, given as JSON-LD (format json), not {fmt}")
    body = await run_blocking(jsonld.frame, ntriples, vocabulary(Namespaces(settings.base_iri)), {})
    return Response(body, media_type="application/ld+json")


def _single_values(request: Request) -> dict[str, str]:
    args: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in args:
            raise ProblemError(f"give the '{name}' parameter once")
        args[name] = value
    return args


def _number(args: dict[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    raw = args.pop(name, None)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise ProblemError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        raise ProblemError(f"{name} must be between {low} and {high}" if high else f"{name} must be at least {low}")
    return value


def _plain(term: dict[str, str]) -> Any:
    """A SPARQL JSON term as a plain JSON value: IRIs as strings, numbers as numbers where exact."""
    value, datatype = term["value"], term.get("datatype")
    if term["type"] == "bnode":
        return "_:" + value
    if datatype == XSD + "boolean":
        return value == "true"
    if datatype in NUMBERS:
        number = Decimal(value)
        exact: Any = int(number) if number == number.to_integral_value() else float(number)
        return exact if Decimal(str(exact)) == number else value
    return value


def _links(request: Request, args: dict[str, str], limit: int, offset: int, more: bool, fmt: str) -> dict[str, str]:
    """RFC 8288 Link header: next, prev and first pages."""
    def page(start: int) -> str:
        query = {**args, "limit": str(limit), "offset": str(start), **({"format": fmt} if fmt != "json" else {})}
        return f"{request.url.replace(query=urlencode(query))}"

    links = [f'<{page(0)}>; rel="first"']
    if more:
        links.append(f'<{page(offset + limit)}>; rel="next"')
    if offset:
        links.append(f'<{page(max(offset - limit, 0))}>; rel="prev"')
    return {"Link": ", ".join(links)}


def _csv(variables: list[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=variables, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()
