"""Errors as RFC 9457 problem details: one body shape, one table from error type to HTTP status."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from graph import (
    GraphError,
    NamedQueryError,
    ParseError,
    QueryError,
    QuerySyntaxError,
    QueryTimeoutError,
    QueryTooComplexError,
    RemoteAccessRefusedError,
    RemoteEndpointError,
    StoreError,
    UnrepresentableError,
    UpdateDatasetError,
    UpdateError,
    ValidationError,
)
from service import html, negotiation

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


class ProblemError(Exception):
    """An HTTP-level error of the service itself (bad request, not acceptable, unsupported type, …)."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class UnauthorizedError(ProblemError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class ForbiddenError(ProblemError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFoundError(ProblemError):
    status, title, slug = 404, "Not found", "not-found"


class NotAcceptableError(ProblemError):
    status, title, slug = 406, "Not acceptable", "not-acceptable"


class UnsupportedMediaTypeError(ProblemError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class PayloadTooLargeError(ProblemError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class ServiceUnavailableError(ProblemError):
    status, title, slug = 503, "Service unavailable", "service-unavailable"


class TooManyRequestsError(ProblemError):
    status, title, slug = 429, "Too many requests", "too-many-requests"


class BadFrameError(ProblemError):
    title, slug = "Bad JSON-LD frame", "bad-frame"


# Graph errors: (status, title, type slug). The first class in an error's MRO found here wins.
GRAPH_ERRORS: dict[type[GraphError], tuple[int, str, str]] = {
    QuerySyntaxError: (400, "Malformed query", "malformed-query"),
    NamedQueryError: (400, "Bad query parameter", "bad-parameter"),
    ParseError: (400, "Malformed RDF", "malformed-rdf"),
    ValidationError: (422, "Data breaks the shapes", "shape-violation"),
    QueryTooComplexError: (400, "Query too complex", "query-too-complex"),
    UpdateDatasetError: (400, "Conflicting update dataset", "update-dataset"),
    UnrepresentableError: (406, "Not representable in this format", "not-representable"),
    RemoteAccessRefusedError: (403, "Remote access refused", "remote-access-refused"),
    QueryTimeoutError: (503, "Query time limit reached", "query-timeout"),
    UpdateError: (400, "Update failed", "update-failed"),
    RemoteEndpointError: (502, "Remote endpoint failed", "remote-endpoint-failed"),
    QueryError: (500, "Query failed", "query-failed"),
    StoreError: (503, "Store unavailable", "store-unavailable"),
}


def problem(status: int, title: str, slug: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"https://w3id.org/ecrn/problems/{slug}", "title": title, "status": status,
            "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


def graph_error_kind(error: GraphError) -> tuple[int, str, str]:
    """The (status, title, type slug) of a graph error: its first class in the table."""
    return next(GRAPH_ERRORS[c] for c in type(error).__mro__ if c in GRAPH_ERRORS)


def _graph_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GraphError)
    status, title, slug = graph_error_kind(error)
    extra: dict[str, Any] = {}
    if isinstance(error, ValidationError):
        extra["violations"] = [{"focus": p.focus, "path": p.path, "message": p.message} for p in error.problems]
    if isinstance(error, NamedQueryError) and error.param:
        extra["parameter"] = error.param
    if status >= 500:
        log.error("%s: %s", title, error)
    return problem(status, title, slug, str(error), **extra)


def _problem_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    response = problem(error.status, error.title, error.slug, error.detail)
    response.headers.update(error.headers)
    return response


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "HTTP error")
    response = problem(error.status_code, title, title.lower().replace(" ", "-"), str(error.detail))
    response.headers.update(error.headers or {})
    if error.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts at this path (one route per method here, so Starlette names only one)."""
    return [method for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                   for route in request.app.router.routes)]


def _request_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return problem(400, "Bad request", "bad-request", f"{where}: {first.get('msg', 'invalid request')}")


def _for_people(handler: Callable[[Request, Exception], JSONResponse]) -> Callable[[Request, Exception], Response]:
    """The problem, counted by type; as an HTML page when the client asks for HTML first, as a browser does."""

    def respond(request: Request, error: Exception) -> Response:
        response: Response = handler(request, error)
        problem = json.loads(bytes(response.body))
        request.app.state.metrics.problems.labels(problem["type"].rsplit("/", 1)[1]).inc()
        if negotiation.prefers_html(request.headers.get("accept")):
            response = html.problem_page(request, problem, response.status_code, response.headers)
        vary = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
        response.headers["Vary"] = ", ".join(dict.fromkeys([*vary, "Accept"]))
        return response

    return respond


def install(app: FastAPI) -> None:
    """Map every error type to its problem response, once."""
    app.add_exception_handler(GraphError, _for_people(_graph_error))
    app.add_exception_handler(ProblemError, _for_people(_problem_error))
    app.add_exception_handler(HTTPException, _for_people(_http_error))
    app.add_exception_handler(RequestValidationError, _for_people(_request_validation))
