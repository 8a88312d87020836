"""Blocking store work runs in a worker thread, and engine objects never leave that thread.

pyoxigraph's result objects may only be dropped on the thread that made them; an exception's traceback keeps the
frames (and so the results) alive, so errors are stripped of traceback and context before they cross over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

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
