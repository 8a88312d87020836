"""Long queries do not hold short ones up: they run at the lowest CPU priority, more workers come while they hold
all the others, and the pool shrinks back after; a query that found no worker costs its client nothing."""

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable, Coroutine

import pytest
import uvloop

from graph import EmbeddedStore, Job, QueryPool, QueryTimeoutError, load_default
from graph.pool import _Waiter, _Worker
from graph.store import Answer

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SHORT = "ASK { <https://w3id.org/ecrn/id/region/masovia> ?p ?o }"


@pytest.fixture(scope="module")
def loaded() -> EmbeddedStore:
    store = EmbeddedStore()
    load_default(store)
    return store


def job(text: str) -> Job:
    return Job(text, {"select": "json", "ask": "json"}, 10)


def run_long(pool: QueryPool, limit: float, errors: list[QueryTimeoutError]) -> threading.Thread:
    def run() -> None:
        try:
            pool.execute(job(RUNAWAY), limit)
        except QueryTimeoutError as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_short_query_gets_a_new_worker_while_a_long_one_holds_the_only_one(loaded: EmbeddedStore) -> None:
    pool = QueryPool(loaded, 1, extra=2)
    pool.start()
    try:
        errors: list[QueryTimeoutError] = []
        long = run_long(pool, 4.0, errors)
        time.sleep(1.5)  # past the 1 s after which a query is long
        (busy,) = pool._busy
        assert busy.long and os.getpriority(os.PRIO_PROCESS, busy.process.pid) == 19
        started = time.monotonic()
        assert pool.execute(job(SHORT), 10).body
        assert time.monotonic() - started < 2, "the short query did not wait for the long one"
        long.join()
        assert len(errors) == 1 and 3.5 < errors[0].worker_seconds < 4.0 + 5  # stopped within the limit + 5 s
        assert pool._live == 1 and len(pool._idle) == 1, "the pool shrinks back to its size"
        (fresh,) = list(pool._idle)
        assert os.getpriority(os.PRIO_PROCESS, fresh.process.pid) == 0, "the long query's worker was replaced"
    finally:
        pool.close()


def test_the_pool_grows_no_further_than_its_extra_workers(loaded: EmbeddedStore) -> None:
    pool = QueryPool(loaded, 1, extra=1)
    pool.start()
    try:
        errors: list[QueryTimeoutError] = []
        threads = [run_long(pool, 8.0, errors)]  # long enough that no worker frees while the short query waits
        time.sleep(1.3)
        threads.append(run_long(pool, 8.0, errors))  # takes the one extra worker, and becomes long too
        time.sleep(1.3)
        with pytest.raises(QueryTimeoutError) as waited:
            pool.execute(job(SHORT), 0.3)
        assert waited.value.worker_seconds == 0.0, "no worker came free: it cost nothing"
        assert pool._live == 2
        for thread in threads:
            thread.join()
        assert pool._live == 1
    finally:
        pool.close()


def test_a_query_awaited_on_the_event_loop_stops_its_worker_when_the_request_goes_away(loaded: EmbeddedStore) -> None:
    """The server awaits workers on its event loop. A query that finds none idle waits in line; a request that goes
    away while its query runs has the worker killed at once, and the replacement goes to the query in line."""
    pool = QueryPool(loaded, 1)
    pool.start()
    try:
        async def queries() -> int:
            runaway = asyncio.create_task(pool.astream(job(RUNAWAY), 30))
            await asyncio.sleep(0.5)
            (busy,) = pool._busy
            short = asyncio.create_task(pool.astream(job(SHORT), 10))
            await asyncio.sleep(0.3)
            assert not short.done() and len(pool._line) == 1, "the short query waits in line"
            runaway.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runaway
            head, rest = await short  # answered by the replacement, started in a thread
            assert rest is None and json.loads(head.body)["boolean"] is True
            return busy.process.pid
        pid = asyncio.run(queries())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert pool._live == 1 and len(pool._idle) == 1 and not pool._busy and not pool._line
    finally:
        pool.close()


