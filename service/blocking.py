"""Blocking store work runs in a worker thread, and engine objects never leave that thread.

pyoxigraph's result objects may only be dropped on the thread that made them; an exception's traceback keeps the
frames (and so the results) alive, so errors are stripped of traceback and context before they cross over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from graph import Answer
from graph.pool import AnswerBody

T = TypeVar("T")


async def run_blocking(function: Callable[..., T], *args: object) -> T:
    """Call `function(*args)` in the thread pool; re-raise its exception here, detached from its frames."""

    def call() -> tuple[T | None, BaseException | None]:
        try:
            return function(*args), None
        except Exception as error:  # re-raised unchanged below, once its frames are released in this thread
            error.__traceback__, error.__context__, error.__cause__ = None, None, None
            return None, error

    value, error = await run_in_threadpool(call)
    if error is not None:
        raise error
    return value  # type: ignore[return-value]


def answer_response(head: Answer, rest: AnswerBody | None, media_type: str, headers: dict[str, str]) -> Response:
    """A worker's answer as a response: whole when it came in one piece, streamed from the worker otherwise."""
    if rest is None:
        return Response(head.body, media_type=media_type, headers=headers)
    return StreamingResponse(_chain(head.body, rest), media_type=media_type, headers=headers)


def _chain(first: bytes, rest: AnswerBody) -> Iterator[bytes]:
    yield first
    yield from rest
