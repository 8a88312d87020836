"""Limits that hold under attack: time limit with the worker killed, row cap, nesting guard, remote access."""

import csv
import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from graph import EmbeddedStore
from service.app import create_app
from service.settings import Settings

# A cross product the engine cannot finish in seconds: every quad against every quad, three times.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SMALL = "ASK { <https://w3id.org/ecrn/id/region/masovia> ?p ?o }"


@pytest.fixture(scope="module")
def strict(store: EmbeddedStore) -> Iterator[TestClient]:
    settings = Settings(query_timeout=2, row_cap=5, max_nesting=20, query_workers=2)
    with TestClient(create_app(settings, store=store)) as client:
        yield client


@pytest.fixture(scope="module")
def patient(store: EmbeddedStore) -> Iterator[TestClient]:
    """A longer time limit, so that what happens meanwhile does not race the deadline on a busy machine."""
    with TestClient(create_app(Settings(query_timeout=6, query_workers=2), store=store)) as client:
        yield client


def worker_pids(client: TestClient) -> set[int]:
    pool = client.app.state.pool  # type: ignore[attr-defined]
    return {w.process.pid for w in list(pool._idle)}


def replaced(client: TestClient, workers: int) -> bool:
    """Whether the pool has `workers` idle workers again within 10 s (a killed worker is replaced in a thread)."""
    ends = time.monotonic() + 10
    while len(worker_pids(client)) < workers and time.monotonic() < ends:
        time.sleep(0.01)
    return len(worker_pids(client)) == workers


def test_a_runaway_query_is_stopped_at_the_time_limit_and_its_worker_killed(strict: TestClient) -> None:
    pool = strict.app.state.pool  # type: ignore[attr-defined]
    before, restarts = worker_pids(strict), pool.restarts
    started = time.monotonic()
    response = strict.get("/sparql", params={"query": RUNAWAY})
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["title"] == "Query time limit reached"
    assert elapsed < 2 + 5
    assert pool.restarts > restarts
    gone = before - worker_pids(strict)
    assert gone
    for pid in gone:  # the killed worker's CPU is released when the answer comes: the process no longer exists
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert replaced(strict, 2)  # its replacement starts meanwhile


def test_other_clients_are_served_while_a_runaway_query_burns(patient: TestClient) -> None:
    outcome: dict[str, int] = {}
    runaway = threading.Thread(target=lambda: outcome.update(
        runaway=patient.get("/sparql", params={"query": RUNAWAY}).status_code))
    runaway.start()
    time.sleep(0.3)
    answers = [patient.get("/sparql", params={"query": SMALL}).json()["boolean"] for _ in range(5)]
    served_while_burning = runaway.is_alive()
    runaway.join()
    assert answers == [True] * 5 and served_while_burning
    assert outcome["runaway"] == 503


def test_a_client_may_lower_the_time_limit_but_not_raise_it(patient: TestClient, strict: TestClient) -> None:
    started = time.monotonic()
    response = patient.get("/sparql", params={"query": RUNAWAY, "timeout": "0.5"})
    assert response.status_code == 503 and "0.5 s" in response.json()["detail"]
    assert time.monotonic() - started < 6
    assert "2 s" in strict.get("/sparql", params={"query": RUNAWAY, "timeout": "600"}).json()["detail"]
    assert strict.get("/sparql", params={"query": SMALL, "timeout": "soon"}).status_code == 400


def test_a_long_answer_is_cut_at_the_row_cap_and_says_so(strict: TestClient) -> None:
    query = "SELECT ?r WHERE { ?r a <https://w3id.org/ecrn/def/Region> }"
    response = strict.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert response.headers["result-truncated"] == "true; limit=5"
    body = response.json()
    assert body["truncated"] is True and len(body["results"]["bindings"]) == 5
    csv = strict.get("/sparql", params={"query": query, "format": "csv"})
    assert csv.headers["result-truncated"] and len(csv.text.strip().splitlines()) == 6


def test_a_short_answer_is_not_marked_truncated(strict: TestClient) -> None:
    query = "SELECT ?r WHERE { ?r a <https://w3id.org/ecrn/def/Region> } LIMIT 5"
    response = strict.get("/sparql", params={"query": query})
    assert "result-truncated" not in response.headers and "truncated" not in response.json()


def test_construct_answers_are_capped_too(strict: TestClient) -> None:
    response = strict.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s a ?o }", "format": "ntriples"})
    assert response.headers["result-truncated"] and len(response.text.strip().splitlines()) == 5


def test_deep_nesting_is_refused_before_the_engine_sees_it(strict: TestClient) -> None:
    deep = "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o " + "} " * 3000
    response = strict.post("/sparql", content=deep, headers={"content-type": "application/sparql-query"})
    assert response.status_code == 400 and "nest" in response.json()["detail"]
    assert strict.get("/sparql", params={"query": SMALL}).json()["boolean"] is True


