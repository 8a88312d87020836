"""Blocking store work runs in a worker thread, and engine objects never leave that thread; an embedded store's
query workers are awaited on the event loop.

pyoxigraph's result objects may only be dropped on the thread that made them; an exception's traceback keeps the
frames (and so the results) alive, so errors are stripped of traceback and context before they cross over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import TypeVar

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from graph import Answer, Job, QueryPool
from graph.pool import AnswerBody
from service.backend import Pool

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


async def stream_query(pool: Pool, job: Job, timeout: float) -> tuple[Answer, AnswerBody | None]:
    """A query's answer from the pool: awaited on the event loop from an embedded store's workers; a remote store is
    asked in a thread."""
    if isinstance(pool, QueryPool):
        return await pool.astream(job, timeout)
    return await run_blocking(pool.stream, job, timeout)


async def run_query(pool: Pool, job: Job, timeout: float) -> Answer:
    """A query's whole answer, body included."""
    head, rest = await stream_query(pool, job, timeout)
    if rest is None:
        return head
    return dataclasses.replace(head, body=head.body + await run_blocking(b"".join, rest))
