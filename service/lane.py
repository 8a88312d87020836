"""The SPARQL endpoint's lane past the framework's request handling.

Queries by GET and POST to `/sparql` are most of what the service answers, and FastAPI's routing, its inner
middlewares and its request handling cost the main process about as much CPU per query as the endpoint's own work.
This lane calls the same endpoint functions with a plain Starlette request, inside the same request log and CORS
middleware, and answers errors with the app's own exception handlers. Everything else (HEAD, OPTIONS, other paths,
the OpenAPI document) goes through FastAPI, where the routes stay declared.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service.telemetry import Metrics, RequestLog

Endpoint = Callable[[Request], Awaitable[Response]]


class App(FastAPI):
    """A FastAPI app that sends the requests its lane takes down the lane."""

    lane: Lane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.lane is not None and self.lane.takes(scope):
            scope["app"] = self
            await self.lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class Lane:
    """GET and POST to one path, answered by its endpoint functions, inside the request log and CORS."""

    def __init__(self, app: FastAPI, router: APIRouter, path: str, methods: tuple[str, ...], metrics: Metrics,
                 cors: dict[str, Any]) -> None:
        self.app, self.path = app, path
        self.routes = {m: r for r in router.routes if isinstance(r, APIRoute) and r.path == path
                       for m in methods if m in (r.methods or ())}
        self.endpoints: dict[str, Endpoint] = {m: r.endpoint for m, r in self.routes.items()}
        self.handle = RequestLog(CORSMiddleware(self._answer, **cors), metrics=metrics)

    def takes(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] not in self.endpoints:
            return False
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        return (path[len(root):] if root and path.startswith(root) else path) == self.path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handle(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.routes[scope["method"]]  # for the request log's metrics, as FastAPI's routing sets it
        request = Request(scope, receive)
        try:
            response = await self.endpoints[scope["method"]](request)
        except Exception as error:
            handler = next((self.app.exception_handlers[c] for c in type(error).__mro__
                            if c in self.app.exception_handlers), None)
            if handler is None:
                raise
            handled = handler(request, error)
            response = await handled if inspect.isawaitable(handled) else handled
        await response(scope, receive, send)