def test_oversized_query_is_413(strict: TestClient) -> None:
    huge = "ASK { }" + " " * 200_000
    assert strict.post("/sparql", content=huge, headers={"content-type": "application/sparql-query"}).status_code == 413
    assert strict.post("/sparql", data={"query": "ASK {} #" + "x" * 100_001}).status_code == 413


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
])
def test_service_outside_the_allowlist_is_refused_with_no_connection(
        strict: TestClient, canary: tuple[str, list[object]], template: str) -> None:
    url, connections = canary
    response = strict.get("/sparql", params={"query": template.format(url=url)})
    assert response.status_code == 403 and response.json()["title"] == "Remote access refused"
    time.sleep(0.3)
    assert connections == []


def test_from_never_dereferences_anything(strict: TestClient, canary: tuple[str, list[object]]) -> None:
    url, connections = canary
    response = strict.get("/sparql", params={"query": f"SELECT * FROM <{url}> FROM NAMED <{url}> WHERE {{ ?s ?p ?o }}"})
    assert response.status_code == 200
    time.sleep(0.3)
    assert connections == []


def test_a_real_server_stops_a_runaway_query(live_server: str) -> None:
    response = httpx.get(f"{live_server}/sparql", params={"query": RUNAWAY, "timeout": "1"}, timeout=30)
    assert response.status_code == 503
    assert httpx.get(f"{live_server}/sparql", params={"query": SMALL}).json()["boolean"] is True


@pytest.fixture
def silent() -> Iterator[str]:
    """A loopback listener that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_an_allowlisted_service_federates(live_server: str) -> None:
    endpoint = f"{live_server}/sparql"
    with TestClient(create_app(Settings(service_allowlist=[endpoint]), store=EmbeddedStore())) as federating:
        query = f"SELECT ?r WHERE {{ SERVICE <{endpoint}> {{ ?r a <https://w3id.org/ecrn/def/Region> }} }} LIMIT 3"
        response = federating.get("/sparql", params={"query": query})
        assert response.status_code == 200 and len(response.json()["results"]["bindings"]) == 3


def test_a_silent_service_is_stopped_at_its_own_time_limit(silent: str) -> None:
    settings = Settings(service_allowlist=[silent], service_timeout=1.5, query_timeout=30)
    with TestClient(create_app(settings, store=EmbeddedStore())) as federating:
        started = time.monotonic()
        stuck = federating.get("/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{silent}> {{ ?s ?p ?o }} }}"})
        assert stuck.status_code == 503 and time.monotonic() - started < 1.5 + 5


def test_a_failing_service_endpoint_is_502_and_its_answer_is_not_passed_on(
        store: EmbeddedStore, canary: tuple[str, list[object]]) -> None:
    url, connections = canary  # closes every connection at once
    with TestClient(create_app(Settings(service_allowlist=[url]), store=store)) as client:
        response = client.get("/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 502
    assert response.json()["detail"] == "a SERVICE endpoint failed or answered with an error"
    assert connections


def test_refused_and_abandoned_answers_give_their_worker_back(strict: TestClient) -> None:
    for _ in range(6):  # more than the pool has workers
        assert strict.get("/sparql", params={"query": SMALL}, headers={"accept": "image/png"}).status_code == 406
    assert strict.get("/sparql", params={"query": SMALL}).json()["boolean"] is True


def test_a_large_answer_streams_in_chunks_and_arrives_whole(store: EmbeddedStore,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graph.pool.CHUNK", 1000)  # workers forked after this send 1 kB chunks
    with TestClient(create_app(Settings(), store=store)) as client:
        nuts = {"graph": "https://w3id.org/ecrn/graph/data/nuts"}
        with client.stream("GET", "/rdf-graph-store", params=nuts, headers={"accept": "application/n-triples"}) as r:
            chunks = list(r.iter_raw())
        lines = b"".join(chunks).decode().strip().splitlines()
    assert len(chunks) > 10 and len(lines) == store.stats().triples_per_graph[nuts["graph"]]


@pytest.mark.parametrize("fmt", ["json", "tsv", "csv", "xml"])
def test_the_row_cap_counts_rows_not_lines(fmt: str) -> None:
    """A literal with line ends (written as escapes in TSV, the engine's own writer's format here) is one row; the cap
    cuts after exactly `cap` rows, in the order the query gives, and says so only when rows were left out."""
    store = EmbeddedStore()
    query = 'SELECT ?x ?y WHERE { VALUES (?x ?y) { ("one\\ntwo\\r\\n" 1) ("tab\\there" UNDEF) (<urn:three> "3"@en) } }'
    whole = json.loads(store.query(query).capped("json", 10).body)["results"]["bindings"]
    assert len(whole) == 3 and whole[0]["x"]["value"] == "one\ntwo\r\n" and "y" not in whole[1]
    for cap in range(5):
        answer = store.query(query).capped(fmt, cap)
        assert (answer.count, answer.truncated) == (min(cap, 3), cap < 3)
        if fmt == "json":
            body = json.loads(answer.body)
            assert body["results"]["bindings"] == whole[:cap]
            assert body.get("truncated", False) is (cap < 3)
        elif fmt == "tsv":
            assert answer.body.decode().count("\n") == 1 + min(cap, 3)
        elif fmt == "csv":
            assert list(csv.reader(io.StringIO(answer.body.decode(), newline="")))[1:] == [
                ["one\ntwo\r\n", "1"], ["tab\there", ""], ["urn:three", "3"]][:cap]
        else:
            assert answer.body.count(b"<result>") == min(cap, 3)
