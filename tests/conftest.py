"""Shared fixtures: the real ChemClust graph loaded once, an in-process client, a live uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from graph import EmbeddedStore, QueryPool, load_default
from graph.load import prepare
from graph.remote import VIRTUOSO, Endpoints, RemoteStore
from service.app import create_app
from service.backend import Backend
from service.settings import Settings
from tests.oxigraph_server import free_port, oxigraph_server
from tests.virtuoso_server import virtuoso_server

TEST_DATA = Path(__file__).parent / "data"
STORE_LIMIT = ("--timeout-s", "30")  # the remote store stops a query the service gave up on (a runaway one) itself


@pytest.fixture(scope="session")
def store() -> EmbeddedStore:
    """The real graph: ontology, shapes and data/, validated and entailed. Tests must not change it."""
    loaded = EmbeddedStore()
    load_default(loaded)
    return loaded


@pytest.fixture(scope="session")
def writable_remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStore]:
    """A real Oxigraph server for tests that write (`fresh_store` fills it anew for each)."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph-writable"), *STORE_LIMIT) as url:
        yield RemoteStore(Endpoints(f"{url}/query", f"{url}/update"))


# What the suite finds different on Virtuoso 7.2.5 that the service cannot work around, by cause. Strict: a test
# that starts passing fails the run, so the list stays true.
VIRTUOSO_FAILS = {
    "Virtuoso 7.2 has no boolean type and answers true and false as the integers 1 and 0 (its maintainers: 'it is "
    "known that virtuoso store boolean types as integers', openlink/virtuoso-opensource#251)": (
        "tests/test_query_page.py::test_every_example_runs_as_a_plain_query_and_answers_as_its_named_query"
        "[virtuoso-ecrn-members",),
    "Virtuoso 7.2 does not see a variable bound by a VALUES block in a FILTER inside an OPTIONAL (SPARQL's "
    "LeftJoin filter), as the plain form of this example has it; the named query, its parameters substituted, "
    "answers right": (
        "tests/test_query_page.py::test_every_example_runs_as_a_plain_query_and_answers_as_its_named_query"
        "[virtuoso-chemclust-partner-regions",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for reason, tests in VIRTUOSO_FAILS.items():
            if item.nodeid.startswith(tests):
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"on Virtuoso: {reason}"))


@pytest.fixture(scope="session")
def writable_virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStore]:
    """A real Virtuoso server for tests that write (`fresh_store` fills it anew for each)."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso-writable")) as url:
        yield RemoteStore(Endpoints(f"{url}/sparql", f"{url}/sparql"), dialect=VIRTUOSO)


@pytest.fixture(params=["embedded", "remote", "virtuoso"])
def fresh_store(request: pytest.FixtureRequest, store: EmbeddedStore) -> Backend:
    """A fresh copy of the real graph, for tests that write: in the embedded store, and in remote ones."""
    if request.param == "embedded":
        fresh = EmbeddedStore()
        fresh.fill_from(store)
        return fresh
    remote: RemoteStore = request.getfixturevalue("writable_remote" if request.param == "remote" else
                                                  "writable_virtuoso")
    remote.update("DROP ALL")  # with the empty graphs Oxigraph keeps
    graphs = store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", union=False).rows()
    remote.replace_graphs(store, [r["g"] for r in graphs])
    return remote


@pytest.fixture(scope="session")
def remote_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStore]:
    """The real graph loaded (by the service's own loader) into a real Oxigraph server. Tests must not change it."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph"), *STORE_LIMIT) as url:
        remote = RemoteStore(Endpoints(f"{url}/query", f"{url}/update"))
        prepare(remote)
        yield remote


@pytest.fixture(scope="session")
def virtuoso_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteStore]:
    """The real graph loaded (by the service's own loader) into a real Virtuoso server. Tests must not change it."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as url:
        remote = RemoteStore(Endpoints(f"{url}/sparql", f"{url}/sparql"), dialect=VIRTUOSO)
        prepare(remote)
        yield remote


@pytest.fixture(scope="session", params=["embedded", "remote", "virtuoso"])
def backend(request: pytest.FixtureRequest, store: EmbeddedStore) -> Backend:
    """The real graph in each store the service runs on: the embedded one, a remote Oxigraph and Virtuoso server."""
    if request.param == "embedded":
        return store
    remote: RemoteStore = request.getfixturevalue("remote_store" if request.param == "remote" else "virtuoso_store")
    return remote


@pytest.fixture(scope="session")
def client(backend: Backend) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), store=backend)) as test_client:
        yield test_client


@contextmanager
def serve_in_thread(app: FastAPI, **config: Any) -> Iterator[str]:
    """Serve an app with a real uvicorn server (more uvicorn `config` if given) on a free loopback port; yield its
    base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def vouched_after_scan(pool: QueryPool, generation: int) -> frozenset[str]:
    """What the pool vouches for once its scan of `generation` has ended (which must vouch for one predicate at least:
    none means not scanned yet)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        at, predicates = pool.vouched()
        assert at == generation
        if predicates:
            return predicates
        time.sleep(0.02)
    raise AssertionError("the scan did not end")



@pytest.fixture(scope="session")
def live_server(backend: Backend) -> Iterator[str]:
    """A real uvicorn server on loopback, in a thread, serving the real graph."""
    with serve_in_thread(create_app(Settings(), store=backend)) as url:
        yield url


@pytest.fixture
def canary() -> Iterator[tuple[str, list[object]]]:
    """A loopback listener that records (and closes) every connection made to it: its /sparql URL and the list."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    connections: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                connections.append(conn)
                conn.close()
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", connections
    stop.set()
    thread.join()
    server.close()
