"""The query pool of a remote store: the interface of QueryPool, with the remote store doing the work.

At most `size` queries go to the store at once, each with its deadline (the connection is closed at it). A write
is checked in a forked sandbox holding a copy of the store, or of what the write touches. Each update renews the
store's mark (`RemoteStore.state`), a file in a directory that the replicas of the store share: a replica looks at
it at most every STATE_SECONDS, so what it derives from the store (statistics, the search index, dumps) follows a
write through another replica within that time. Queries always see the store as it is.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from graph.errors import QueryError, QueryTimeoutError, RemoteEndpointError
from graph.pool import Job, sandboxed, start_child, wait_for_child
from graph.remote import RemoteStore, kind_of
from graph.store import Answer, EmbeddedStore

T = TypeVar("T")
STATE_SECONDS = 1.0


class RemotePool:
    """Queries and writes of a RemoteStore; `execute` blocks, so call it from a thread, not the event loop."""

    def __init__(self, store: RemoteStore, size: int) -> None:
        self._store = store
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

    def vouched(self) -> tuple[int, frozenset[str]]:
        """No predicate's objects are vouched for: others may write to the store (see QueryPool.vouched)."""
        return self._generation, frozenset()

    def select(self, sparql: str, timeout: float, cap: int = 1_000_000) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        with self._slots:
            return self._store.query(sparql, deadline=deadline).rows()[:cap]

    def sandbox(self, function: Callable[..., T], *args: object, timeout: float,
                copy: EmbeddedStore | None = None) -> T:
        """Run `function(copy, *args)` in a forked process holding `copy` (else a copy of the whole store); kill it
        at the deadline."""
        deadline = time.monotonic() + timeout
        copy = copy if copy is not None else self._store.copy(deadline)
        conn, process = start_child(sandboxed, (copy, function, args))
        return wait_for_child(conn, process, max(0.0, deadline - time.monotonic()))  # type: ignore[return-value]

    @property
    def state(self) -> str | None:
        """Names the store's last update (see RemoteStore.state): what a release log records beside a release."""
        return self._store.state

    def write(self, change: Callable[[], T]) -> T:
        try:
            return change()
        finally:
            self._generation += 1
            self._seen = self._store.state

    def _look(self) -> None:
        """Count a write through another replica, at most every STATE_SECONDS."""
        if not self._store.mark or time.monotonic() - self._looked < STATE_SECONDS:
            return
        self._looked = time.monotonic()
        seen = self._store.state
        if seen != self._seen:
            self._seen = seen
            self._generation += 1
