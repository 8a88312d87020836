"""Queries run in worker processes, so that a query past its time limit can be stopped for real.

pyoxigraph cannot cancel a running query, but a process can be killed. Workers answer one query at a time over a
pipe, and are killed at the deadline and replaced. A write makes every worker stale: stale workers are replaced, so
readers see the new state. Queries wait for a worker in one line, first come first served, whether a thread waits
(`stream`) or the server's event loop (`astream`, which needs no thread per query). A query awaited on the event
loop that finds every worker busy has its job sent behind a running one's, one per worker, so that the worker goes
on to it the moment it has answered, not when the event loop gets round to its answer; it goes back to the head of
the line if that worker is stopped or its query turns long.

An in-memory store is shared with workers by forking the process that holds it (pages copy-on-write). An on-disk
store is never forked: RocksDB's background threads may hold its locks at that moment, and a forked copy would also
write to the same files. Instead each generation of the store gets a checkpoint (hard links, made in milliseconds)
that workers, started by a fork server free of such threads, open read-only; a sandbox gets a checkpoint of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import TypeVar

from graph.errors import GraphError, QueryError, QueryTimeoutError, RemoteEndpointError
from graph.store import Answer, EmbeddedStore
from graph.terms import Term

log = logging.getLogger(__name__)
T = TypeVar("T")
_FORK = multiprocessing.get_context("fork")
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(["graph.writes"])  # what sandboxes run; it imports the store and this module
CHUNK = 1 << 20  # bytes of answer body per message from a worker


LONG_QUERY = 1.0  # seconds after which a query is long: its worker gets the lowest CPU priority
VOUCH_TIMEOUT = 300.0  # seconds for the scan of the objects' sort classes (1.3 s for 1.3 million quads)
ACQUIRE_STEP = 0.05  # how often a query waiting for a worker looks whether long queries hold them all
AHEAD_BYTES = 16 << 10  # the largest job sent behind a running one (far less than the pipe holds: it never blocks)


@dataclass(frozen=True)
class Job:
    """One query to run: its text, the format to use for each kind of result, and the row cap."""

    sparql: str
    formats: dict[str, str | None]
    cap: int
    union: bool = True
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    remote: bool = False  # the query reaches SERVICE endpoints: their failures are reported without detail
    substitutions: dict[str, Term] = field(default_factory=dict)  # named-query parameters, bound as terms
    vouched_at: int = -1  # the generation whose vouched predicates left sort classes out of `sparql`…
    classed: str | None = None  # … and the text with them all, for a worker of another generation


def _close_inherited(keep: Connection) -> None:
    """Close every descriptor a forked child inherited: all but stdio, its own end of the pipe to the parent and the
    sentinel multiprocessing gave it.

    A fork copies all of the parent's descriptors: the parent's end of this very pipe (the child would never read
    EOF, so it would outlive a parent killed by SIGKILL), other workers' pipes and sentinels (a worker forked later
    would hold more of them than the first ones), and the server's listening socket and client connections (a
    connection the server closes would stay open while a copy lives here: the client never sees the close, and a
    request it then sends on that connection is never answered).
    """
    parent = multiprocessing.parent_process()
    kept = {0, 1, 2, keep.fileno(), parent.sentinel if parent else -1}
    with contextlib.suppress(AttributeError, ValueError, OSError):  # multiprocessing gives the child a /dev/null
        kept.add(sys.stdin.fileno())
    folder = Path("/proc/self/fd") if Path("/proc/self/fd").is_dir() else Path("/dev/fd")
    for fd in [int(entry) for entry in os.listdir(folder)]:
        if fd not in kept:
            with contextlib.suppress(OSError):  # e.g. the listing's own descriptor, closed by now
                os.close(fd)


def _serve_forked(conn: Connection, store: EmbeddedStore) -> None:
    _close_inherited(conn)
    _serve(conn, store)


def _serve(conn: Connection, store: EmbeddedStore) -> None:
    """A worker's loop: one job in; out ('ok', (Answer with the first chunk of its body, more)), then when more
    ('chunk', bytes)… ('end', None); or ('error', GraphError)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            job: Job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = store.query(job.sparql, union=job.union, prefixes=job.prefixes or None, base_iri=job.base_iri,
                                 default_graphs=job.default_graphs, named_graphs=job.named_graphs,
                                 substitutions=job.substitutions or None)
            fmt = job.formats.get(result.kind)
            answer = result.capped(fmt, job.cap) if fmt else Answer(result.kind, None)
            more = len(answer.body) > CHUNK
            conn.send(("ok", (dataclasses.replace(answer, body=answer.body[:CHUNK]), more)))
            if more:
                for start in range(CHUNK, len(answer.body), CHUNK):
                    conn.send(("chunk", answer.body[start:start + CHUNK]))
                conn.send(("end", None))
        except QueryError as error:
            if job.remote and not isinstance(error, QueryTimeoutError):
                error = RemoteEndpointError("a SERVICE endpoint failed or answered with an error")
            conn.send(("error", error))
        except GraphError as error:
            conn.send(("error", error))


