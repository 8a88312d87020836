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

from graph import EmbeddedStore, load_default
from graph.load import prepare
from graph.remote import Endpoints, RemoteStore
from service.app import create_app
from service.backend import Backend
from service.settings import Settings
from tests.oxigraph_server import free_port, oxigraph_server

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


@pytest.fixture(params=["embedded", "remote"])
def fresh_store(request: pytest.FixtureRequest, store: EmbeddedStore) -> Backend:
    """A fresh copy of the real graph, for tests that write: in the embedded store, and in a remote one."""
    if request.param == "embedded":
        fresh = EmbeddedStore()
        fresh.fill_from(store)
        return fresh
    remote: RemoteStore = request.getfixturevalue("writable_remote")
    remote.update("DROP ALL")
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


@pytest.fixture(scope="session", params=["embedded", "remote"])
def backend(request: pytest.FixtureRequest, store: EmbeddedStore) -> Backend:
    """The real graph in each store the service runs on: the embedded one, and a remote Oxigraph server."""
    if request.param == "embedded":
        return store
    remote: RemoteStore = request.getfixturevalue("remote_store")
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
