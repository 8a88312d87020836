"""Fair use: per client, a number of queries at once and a budget of worker time; past either, 429 + Retry-After."""

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from graph import EmbeddedStore, QueryTimeoutError
from service.app import create_app
from service.fairness import LINE_PER_SLOT, Fairness
from service.problems import TooManyRequestsError
from service.settings import Settings
from tests.conftest import serve_in_thread

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SMALL = "ASK { <https://w3id.org/ecrn/id/region/masovia> ?p ?o }"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_over_its_queries_at_once_is_refused_and_others_are_not() -> None:
    async def queries() -> None:
        fairness = Fairness(max_queries=2, budget=0, window=60)
        async with fairness.turn("a"), fairness.turn("a"):
            with pytest.raises(TooManyRequestsError) as refused:
                async with fairness.turn("a"):
                    pass
            assert refused.value.headers == {"Retry-After": "1"}
            async with fairness.turn("b"):
                pass
        async with fairness.turn("a"):
            pass
    asyncio.run(queries())


def test_a_client_over_its_queries_at_once_waits_in_line_for_a_slot() -> None:
    async def queries() -> list[str]:
        fairness = Fairness(max_queries=1, budget=0, window=60, wait=30)
        ran: list[str] = []
        first_runs, first_may_end = asyncio.Event(), asyncio.Event()

        async def query(name: str, until: asyncio.Event | None = None) -> None:
            async with fairness.turn("a"):
                ran.append(name)
                first_runs.set()
                if until:
                    await until.wait()

        first = asyncio.create_task(query("first", first_may_end))
        await first_runs.wait()
        later = [asyncio.create_task(query(name)) for name in ("second", "third")]
        await asyncio.sleep(0.05)
        assert ran == ["first"], "the others wait while the first holds the client's one slot"
        first_may_end.set()
        await asyncio.gather(first, *later)
        return ran
    assert asyncio.run(queries()) == ["first", "second", "third"]  # in the order they came


def test_a_wait_in_line_ends_in_429_at_its_limit_and_the_line_has_an_end() -> None:
    async def queries() -> None:
        fairness = Fairness(max_queries=1, budget=0, window=60, wait=0.2)
        async with fairness.turn("a"):
            with pytest.raises(TooManyRequestsError) as late:
                async with fairness.turn("a"):
                    pass
            assert "0.2 s passed" in late.value.detail
        fairness.wait = 30
        hold = asyncio.Event()

        async def query() -> None:
            async with fairness.turn("a"):
                await hold.wait()

        tasks = [asyncio.create_task(query()) for _ in range(1 + LINE_PER_SLOT)]  # one runs, the others wait
        await asyncio.sleep(0.05)
        with pytest.raises(TooManyRequestsError):  # the line is full
            async with fairness.turn("a"):
                pass
        tasks[-1].cancel()  # a request that goes away leaves the line
        await asyncio.sleep(0.05)
        hold.set()
        await asyncio.gather(*tasks[:-1])
        async with fairness.turn("a"):  # every slot given back
            pass
        assert not fairness._clients
    asyncio.run(queries())


def test_a_query_that_waited_in_line_is_checked_against_the_budget_its_elders_spent() -> None:
    async def queries() -> None:
        fairness = Fairness(max_queries=1, budget=5, window=60, wait=30, clock=Clock())
        first_runs, first_may_end = asyncio.Event(), asyncio.Event()
        ran: list[str] = []

        async def first() -> None:
            async with fairness.turn("a") as turn:
                first_runs.set()
                await first_may_end.wait()
                turn.seconds = 6  # over the budget, which was untouched when the second came

        async def second() -> None:
            async with fairness.turn("a"):
                ran.append("second")

        running = asyncio.create_task(first())
        await first_runs.wait()
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.05)
        first_may_end.set()
        await running
        with pytest.raises(TooManyRequestsError) as refused:
            await waiting
        assert ran == [] and "Retry-After" in refused.value.headers
        state = fairness._clients["a"]
        assert state.running == 0 and not state.waiting, "the refused query gave its slot back"
    asyncio.run(queries())


