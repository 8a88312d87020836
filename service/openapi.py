"""The OpenAPI document: FastAPI's, with the JSON Schemas generated from the shapes as components, and the errors
as this service sends them: RFC 9457 problem details (service/problems.py) with status 400 for a bad request, where
FastAPI documents 422 and its own error body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from graph import Namespaces
from graph.schemas import vocabulary
from service.problems import PROBLEM_TYPE
from service.settings import Settings

PROBLEM_SCHEMA: dict[str, Any] = {
    "description": "RFC 9457 problem details; `type` is https://w3id.org/ecrn/problems/{slug}",
    "type": "object", "required": ["type", "title", "status", "detail"],
    "properties": {"type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
                   "status": {"type": "integer", "minimum": 400, "maximum": 599}, "detail": {"type": "string"}}}
PROBLEM = {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}},
           "text/html": {"schema": {"type": "string"}}}  # the same problem as a page, for browsers
CLIENT_ERROR = {"description": "A problem with the request (bad parameter, not found, not acceptable, …)",
                "content": PROBLEM}
UNAVAILABLE = {"description": "A query ran past its time limit, no query worker was free, or the store is unavailable",
               "content": PROBLEM}
REMOTE = {"description": "A SERVICE endpoint failed (what it said is not passed on)", "content": PROBLEM}
# Operations that never wait on a query worker or the store: they answer no 503.
NEVER_UNAVAILABLE = frozenset({"health", "metrics", "jsonld-context", "list-queries", "ontology", "ontology-file"})
FEDERATING = frozenset({"sparql-query", "sparql-query-or-update"})
NOT_MODIFIED = {"description": "Not modified: the client's copy (If-None-Match, If-Modified-Since) is current"}
# Operations that write: they need the write token (an update POSTed to /sparql does; a query does not).
TOKEN_NEEDED: list[dict[str, list[str]]] = [{"writeToken": []}]
SECURITY = {"graph-put": TOKEN_NEEDED, "graph-post": TOKEN_NEEDED, "graph-delete": TOKEN_NEEDED,
            "sparql-query-or-update": [{}, *TOKEN_NEEDED]}
WRITE_TOKEN = {"type": "http", "scheme": "bearer", "description": "The configured write token (ECRN_WRITE_TOKEN)"}


def answers(description: str, *media_types: str) -> dict[str, Any]:
    """A success response of a route that answers in these media types (a route that sets its own response_class
    Response, so that FastAPI does not also document application/json)."""
    return {"description": description, "content": {media_type: {} for media_type in media_types}}


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the document with a schema per shape and `Resource`, any of them."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            shapes = vocabulary(Namespaces(settings.base_iri)).schemas
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for operation in (op for path in schema["paths"].values() for op in path.values()):
                _document_problems(operation)
                if operation.get("operationId") in SECURITY:
                    operation["security"] = SECURITY[operation["operationId"]]
            for fastapi_error in ("HTTPValidationError", "ValidationError"):
                components.pop(fastapi_error, None)
            clashes = set(shapes) & set(components)
            assert not clashes, f"shape schemas clash with FastAPI's: {clashes}"
            components.update(shapes)
            components["Resource"] = {"description": "A resource as JSON-LD, framed with /context.jsonld",
                                      "anyOf": [{"$ref": f"#/components/schemas/{name}"} for name in shapes]}
            components["Problem"] = PROBLEM_SCHEMA
            schema["components"]["securitySchemes"] = {"writeToken": WRITE_TOKEN}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def _document_problems(operation: dict[str, Any]) -> None:
    """Every error as a problem: 4XX for any client error (400 where FastAPI says 422), 503 where a query may run
    out of time, 502 where SERVICE may reach out; a documented error without content gets the problem's."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status, response in responses.items():
        if status[0] in "45" and "content" not in response:
            response["content"] = PROBLEM
    responses.setdefault("4XX", CLIENT_ERROR)
    if operation.get("operationId") not in NEVER_UNAVAILABLE:
        responses.setdefault("503", UNAVAILABLE)
    if operation.get("operationId") in FEDERATING:
        responses.setdefault("502", REMOTE)