def _serve_checkpoint(conn: Connection, path: Path) -> None:
    _close_inherited(conn)
    _serve(conn, EmbeddedStore(path, read_only=True))


def _sandboxed_checkpoint(conn: Connection, path: Path, function: Callable[..., object], args: tuple[object]) -> None:
    _close_inherited(conn)
    _sandbox(conn, EmbeddedStore(path), function, args)


def sandboxed(conn: Connection, store: EmbeddedStore, function: Callable[..., object], args: tuple[object]) -> None:
    """A sandbox forked with a store in memory: run `function(store, *args)`, send back what it gives."""
    _close_inherited(conn)
    _sandbox(conn, store, function, args)


def _sandbox(conn: Connection, store: EmbeddedStore, function: Callable[..., object], args: tuple[object]) -> None:
    try:
        conn.send(("ok", function(store, *args)))
    except GraphError as error:
        conn.send(("error", error))
    except BaseException:
        log.exception("the sandbox failed")  # the parent sees the pipe close and answers with a QueryError
        raise


class _Checkpoints:
    """Checkpoints of an on-disk store: the current one, and older ones until their last reader is gone."""

    def __init__(self, store: EmbeddedStore) -> None:
        assert store.path is not None
        self._store = store
        prefix = f".{store.path.name}-checkpoints-"
        for stale in store.path.parent.glob(prefix + "*"):  # left by a process that was killed: the store was ours
            shutil.rmtree(stale, ignore_errors=True)
        self._root = Path(tempfile.mkdtemp(prefix=prefix, dir=store.path.parent))
        self._readers: dict[Path, int] = {}
        self._lock = threading.Lock()
        self.current = self.take()

    def take(self) -> Path:
        """A new checkpoint of the store as it is now; call it with no write running."""
        path = self._root / uuid.uuid4().hex
        self._store.checkpoint(path)
        return path

    def renew(self) -> None:
        with self._lock:
            old, self.current = self.current, self.take()
            self._remove_unread(old)

    def acquire(self) -> Path:
        with self._lock:
            self._readers[self.current] = self._readers.get(self.current, 0) + 1
            return self.current

    def release(self, path: Path) -> None:
        with self._lock:
            self._readers[path] -= 1
            self._remove_unread(path)

    def _remove_unread(self, path: Path) -> None:
        if path != self.current and not self._readers.get(path):
            self._readers.pop(path, None)
            shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)


def start_child(target: Callable[..., None], args: tuple[object, ...]) -> tuple[Connection, BaseProcess]:
    """A forked sandbox process running `target(conn, *args)`, and the parent's end of its pipe."""
    conn, child = _FORK.Pipe()
    process = _process(target, (child, *args), "ecrn-sandbox")
    child.close()
    return conn, process