def test_threads_and_the_event_loop_wait_in_one_line(loaded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """First come, first served, however a query waits; one whose request goes away leaves the line, and one that
    waits past its time limit is a timeout that cost no worker time."""
    pool = QueryPool(loaded, 1)
    pool.start()
    served: list[str] = []
    handed: list[str] = []  # to whom a worker went, in order (when each query ends is up to the scheduler)
    wake = _Waiter.wake
    monkeypatch.setattr(_Waiter, "wake", lambda w: handed.append("loop" if w.loop else "thread") or wake(w))

    async def asked(name: str) -> None:
        await pool.astream(job(SHORT), 30)
        served.append(name)

    try:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(job(RUNAWAY), 1.5))  # holds the only worker, then is stopped
            await asyncio.sleep(0.2)
            thread = threading.Thread(target=lambda: (pool.execute(job(SHORT), 30), served.append("thread")))
            thread.start()
            await asyncio.sleep(0.2)
            gone = asyncio.create_task(asked("gone"))
            last = asyncio.create_task(asked("last"))
            await asyncio.sleep(0.2)
            assert len(pool._line) == 3
            gone.cancel()
            with pytest.raises(asyncio.CancelledError):
                await gone
            assert len(pool._line) == 2, "the query whose request went away left the line"
            with pytest.raises(QueryTimeoutError) as waited:
                await pool.astream(job(SHORT), 0.3)
            assert waited.value.worker_seconds == 0.0
            with pytest.raises(QueryTimeoutError):
                await first
            await last
            thread.join()
        asyncio.run(queries())
        assert handed == ["thread", "loop"] and sorted(served) == ["last", "thread"]
        assert pool._live == 1 and len(pool._idle) == 1 and not pool._busy and not pool._line
    finally:
        pool.close()


def said(head: Answer) -> str:
    """The one value of a one-row answer such as `constant("a")`'s."""
    (row,) = json.loads(head.body)["results"]["bindings"]
    return str(row["x"]["value"])


def constant(text: str) -> Job:
    return job(f'SELECT ?x WHERE {{ BIND("{text}" AS ?x) }}')


def test_a_query_waiting_while_a_worker_is_replaced_waits_for_the_replacement(
        loaded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker stopped at a time limit stays counted until its replacement is there: a query waiting in line
    meanwhile gets the replacement, and starts no worker of its own (it did while the replacement was on its way:
    a flaky test found it)."""
    pool = QueryPool(loaded, 1)
    pool.start()
    started = []
    start, refill = _Worker.__init__, QueryPool._refill

    def counted_start(worker: _Worker, *args: object) -> None:
        started.append(worker)
        start(worker, *args)  # type: ignore[arg-type]

    def late_refill(self: QueryPool) -> None:
        time.sleep(0.5)  # the replacement is on its way
        refill(self)

    monkeypatch.setattr(_Worker, "__init__", counted_start)
    monkeypatch.setattr(QueryPool, "_refill", late_refill)
    try:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(job(RUNAWAY), 0.5))
            await asyncio.sleep(0.2)
            waiting = asyncio.create_task(pool.astream(job(SHORT), 30))
            with pytest.raises(QueryTimeoutError):
                await first
            await waiting
        asyncio.run(queries())
    finally:
        pool.close()  # (after the replacement on its way)
    assert len(started) == 1 and pool.restarts == 1


def busy(text: str) -> Job:
    """`constant(text)` after about a quarter of a second of work (counting pairs of triples that share a
    predicate and an object, six times over): queries started after it find its worker still busy however late the
    event loop runs them, and it stays short of LONG_QUERY (a worker that ran a long query is replaced, not kept)."""
    pairs = "{ SELECT (COUNT(*) AS ?n) WHERE { " + " UNION ".join(["{ ?a ?p ?b . ?c ?p ?b }"] * 6) + " } }"
    return job(f'SELECT ?x WHERE {{ {pairs} BIND("{text}" AS ?x) }}')


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_a_worker_freed_on_the_event_loop_is_sent_the_next_query_at_once(
        loaded: EmbeddedStore, run: Callable[[Coroutine[None, None, None]], None]) -> None:
    """The query that gives a worker back sends it the job of the first query in line there and then: the worker
    does not idle until that query's coroutine runs again. Each query still gets its own answer."""
    pool = QueryPool(loaded, 1)
    pool.start()
    try:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(busy("first"), 30))
            await asyncio.sleep(0)  # it takes the only worker
            second = asyncio.create_task(pool.astream(constant("second"), 30))
            await asyncio.sleep(0)
            (waiter,) = pool._line
            head, _ = await first
            assert said(head) == "first"
            assert waiter.sent is not None, "the worker was given the next job as it was given back"
            head, _ = await second
            assert said(head) == "second"
        run(queries())
        assert pool.restarts == 0 and len(pool._idle) == 1 and not pool._busy and not pool._line
    finally:
        pool.close()


