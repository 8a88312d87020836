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
from service.app import create_app
from service.settings import Settings

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def store() -> EmbeddedStore:
    """The real graph: ontology, shapes and data/, validated and entailed. Tests must not change it."""
    loaded = EmbeddedStore()
    load_default(loaded)
    return loaded


@pytest.fixture
def fresh_store() -> EmbeddedStore:
    """A fresh copy of the real graph, for tests that write."""
    fresh = EmbeddedStore()
    load_default(fresh)
    return fresh


@pytest.fixture(scope="session")
def client(store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), store=store)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
def live_server(store: EmbeddedStore) -> Iterator[str]:
    """A real uvicorn server on loopback, in a thread, serving the real graph."""
    with serve_in_thread(create_app(Settings(), store=store)) as url:
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