def wait_for_child(conn: Connection, process: BaseProcess, timeout: float) -> object:
    """What a sandbox sends back (its GraphError raised here); it is killed at the deadline."""
    try:
        if not conn.poll(timeout):
            raise QueryTimeoutError(f"checking the change took longer than {timeout:g} s")
        status, payload = conn.recv()
    except EOFError:
        raise QueryError("the sandbox stopped while checking the change") from None
    finally:
        process.kill()
        process.join(timeout=5)
        conn.close()
    if status == "error":
        raise payload
    return payload


def _process(target: Callable[..., None], args: tuple[object, ...], name: str) -> BaseProcess:
    """Start `target`: from the fork server when it opens a checkpoint, else forked from this process."""
    context = _FORKSERVER if isinstance(args[1], Path) else _FORK
    process = context.Process(target=target, args=args, daemon=True, name=name)
    process.start()
    return process


class _Worker:
    def __init__(self, store: EmbeddedStore, generation: int, checkpoints: _Checkpoints | None,
                 turned_long: Callable[[_Worker], None]) -> None:
        self.conn, child = _FORK.Pipe()
        self.checkpoints = checkpoints
        self.checkpoint = checkpoints.acquire() if checkpoints else None
        if self.checkpoint:
            self.process = _process(_serve_checkpoint, (child, self.checkpoint), "ecrn-query-worker")
        else:
            self.process = _process(_serve_forked, (child, store), "ecrn-query-worker")
        child.close()
        self.generation = generation
        self.long = False  # it ran a long query, at the lowest priority (which it cannot raise again): replace it
        self.turned_long = turned_long
        self.loaded = False  # the job of the query it was handed to is in its pipe (another may follow only then)
        self.since = 0.0  # when that job was sent, or handed over from behind another
        self.ahead: _Waiter | None = None  # the query whose job is in its pipe behind that one
        self.orphaned = False  # a job whose answer nobody reads is in its pipe: replace it when given back

    def send(self, job: Job) -> None:
        """Hand the job of the query it was handed to over."""
        self.conn.send_bytes(self.payload(job))
        self.loaded, self.since = True, time.monotonic()

    def payload(self, job: Job) -> bytes:
        """The job as sent: with all its sort classes when they were left out for another generation's store."""
        if job.classed is not None and job.vouched_at != self.generation:
            job = dataclasses.replace(job, sparql=job.classed)
        return bytes(ForkingPickler.dumps(job))

    def start(self, job: Job, timeout: float) -> tuple[Answer, bool] | None:
        """The answer with the first chunk of its body and whether more follows; None past the deadline. A query
        still running after LONG_QUERY seconds gets the lowest CPU priority, so that short ones go first."""
        self.send(job)
        if not self.conn.poll(max(min(timeout, LONG_QUERY), 0)):
            if timeout <= LONG_QUERY:
                return None
            self._lower_priority()
            if not self.conn.poll(max(timeout - LONG_QUERY, 0)):
                return None
        return self._answer()

    async def astart(self, job: Job, timeout: float, sent: bool = False) -> tuple[Answer, bool] | None:
        """`start`, with the answer awaited on the event loop; `sent`: the job was handed over with the worker."""
        if not sent:
            self.send(job)
        if not await _readable(self.conn, max(min(timeout, LONG_QUERY), 0)):
            if timeout <= LONG_QUERY:
                return None
            self._lower_priority()
            if not await _readable(self.conn, max(timeout - LONG_QUERY, 0)):
                return None
        return self._answer()

    def _lower_priority(self) -> None:
        self.long = True
        if self.process.pid:  # (never 0: that would be this process)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, self.process.pid, 19)
        self.turned_long(self)

    def _answer(self) -> tuple[Answer, bool]:
        status, payload = self.conn.recv()
        if status == "error":
            raise payload
        answer, more = payload
        assert isinstance(answer, Answer)
        return answer, more

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()
        if self.checkpoints and self.checkpoint:
            self.checkpoints.release(self.checkpoint)


