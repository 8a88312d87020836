"""Long queries do not hold short ones up: they run at the lowest CPU priority, more workers come while they hold
all the others, and the pool shrinks back after; a query that found no worker costs its client nothing."""

import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator

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


@contextlib.contextmanager
def running_pool(store: EmbeddedStore, size: int, extra: int = 0) -> Iterator[QueryPool]:
    """A started pool, closed after."""
    pool = QueryPool(store, size, extra=extra)
    pool.start()
    try:
        yield pool
    finally:
        pool.close()


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
    with running_pool(loaded, 1, extra=2) as pool:
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


def test_the_pool_grows_no_further_than_its_extra_workers(loaded: EmbeddedStore) -> None:
    with running_pool(loaded, 1, extra=1) as pool:
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


def test_a_query_awaited_on_the_event_loop_stops_its_worker_when_the_request_goes_away(loaded: EmbeddedStore) -> None:
    """The server awaits workers on its event loop. A query that finds none idle has its job sent behind the running
    one; a request that goes away while its query runs has the worker killed at once, and the replacement runs the
    waiting query."""
    with running_pool(loaded, 1) as pool:
        async def queries() -> int:
            runaway = asyncio.create_task(pool.astream(job(RUNAWAY), 30))
            await asyncio.sleep(0.5)
            (busy,) = pool._busy
            short = asyncio.create_task(pool.astream(job(SHORT), 10))
            await asyncio.sleep(0.3)
            assert not short.done() and busy.ahead is not None and not pool._line, "the short query waits behind"
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
def test_a_busy_worker_is_sent_the_next_query_behind_the_running_one(
        loaded: EmbeddedStore, run: Callable[[Coroutine[None, None, None]], None]) -> None:
    """A query that finds the worker busy has its job sent behind the running one, so that the worker goes on to it
    without waiting for the event loop; the next in line is sent behind that one as the worker is handed over.
    Each query still gets its own answer."""
    with running_pool(loaded, 1) as pool:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(busy("first"), 30))
            await asyncio.sleep(0)  # it takes the only worker
            second = asyncio.create_task(pool.astream(constant("second"), 30))
            await asyncio.sleep(0)
            third = asyncio.create_task(pool.astream(constant("third"), 30))
            await asyncio.sleep(0)
            (worker,) = pool._busy
            (waiting,) = pool._line
            assert worker.ahead is not None and worker.ahead.job == constant("second"), "sent behind the first"
            head, _ = await first
            assert said(head) == "first"
            assert worker.ahead is waiting and not pool._line, "the third was sent behind the second at hand-over"
            assert [said((await task)[0]) for task in (second, third)] == ["second", "third"]
        run(queries())
        assert pool.restarts == 0 and len(pool._idle) == 1 and not pool._busy and not pool._line


def test_a_query_is_sent_behind_the_query_begun_last(loaded: EmbeddedStore) -> None:
    """Of two busy workers, the one whose query began last gets the next job: the longer a query has run, the longer
    it is likely to run on."""
    with running_pool(loaded, 2) as pool:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(busy("first"), 30))
            await asyncio.sleep(0.02)
            (earlier,) = pool._busy
            second = asyncio.create_task(pool.astream(busy("second"), 30))
            await asyncio.sleep(0.02)
            (later,) = pool._busy - {earlier}
            third = asyncio.create_task(pool.astream(constant("third"), 30))
            await asyncio.sleep(0)
            assert later.ahead is not None and earlier.ahead is None and not pool._line
            assert [said((await task)[0]) for task in (first, second, third)] == ["first", "second", "third"]
        asyncio.run(queries())
        assert pool.restarts == 0


def test_a_query_gone_after_its_job_was_sent_has_the_worker_replaced(loaded: EmbeddedStore) -> None:
    """A request that goes away once its job was sent, behind a running query or with the worker, leaves that worker
    to run it: the worker is replaced when given back (nothing is sent behind it meanwhile), so that the next query
    gets its own answer and not the abandoned one's."""
    with running_pool(loaded, 1) as pool:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(busy("first"), 30))
            await asyncio.sleep(0)
            gone = asyncio.create_task(pool.astream(constant("gone"), 30))
            await asyncio.sleep(0)
            (worker,) = pool._busy
            assert worker.ahead is not None
            gone.cancel()  # while its job waits behind the first
            with pytest.raises(asyncio.CancelledError):
                await gone
            assert worker.orphaned and worker.ahead is None
            last = asyncio.create_task(pool.astream(constant("last"), 30))
            await asyncio.sleep(0)
            assert len(pool._line) == 1, "nothing is sent behind a worker that holds an abandoned job"
            assert said((await first)[0]) == "first"
            assert said((await last)[0]) == "last"
            assert pool.restarts == 1

            first = asyncio.create_task(pool.astream(busy("first again"), 30))
            await asyncio.sleep(0)
            gone = asyncio.create_task(pool.astream(constant("gone again"), 30))
            await asyncio.sleep(0)
            assert said((await first)[0]) == "first again"
            (worker,) = pool._busy
            assert worker.ahead is None and not gone.done(), "handed the worker, its job running, not yet awaited"
            gone.cancel()
            with pytest.raises(asyncio.CancelledError):
                await gone
            assert said((await pool.astream(constant("last again"), 30))[0]) == "last again"
        asyncio.run(queries())
        assert pool.restarts == 2


