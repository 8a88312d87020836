"""Fair use: per client, a number of queries at once and a budget of worker time; past either, 429 + Retry-After."""

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from graph import EmbeddedStore, QueryTimeoutError
from service.app import create_app
from service.fairness import Fairness
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


def test_a_client_over_its_queries_at_once_waits_and_others_do_not() -> None:
    fairness = Fairness(max_queries=2, budget=0, window=60)
    with fairness.turn("a"), fairness.turn("a"):
        with pytest.raises(TooManyRequestsError) as refused, fairness.turn("a"):
            pass
        assert refused.value.headers == {"Retry-After": "1"}
        with fairness.turn("b"):
            pass
    with fairness.turn("a"):
        pass


def test_a_client_over_its_budget_is_told_when_enough_of_it_frees() -> None:
    clock = Clock()
    fairness = Fairness(max_queries=0, budget=60, window=60, clock=clock)
    for seconds in (40, 30):  # 70 s spent at t=1000 and t=1010
        with fairness.turn("a") as turn:
            turn.seconds = seconds
        clock.now += 10
    with pytest.raises(TooManyRequestsError) as refused, fairness.turn("a"):
        pass
    assert refused.value.headers == {"Retry-After": "40"}  # the first 40 s expire at t=1060; now t=1020
    clock.now = 1060.5
    with fairness.turn("a"):
        pass


def test_a_query_stopped_at_its_time_limit_is_charged_the_worker_time_it_used() -> None:
    fairness = Fairness(max_queries=0, budget=10, window=60, clock=Clock())
    with pytest.raises(QueryTimeoutError), fairness.turn("a"):
        raise QueryTimeoutError("no worker came free", worker_seconds=0.0)
    with fairness.turn("a"):  # waiting for a worker cost the client nothing
        pass
    with pytest.raises(QueryTimeoutError), fairness.turn("a"):
        raise QueryTimeoutError("stopped", worker_seconds=10.0)
    with pytest.raises(TooManyRequestsError), fairness.turn("a"):
        pass


@pytest.fixture
def fair(store: EmbeddedStore) -> Iterator[str]:
    """A real uvicorn (which takes the client from X-Forwarded-For sent from loopback, a trusted proxy)."""
    settings = Settings(client_max_queries=1, client_query_seconds=1.5, query_workers=2, query_timeout=10,
                        answer_cache_bytes=0)  # a cached answer costs no worker time and is never held back
    with serve_in_thread(create_app(settings, store=store)) as url:
        yield url


def ask(url: str, client: str, query: str = SMALL, **params: str) -> httpx.Response:
    return httpx.get(f"{url}/sparql", params={"query": query, **params}, timeout=30,
                     headers={"X-Forwarded-For": client, "Accept": "application/sparql-results+json"})


def test_over_http_one_client_is_held_back_while_another_is_served(fair: str) -> None:
    runaway = threading.Thread(target=ask, args=(fair, "10.0.0.1", RUNAWAY), kwargs={"timeout": "4"})
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