def test_a_query_gone_after_its_job_was_sent_has_the_worker_replaced(loaded: EmbeddedStore) -> None:
    """A request that goes away once its job was sent with the worker leaves that worker running it: the worker is
    replaced, so that the next query gets its own answer and not the abandoned one's."""
    pool = QueryPool(loaded, 1)
    pool.start()
    try:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(busy("first"), 30))
            await asyncio.sleep(0)
            gone = asyncio.create_task(pool.astream(constant("gone"), 30))
            await asyncio.sleep(0)
            last = asyncio.create_task(pool.astream(constant("last"), 30))
            await asyncio.sleep(0)
            waiting, _ = pool._line
            await first
            assert waiting.sent is not None
            gone.cancel()
            with pytest.raises(asyncio.CancelledError):
                await gone
            head, _ = await last
            assert said(head) == "last"
        asyncio.run(queries())
        assert pool.restarts == 1
    finally:
        pool.close()


def test_a_worker_for_a_waiter_whose_loop_has_closed_goes_to_the_next(loaded: EmbeddedStore) -> None:
    pool = QueryPool(loaded, 1)
    pool.start()
    try:
        (worker,) = list(pool._idle)
        held = pool._join_line(None)  # the only worker, taken
        loop = asyncio.new_event_loop()
        orphan = pool._join_line(loop)
        loop.close()
        waiting = pool._join_line(None)
        assert isinstance(orphan, _Waiter) and isinstance(waiting, _Waiter)
        assert held is worker and orphan.worker is None and len(pool._line) == 2
        pool._release(worker)
        assert waiting.event.is_set() and waiting.worker is worker and not pool._line
    finally:
        pool.close()


def test_a_thread_interrupted_in_line_leaves_it(loaded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    class Interrupted(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            raise KeyboardInterrupt

    pool = QueryPool(loaded, 1)
    pool.start()
    try:
        held = pool._join_line(None)  # the only worker, taken
        made = _Waiter.__init__

        def interrupted(waiter: _Waiter, loop: asyncio.AbstractEventLoop | None, job: Job | None = None) -> None:
            made(waiter, loop, job)
            waiter.event = Interrupted()

        monkeypatch.setattr(_Waiter, "__init__", interrupted)
        with pytest.raises(KeyboardInterrupt):
            pool.execute(job(SHORT), 10)
        assert not pool._line, "the interrupted query left the line"
        assert isinstance(held, _Worker)
        pool._release(held)
        assert len(pool._idle) == 1 and not pool._busy
    finally:
        pool.close()


def test_a_query_on_the_event_loop_gets_a_new_worker_while_a_long_one_holds_the_only_one(
        loaded: EmbeddedStore) -> None:
    pool = QueryPool(loaded, 1, extra=1)
    pool.start()
    try:
        async def queries() -> float:
            runaway = asyncio.create_task(pool.astream(job(RUNAWAY), 3.0))
            await asyncio.sleep(1.3)  # past the 1 s after which a query is long
            started = time.monotonic()
            head, _ = await pool.astream(job(SHORT), 10)
            took = time.monotonic() - started
            assert json.loads(head.body)["boolean"] is True and pool._live == 2
            with pytest.raises(QueryTimeoutError):
                await runaway
            return took
        assert asyncio.run(queries()) < 1.5, "the short query did not wait for the long one"
        assert pool._live == 1 and len(pool._idle) == 1, "the pool shrinks back to its size"
    finally:
        pool.close()


def test_a_worker_awaited_on_uvloop_keeps_a_blocking_pipe(loaded: EmbeddedStore) -> None:
    """uvloop makes a descriptor it watches non-blocking; read so, an answer written in two pieces would break off
    between them. The pool puts the pipe back as it was."""
    pool = QueryPool(loaded, 1)
    pool.start()
    try:
        (worker,) = list(pool._idle)
        head, _ = uvloop.run(pool.astream(job(SHORT), 10))
        assert json.loads(head.body)["boolean"] is True
        assert os.get_blocking(worker.conn.fileno())
    finally:
        pool.close()