class _Waiter:
    """A query in line for a worker: a thread waits for `event`, the event loop (`loop`) for `future`; `worker` is
    the one handed over (set under the pool's lock, before either is set). Made only for a query that must wait.

    A worker freed on the waiter's own event loop is sent the waiter's `job` at once (`sent`: when): the worker then
    runs it while the event loop gets round to the waiter, instead of idling for those turns.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None, job: Job | None = None) -> None:
        self.loop = loop
        self.job = job
        self.sent: float | None = None
        self.event = None if loop else threading.Event()
        self.future: asyncio.Future[None] | None = loop.create_future() if loop else None
        self.worker: _Worker | None = None
        self.behind: _Worker | None = None  # the busy worker its job was sent to, behind the running one

    def send_job(self, worker: _Worker) -> None:
        """Send the job to the worker handed over, when that happens on the waiter's event loop (a worker that
        died idle is left to the waiter to find out)."""
        if self.job is None or not self._on_loop():
            return
        with contextlib.suppress(OSError):
            worker.send(self.job)
            self.sent = time.monotonic()

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def wake(self) -> bool:
        """Tell the waiter its worker is there, from any thread; False if nobody waits any more (its loop closed)."""
        if self.event is not None:
            self.event.set()
            return True
        assert self.loop is not None
        if self._on_loop():
            self._done()
            return True
        try:
            self.loop.call_soon_threadsafe(self._done)
        except RuntimeError:
            return False
        return True

    def _done(self) -> None:
        if self.future is not None and not self.future.done():  # (cancelled: the waiter gives the worker back)
            self.future.set_result(None)


_GROW = object()  # the waiter left the line to add a worker


def _logged(failure: str) -> Callable[[Future[None]], None]:
    """A callback logging `failure` when the task it is added to raised."""
    def log_failure(done: Future[None]) -> None:
        if (error := done.exception()) is not None:
            log.error(failure, exc_info=error)
    return log_failure


async def _readable(conn: Connection, timeout: float) -> bool:
    """Whether `conn` has something to read (an answer, or the end of a worker that died) within `timeout` seconds,
    awaited on the event loop."""
    if conn.poll(0):
        return True
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(conn.fileno(), readable)
    try:
        await asyncio.wait_for(ready, timeout)
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(conn.fileno())
        os.set_blocking(conn.fileno(), True)  # uvloop made it non-blocking: a message read on would break off


class AnswerBody:
    """The chunks of an answer's body as they arrive from the worker that holds it.

    Iterate to the end or close it: the worker is reserved until then, and is replaced (killed) when the reader
    gives up early, the time limit passes, or the body is dropped unread.
    """

    def __init__(self, pool: QueryPool, worker: _Worker, deadline: float, timeout: float) -> None:
        self._pool, self._worker, self._deadline, self._timeout = pool, worker, deadline, timeout
        self._open = True

    def __iter__(self) -> Generator[bytes, None, None]:
        finished = False
        try:
            while True:
                if not self._worker.conn.poll(max(self._deadline - time.monotonic(), 0)):
                    raise QueryTimeoutError(f"the answer took longer than its time limit of {self._timeout:g} s")
                status, payload = self._worker.conn.recv()
                if status == "end":
                    finished = True
                    return
                yield payload
        finally:
            self.close(finished)

    def close(self, finished: bool = False) -> None:
        if self._open:
            self._open = False
            (self._pool._release if finished else self._pool._replace)(self._worker)

    def __del__(self) -> None:
        self.close()


class QueryPool:
    """`size` query workers, and up to `extra` more while long queries hold all of them (so that short queries are
    not stuck behind long ones); `execute` and `stream` block, so call them from a thread; `astream` is for the event
    loop."""

    def __init__(self, store: EmbeddedStore, size: int, extra: int = 0) -> None:
        self._store, self._size, self._extra = store, size, extra
        self._idle: deque[_Worker] = deque()
        self._line: deque[_Waiter] = deque()  # queries waiting for a worker, first come first served
        self._busy: set[_Worker] = set()
        self._live = 0  # workers alive, idle, busy or being started
        self._count_lock = threading.Lock()  # guards the four above
        self._fork_lock = threading.Lock()  # no write runs while a worker is forked
        self.write_lock = threading.Lock()  # one writer at a time, from its sandbox check to its commit
        self._generation = 0
        self._closed = False
        self._checkpoints: _Checkpoints | None = None
        self._replacer = ThreadPoolExecutor(2, "ecrn-worker-replacer")  # never behind queries waiting for a worker
        self._scanner = ThreadPoolExecutor(1, "ecrn-vouch")
        self._vouched: tuple[int, frozenset[str]] = (-1, frozenset())
        self._vouching = -1  # the generation whose scan has begun
        self.restarts = 0

    def start(self) -> None:
        if self._store.path:
            self._checkpoints = _Checkpoints(self._store)
        for _ in range(self._size):
            self._put(self._spawn())
        self.vouched()

    def _spawn(self, busy: bool = False, counted: bool = False) -> _Worker:
        """A new worker; `busy`: for the query that added it; `counted`: in `_live` already (so are busy ones)."""
        if not (busy or counted):
            with self._count_lock:
                self._live += 1
        try:
            with self._fork_lock:
                worker = _Worker(self._store, self._generation, self._checkpoints, self._back_in_line)
        except BaseException:
            with self._count_lock:
                self._live -= 1
            raise
        if busy:
            with self._count_lock:
                self._busy.add(worker)
        return worker

    def _put(self, worker: _Worker) -> None:
        """A worker done with its query: to the query whose job it holds next, else to the first in line, else among
        the idle ones; then the next in line may have its job sent behind."""
        with self._count_lock:
            waiter = worker.ahead
            if waiter is not None:
                worker.ahead = waiter.behind = None
                # it runs from about now: the worker was busy until its answer was read
                waiter.sent = worker.since = time.monotonic()
            elif self._line:
                waiter = self._line.popleft()
                worker.loaded = False
            else:
                self._idle.append(worker)
                return
            waiter.worker = worker
            self._busy.add(worker)
        if waiter.sent is None:
            waiter.send_job(worker)
        if waiter.sent is not None:
            with self._count_lock:
                if self._line and self._send_ahead(self._line[0], worker):
                    self._line.popleft()
        if not waiter.wake():  # its loop has closed
            (self._replace_soon if waiter.sent is not None else self._keep)(worker)

    def _join_line(self, loop: asyncio.AbstractEventLoop | None, job: Job | None = None) -> _Worker | _Waiter:
        """An idle worker, or else a place in line (for `job`, to be sent with the worker when it can, or at once
        behind a running query)."""
        with self._count_lock:
            if self._idle:
                worker = self._idle.popleft()
                worker.loaded = False
                self._busy.add(worker)
                return worker
            waiter = _Waiter(loop, job)
            # behind the query begun last: the longer one has run, the longer it is likely to run on
            if self._line or not any(self._send_ahead(waiter, busy)
                                     for busy in sorted(self._busy, key=lambda busy: busy.since, reverse=True)):
                self._line.append(waiter)
        return waiter

    def _send_ahead(self, waiter: _Waiter, worker: _Worker) -> bool:
        """Send a waiter's job to a busy worker, behind the job it runs, if both allow; call with `_count_lock`
        held. Only a query awaited on the event loop waits so (it reads its answer when handed the worker), and only
        behind a short query of the current store whose job is sent."""
        if waiter.job is None or not waiter._on_loop() or worker.ahead is not None or not worker.loaded or \
                worker.long or worker.orphaned or worker.generation != self._generation:
            return False
        payload = worker.payload(waiter.job)
        if len(payload) > AHEAD_BYTES:
            return False
        try:
            worker.conn.send_bytes(payload)
        except OSError:  # it died: whoever holds it finds out
            return False
        worker.ahead, waiter.behind = waiter, worker
        return True

    def _orphan(self, waiter: _Waiter) -> None:
        """A waiter whose job waits in a worker's pipe gives up; call with `_count_lock` held."""
        worker = waiter.behind
        assert worker is not None
        worker.ahead = waiter.behind = None
        worker.orphaned = True

    def _back_in_line(self, worker: _Worker) -> None:
        """The query whose job a worker holds behind its running one goes back to the head of the line: the worker
        is stopped, or its query turned long."""
        with self._count_lock:
            if (waiter := worker.ahead) is not None:
                worker.ahead = waiter.behind = None
                worker.orphaned = True
                waiter.sent = None
                self._line.appendleft(waiter)

    def _after_step(self, waiter: _Waiter, deadline: float, timeout: float) -> _Worker | object | None:
        """After a step of waiting: the worker handed over meanwhile; `_GROW` when long queries hold workers that
        short ones lack (`size` workers are for queries not (yet) long; a new one is counted here); None: wait on."""
        past = time.monotonic() >= deadline
        with self._count_lock:
            if waiter.worker is not None:
                return waiter.worker
            if waiter.behind is not None:  # its job is in a busy worker's pipe: it waits for that worker alone
                if not past:
                    return None
                self._orphan(waiter)
            else:
                grow = self._live < self._size + self._extra and self._live - self._long_busy() < self._size
                if not (grow or past):
                    return None
                self._line.remove(waiter)
                if not past:
                    self._live += 1
                    return _GROW
        raise QueryTimeoutError(f"every query worker stayed busy for the whole time limit of {timeout:g} s")

    def _leave_line(self, waiter: _Waiter) -> None:
        """A waiter gives up (its request went away, its thread was interrupted): out of the line, or the worker it
        was given back (replaced, when it is running the waiter's job; so is a worker its job was sent behind)."""
        with self._count_lock:
            if waiter.worker is None:
                if waiter.behind is not None:
                    self._orphan(waiter)
                else:
                    self._line.remove(waiter)
                return
        if waiter.sent is not None:
            self._replace_soon(waiter.worker)
        else:
            self._keep(waiter.worker)

    def _acquire(self, deadline: float, timeout: float) -> _Worker:
        """A worker: the first to come idle; or, when long queries hold every worker, a new one (up to `extra` more
        than `size`)."""
        waiter = self._join_line(None)
        if isinstance(waiter, _Worker):
            return waiter
        assert waiter.event is not None
        while waiter.worker is None:
            try:
                waiter.event.wait(max(min(deadline - time.monotonic(), ACQUIRE_STEP), 0))
            except BaseException:
                self._leave_line(waiter)
                raise
            got = self._after_step(waiter, deadline, timeout)
            if got is _GROW:
                return self._spawn(busy=True)
            if got is not None:
                break
        assert waiter.worker is not None
        return waiter.worker

    async def _aacquire(self, deadline: float, timeout: float, job: Job) -> tuple[_Worker, float | None]:
        """`_acquire` awaited on the event loop, and when `job` was sent with the worker (None: it was not); a new
        worker is started in a thread."""
        waiter = self._join_line(asyncio.get_running_loop(), job)
        if isinstance(waiter, _Worker):
            return waiter, None
        while waiter.worker is None:
            assert waiter.future is not None
            try:
                await asyncio.wait((waiter.future,), timeout=max(min(deadline - time.monotonic(), ACQUIRE_STEP), 0))
            except asyncio.CancelledError:
                self._leave_line(waiter)
                raise
            got = self._after_step(waiter, deadline, timeout)
            if got is _GROW:
                return await self._agrow(), None
            if got is not None:
                break
        assert waiter.worker is not None
        return waiter.worker, waiter.sent

    async def _agrow(self) -> _Worker:
        started = self._replacer.submit(self._spawn, True)
        try:
            return await asyncio.shield(asyncio.wrap_future(started))
        except asyncio.CancelledError:  # the request went away: the new worker is the pool's
            started.add_done_callback(self._keep_started)
            raise

    def _keep_started(self, started: Future[_Worker]) -> None:
        if started.exception() is None:
            self._keep(started.result())

    def _long_busy(self) -> int:
        return sum(w.long for w in self._busy)

    def execute(self, job: Job, timeout: float) -> Answer:
        """The whole answer, body included."""
        head, rest = self.stream(job, timeout)
        return head if rest is None else dataclasses.replace(head, body=head.body + b"".join(rest))

    def stream(self, job: Job, timeout: float) -> tuple[Answer, AnswerBody | None]:
        """The answer with the first chunk of its body and, for a longer body, the rest as it arrives.

        Read the rest to the end or close it: the worker stays reserved until then, and is replaced if the
        reader gives up early or the time limit passes.
        """
        deadline = time.monotonic() + timeout
        worker = self._acquire(deadline, timeout)
        began = time.monotonic()
        try:
            started = worker.start(job, deadline - time.monotonic())
        except (EOFError, OSError):
            self._replace(worker)
            raise QueryError("the query worker stopped while running the query") from None
        except BaseException:
            self._release(worker)
            raise
        return self._taken(worker, started, began, (deadline, timeout), self._release, self._replace)

    async def astream(self, job: Job, timeout: float) -> tuple[Answer, AnswerBody | None]:
        """`stream` for the event loop: the wait for a worker and its answer are awaited there, with no thread per
        query."""
        deadline = time.monotonic() + timeout
        worker, sent = await self._aacquire(deadline, timeout, job)
        began = time.monotonic() if sent is None else sent
        try:
            started = await worker.astart(job, deadline - time.monotonic(), sent is not None)
        except GraphError:  # the worker answered with an error: it is free again
            self._release_soon(worker)
            raise
        except (EOFError, OSError):
            self._replace_soon(worker)
            raise QueryError("the query worker stopped while running the query") from None
        except BaseException:  # the request went away while the worker runs the query
            self._replace_soon(worker)
            raise
        return self._taken(worker, started, began, (deadline, timeout), self._release_soon, self._replace_soon)

    def _taken(
        self, worker: _Worker, started: tuple[Answer, bool] | None, began: float, limit: tuple[float, float],
        release: Callable[[_Worker], None], replace: Callable[[_Worker], None],
    ) -> tuple[Answer, AnswerBody | None]:
        """What the worker gave for a query begun at `began`: the answer and the rest of its body to read; None
        (past the deadline) replaces the worker and is a timeout. `limit` is (deadline, time limit)."""
        deadline, timeout = limit
        if started is None:
            replace(worker)
            raise QueryTimeoutError(f"the query ran past its time limit of {timeout:g} s and was stopped",
                                    time.monotonic() - began)
        head, more = started
        head = dataclasses.replace(head, seconds=time.monotonic() - began)
        if not more:
            release(worker)
            return head, None
        return head, AnswerBody(self, worker, deadline, timeout)

    def _release_soon(self, worker: _Worker) -> None:
        """Give a worker back from the event loop; one to replace is replaced in a thread (a fork waits for a running
        write to end)."""
        if self._stale(worker):
            self._in_thread(self._replace, worker)
        else:
            self._keep(worker)

    def _replace_soon(self, worker: _Worker) -> None:
        """Kill a worker now, from the event loop; its replacement is started in a thread."""
        if self._stopped(worker):
            self._in_thread(self._refill)

    def _in_thread(self, function: Callable[..., None], *args: _Worker) -> None:
        try:
            self._replacer.submit(function, *args).add_done_callback(_logged("a query worker could not be replaced"))
        except RuntimeError:  # the pool has closed (a worker is then stopped, not replaced)
            if args:
                self._retired(args[0])

    @property
    def generation(self) -> int:
        """How many writes the store has seen since the pool started: a cache key for derived data."""
        return self._generation

    def vouched(self) -> tuple[int, frozenset[str]]:
        """The generation, and the predicates all of whose objects its store holds in one sort class (see
        graph/ordering.py): none until a scan of that store, begun in a sandbox at the first call, has ended."""
        generation = self._generation
        if self._vouched[0] == generation:
            return self._vouched
        with self._count_lock:
            begin, self._vouching = self._vouching != generation, generation
        if begin and not self._closed:
            self._scanner.submit(self._vouch, generation).add_done_callback(
                _logged("the sort classes of the store's objects could not be scanned"))
        return generation, frozenset()

    def _vouch(self, generation: int) -> None:
        """Scan a copy of the store (a write's fork waits for no scan); a scan that began after a later write, or
        overlapped one, is dropped, and one whose generation has passed while it waited (writes come faster than
        scans end) is not begun."""
        if self._generation != generation or self._closed:
            return
        predicates = self.sandbox(EmbeddedStore.one_class_predicates, timeout=VOUCH_TIMEOUT)
        if self._generation == generation:
            self._vouched = (generation, predicates)

    @property
    def state(self) -> None:
        """No name for the store's last write outside this process: a release log checks the content itself."""
        return None

    def select(self, sparql: str, timeout: float, cap: int = 1_000_000) -> list[dict[str, str]]:
        """A SELECT run by a worker, as {variable: lexical value} rows (for the service's own statistics)."""
        answer = self.execute(Job(sparql, {"select": "json"}, cap), timeout)
        body = json.loads(answer.body)
        return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]

    def sandbox(self, function: Callable[..., T], *args: object, timeout: float) -> T:
        """Run `function(store_copy, *args)` in a throw-away forked copy of the store; kill it at the deadline."""
        checkpoint = None
        with self._fork_lock:
            if self._checkpoints:
                checkpoint = self._checkpoints.take()
                conn, process = start_child(_sandboxed_checkpoint, (checkpoint, function, args))
            else:
                conn, process = start_child(sandboxed, (self._store, function, args))
        try:
            return wait_for_child(conn, process, timeout)  # type: ignore[return-value]
        finally:
            if checkpoint:
                shutil.rmtree(checkpoint, ignore_errors=True)

    def write(self, change: Callable[[], T]) -> T:
        """Run a change to the store with no worker being forked meanwhile; stale workers are then replaced."""
        with self._fork_lock:
            try:
                outcome = change()
            finally:
                self._generation += 1
                if self._checkpoints:
                    self._checkpoints.renew()
        with self._count_lock:
            stale = list(self._idle)
            self._idle.clear()
        for worker in stale:
            self._replace(worker)
        return outcome

    def _release(self, worker: _Worker) -> None:
        if self._stale(worker):
            self._replace(worker)
        else:
            self._keep(worker)

    def _stale(self, worker: _Worker) -> bool:
        """Whether a worker must be replaced: it predates a write, ran a long query (at lowest priority), holds a job
        nobody waits for, or died."""
        return (worker.generation != self._generation or worker.long or worker.orphaned
                or not worker.process.is_alive())

    def _keep(self, worker: _Worker) -> None:
        if not self._retired(worker):
            self._put(worker)

    def _replace(self, worker: _Worker) -> None:
        if self._stopped(worker):
            self._refill()

    def _stopped(self, worker: _Worker) -> bool:
        """Kill a worker; True when another is to take its place (False: it was no longer needed). It stays counted
        live for its replacement: a query waiting in line meanwhile must not start one of its own."""
        if self._retired(worker):
            return False
        self._back_in_line(worker)
        worker.kill()
        self.restarts += 1
        return True

    def _refill(self) -> None:
        """Start the replacement of a stopped worker."""
        self._put(self._spawn(counted=True))

    def _retired(self, worker: _Worker) -> bool:
        """Stop a worker that is no longer needed (the long queries it was added for have ended, or the pool closes);
        True if it was."""
        with self._count_lock:
            self._busy.discard(worker)
            if (self._live - self._long_busy() <= self._size or worker.ahead is not None) and not self._closed:
                return False
            self._live -= 1
        self._back_in_line(worker)
        worker.kill()
        return True

    def close(self) -> None:
        self._closed = True
        self._scanner.shutdown(wait=True)
        self._replacer.shutdown(wait=True)
        with self._count_lock:
            idle = list(self._idle)
            self._idle.clear()
        for worker in idle:
            worker.kill()
        if self._checkpoints:
            self._checkpoints.close()
