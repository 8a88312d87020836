"""Shared fixtures: the real ChemClust graph loaded once, an in-process client, a live uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
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


@pytest.fixture(scope="session")
def client(store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), store=store)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(store: EmbeddedStore) -> Iterator[str]:
    """A real uvicorn server on loopback, in a thread, serving the real graph."""
    port = free_port()
    config = uvicorn.Config(create_app(Settings(), store=store), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