def test_a_query_behind_one_stopped_at_its_time_limit_runs_on_the_replacement(loaded: EmbeddedStore) -> None:
    with running_pool(loaded, 1) as pool:
        async def queries() -> None:
            runaway = asyncio.create_task(pool.astream(job(RUNAWAY), 0.5))
            await asyncio.sleep(0.1)
            (worker,) = pool._busy
            waiting = asyncio.create_task(pool.astream(constant("waiting"), 30))
            await asyncio.sleep(0.1)
            assert worker.ahead is not None
            with pytest.raises(QueryTimeoutError):
                await runaway
            assert said((await waiting)[0]) == "waiting"
            assert worker not in pool._idle
        asyncio.run(queries())
        assert pool.restarts == 1 and len(pool._idle) == 1


def test_a_query_behind_one_that_turns_long_goes_back_in_line(loaded: EmbeddedStore) -> None:
    """A job sent behind a query that runs past LONG_QUERY is not left waiting for it: the query goes back to the
    head of the line and gets the worker added while long queries hold the others."""
    with running_pool(loaded, 1, extra=1) as pool:
        async def queries() -> float:
            runaway = asyncio.create_task(pool.astream(job(RUNAWAY), 4.0))
            await asyncio.sleep(0.2)
            (worker,) = pool._busy
            started = time.monotonic()
            short = asyncio.create_task(pool.astream(job(SHORT), 10))
            await asyncio.sleep(0.1)
            assert worker.ahead is not None
            head, _ = await short
            took = time.monotonic() - started
            assert json.loads(head.body)["boolean"] is True and worker.orphaned and pool._live == 2
            with pytest.raises(QueryTimeoutError):
                await runaway
            return took
        assert asyncio.run(queries()) < 2.0, "the short query waited for the long one"
        assert pool._live == 1 and len(pool._idle) == 1, "the pool shrinks back to its size"


def test_a_query_behind_a_busy_worker_past_its_time_limit_is_a_timeout(loaded: EmbeddedStore) -> None:
    with running_pool(loaded, 1) as pool:
        async def queries() -> None:
            first = asyncio.create_task(pool.astream(busy("first"), 30))
            await asyncio.sleep(0)
            with pytest.raises(QueryTimeoutError) as waited:
                await pool.astream(constant("late"), 0.05)
            assert waited.value.worker_seconds == 0.0
            assert said((await first)[0]) == "first"
            assert said((await pool.astream(constant("next"), 30))[0]) == "next", "not the abandoned answer"
        asyncio.run(queries())
        assert pool.restarts == 1


def test_a_worker_for_a_waiter_whose_loop_has_closed_goes_to_the_next(loaded: EmbeddedStore) -> None:
    with running_pool(loaded, 1) as pool:
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


def test_a_thread_interrupted_in_line_leaves_it(loaded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    class Interrupted(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            raise KeyboardInterrupt

    with running_pool(loaded, 1) as pool:
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


def test_a_query_on_the_event_loop_gets_a_new_worker_while_a_long_one_holds_the_only_one(
        loaded: EmbeddedStore) -> None:
    with running_pool(loaded, 1, extra=1) as pool:
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


def test_a_worker_awaited_on_uvloop_keeps_a_blocking_pipe(loaded: EmbeddedStore) -> None:
    """uvloop makes a descriptor it watches non-blocking; read so, an answer written in two pieces would break off
    between them. The pool puts the pipe back as it was."""
    with running_pool(loaded, 1) as pool:
        (worker,) = list(pool._idle)
        head, _ = uvloop.run(pool.astream(job(SHORT), 10))
        assert json.loads(head.body)["boolean"] is True
        assert os.get_blocking(worker.conn.fileno())
