"""The query pool of a remote store: the interface of QueryPool, with the remote store doing the work.

At most `size` queries go to the store at once, each with its deadline (the connection is closed at it). A write
is checked in a forked sandbox holding a copy of the store. Each write also renews a mark, a file in a directory
that the replicas of the store share: a replica looks at it at most every STATE_SECONDS, so what it derives from the
store (statistics, the search index, dumps) follows a write through another replica within that time. Queries
always see the store as it is.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from graph.errors import QueryError, QueryTimeoutError, RemoteEndpointError
from graph.pool import Job, sandboxed, start_child, wait_for_child
from graph.remote import RemoteStore, kind_of
from graph.store import Answer

T = TypeVar("T")
STATE_SECONDS = 1.0


class RemotePool:
    """Queries and writes of a RemoteStore; `execute` blocks, so call it from a thread, not the event loop."""

    def __init__(self, store: RemoteStore, size: int, mark: Path | None = None) -> None:
        self._store, self._mark = store, mark
        self._slots = threading.BoundedSemaphore(size)
        self.write_lock = threading.Lock()
        self.restarts = 0  # no workers to restart: the interface of QueryPool
        self._generation = 0
        self._seen: object = None  # the mark as last seen
        self._looked = -STATE_SECONDS

    def start(self) -> None:
        """Nothing to start: the store's state is looked up on first use (an unreachable store makes the service
        not ready, not unable to start)."""

    def close(self) -> None:
        """Nothing to stop: queries end with their requests."""

    def execute(self, job: Job, timeout: float) -> Answer:
        return self.stream(job, timeout)[0]

    def stream(self, job: Job, timeout: float) -> tuple[Answer, None]:
        """The whole answer (cut at the row cap as it is read), and no rest to read."""
        deadline = time.monotonic() + timeout
        kind = kind_of(job.sparql)
        fmt = job.formats.get(kind)
        if fmt is None:
            return Answer(kind, None), None
        if not self._slots.acquire(timeout=timeout):
            raise QueryTimeoutError(f"every query slot stayed busy for the whole time limit of {timeout:g} s")
        began = time.monotonic()
        try:
            result = self._store.query(job.sparql, union=job.union, prefixes=job.prefixes or None,
                                       base_iri=job.base_iri, default_graphs=job.default_graphs,
                                       named_graphs=job.named_graphs, substitutions=job.substitutions or None,
                                       deadline=deadline)
            answer = result.capped(fmt, job.cap)
        except QueryTimeoutError as error:
            raise QueryTimeoutError(f"the query ran past its time limit of {timeout:g} s and was stopped",
                                    time.monotonic() - began) from error
        except QueryError as error:
            if job.remote:
                raise RemoteEndpointError("a SERVICE endpoint failed or answered with an error") from error
            raise
        finally:
            self._slots.release()
        return dataclasses.replace(answer, seconds=time.monotonic() - began), None

    @property
    def generation(self) -> int:
        """Writes seen so far (this replica's, and marked by others): a cache key for derived data."""
        self._look()
        return self._generation

    def select(self, sparql: str, timeout: float, cap: int = 1_000_000) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        with self._slots:
            return self._store.query(sparql, deadline=deadline).rows()[:cap]

    def sandbox(self, function: Callable[..., T], *args: object, timeout: float) -> T:
        """Run `function(copy, *args)` in a forked process holding a copy of the store; kill it at the deadline."""
        deadline = time.monotonic() + timeout
        copy = self._store.copy(deadline)
        conn, process = start_child(sandboxed, (copy, function, args))
        return wait_for_child(conn, process, max(0.0, deadline - time.monotonic()))  # type: ignore[return-value]

    def write(self, change: Callable[[], T]) -> T:
        try:
            return change()
        finally:
            self._generation += 1
            if self._mark:
                _renew(self._mark)
                self._seen = _version(self._mark)

    def _look(self) -> None:
        """Count a write through another replica, at most every STATE_SECONDS."""
        if not self._mark or time.monotonic() - self._looked < STATE_SECONDS:
            return
        self._looked = time.monotonic()
        seen = _version(self._mark)
        if seen != self._seen:
            self._seen = seen
            self._generation += 1


def _renew(mark: Path) -> None:
    """A new mark (a new file put in place, so its inode changes)."""
    mark.parent.mkdir(parents=True, exist_ok=True)
    partial = mark.with_name(f".{mark.name}.{uuid.uuid4().hex}")
    partial.write_text(str(uuid.uuid4()))
    os.replace(partial, mark)


def _version(mark: Path) -> object:
    try:
        found = mark.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns
