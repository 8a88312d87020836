"""The SPARQL endpoint's lane past the framework's request handling.

Queries by GET and POST to `/sparql` are most of what the service answers, and FastAPI's routing, its inner
middlewares and its request handling cost the main process about 0.1 ms of CPU per request (`ASK {}` from 8
clients: 0.85 ms with them, 0.75 ms without). This lane calls the same endpoint functions with a plain Starlette
request, inside the same request log and CORS middleware, and answers errors with the app's own exception
handlers. Everything else (HEAD, OPTIONS, other paths, the OpenAPI document) goes through FastAPI, where the routes
stay declared. The lane reads a request body only as far as just past the size limit.

The lane also watches the connection while it answers: a client that leaves has its query stopped (the worker
running it is replaced), where the framework would let the query run to its time limit.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

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
                 cors: dict[str, Any], max_body: int) -> None:
        self.app, self.path, self.max_body = app, path, max_body
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
        """Answer, unless the client leaves first: then the request is cancelled and nothing is sent."""
        scope["route"] = self.routes[scope["method"]]  # for the request log's metrics, as FastAPI's routing sets it
        body = await _body(receive, self.max_body)
        if body is None:
            return
        request = Request(scope, _replay(body, receive))
        task = asyncio.current_task()
        assert task is not None
        watch = asyncio.ensure_future(_cancel_when_gone(receive, task))
        try:
            response = await self._respond(request)
        except asyncio.CancelledError:
            if watch.done() and not watch.cancelled() and task.uncancel() == 0:
                return  # cancelled by the watch alone: the client has gone
            raise
        finally:
            watch.cancel()
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        try:
            return await self.endpoints[request.method](request)
        except Exception as error:
            handler = next((self.app.exception_handlers[c] for c in type(error).__mro__
                            if c in self.app.exception_handlers), None)
            if handler is None:
                raise
            handled = handler(request, error)
            return await handled if inspect.isawaitable(handled) else handled


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The request body, read no further than just past `limit` bytes (the endpoint refuses a longer one without
    waiting for the rest); None when the client leaves before sending it."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit or not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body read already, then what the client's connection gives."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _cancel_when_gone(receive: Receive, task: asyncio.Task[None]) -> None:
    """Cancel `task` when the client disconnects (after the body, the next message of a request says so)."""
    if (await receive())["type"] == "http.disconnect":
        task.cancel()