def test_a_client_over_its_budget_is_told_when_enough_of_it_frees() -> None:
    async def queries() -> None:
        clock = Clock()
        fairness = Fairness(max_queries=0, budget=60, window=60, clock=clock)
        for seconds in (40, 30):  # 70 s spent at t=1000 and t=1010
            async with fairness.turn("a") as turn:
                turn.seconds = seconds
            clock.now += 10
        with pytest.raises(TooManyRequestsError) as refused:
            async with fairness.turn("a"):
                pass
        assert refused.value.headers == {"Retry-After": "40"}  # the first 40 s expire at t=1060; now t=1020
        clock.now = 1060.5
        async with fairness.turn("a") as turn:  # 30 s left in the window, and 25 s more: 55 s
            turn.seconds = 25
        async with fairness.turn("a") as turn:  # still within 60 s: admitted, and 6 s more make 61 s
            turn.seconds = 6
        with pytest.raises(TooManyRequestsError):
            async with fairness.turn("a"):
                pass
        clock.now = 1070.5  # the 30 s charged at t=1010 expire: 31 s left
        async with fairness.turn("a"):
            pass
    asyncio.run(queries())


def test_a_query_stopped_at_its_time_limit_is_charged_the_worker_time_it_used() -> None:
    async def queries() -> None:
        fairness = Fairness(max_queries=0, budget=10, window=60, clock=Clock())
        with pytest.raises(QueryTimeoutError):
            async with fairness.turn("a"):
                raise QueryTimeoutError("no worker came free", worker_seconds=0.0)
        async with fairness.turn("a"):  # waiting for a worker cost the client nothing
            pass
        with pytest.raises(QueryTimeoutError):
            async with fairness.turn("a"):
                raise QueryTimeoutError("stopped", worker_seconds=10.0)
        with pytest.raises(TooManyRequestsError):
            async with fairness.turn("a"):
                pass
    asyncio.run(queries())


@pytest.fixture
def fair(store: EmbeddedStore) -> Iterator[str]:
    """A real uvicorn (which takes the client from X-Forwarded-For sent from loopback, a trusted proxy)."""
    settings = Settings(client_max_queries=1, client_wait_seconds=0, client_query_seconds=1.5, query_workers=2,
                        query_timeout=10, answer_cache_bytes=0)  # a cached answer costs no worker time: never held
    with serve_in_thread(create_app(settings, store=store)) as url:
        yield url


def ask(url: str, client: str, query: str = SMALL, **params: str) -> httpx.Response:
    return httpx.get(f"{url}/sparql", params={"query": query, **params}, timeout=30,
                     headers={"X-Forwarded-For": client, "Accept": "application/sparql-results+json"})


def test_over_http_one_client_is_held_back_while_another_is_served(fair: str) -> None:
    def run_away() -> None:  # asked again if it came while a query of the loop below held the client's slot
        for _ in range(1000):
            if ask(fair, "10.0.0.1", RUNAWAY, timeout="4").status_code != 429:
                return

    runaway = threading.Thread(target=run_away)
    runaway.start()
    try:
        deadline = time.monotonic() + 3.8  # (a busy machine took more than 1.8 s to start it)
        while time.monotonic() < deadline:  # until the runaway query runs (it holds the client's one slot for 4 s)
            refused = ask(fair, "10.0.0.1")
            if refused.status_code == 429:
                break
            time.sleep(0.02)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert ask(fair, "10.0.0.2").status_code == 200, "another client is served meanwhile"
    finally:
        runaway.join()
    over_budget = ask(fair, "10.0.0.1")  # its runaway query was charged its 4 s limit: over the 1.5 s budget
    assert over_budget.status_code == 429 and 1 <= int(over_budget.headers["retry-after"]) <= 60
    assert ask(fair, "10.0.0.3").status_code == 200


def test_over_http_a_clients_queries_past_its_limit_wait_their_turn(store: EmbeddedStore) -> None:
    """What a federating engine (Comunica) does: several queries at once, and no retry of a 429."""
    settings = Settings(client_max_queries=1, client_wait_seconds=30, client_query_seconds=0, query_workers=2,
                        query_timeout=10, answer_cache_bytes=0)
    with serve_in_thread(create_app(settings, store=store)) as url, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: ask(url, "10.0.0.1", RUNAWAY, timeout="1"), range(4)))
    assert [a.status_code for a in answers] == [503] * 4, "each ran (to its 1 s limit) in turn; none was refused"
