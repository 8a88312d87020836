"""Replicas: several ecrn-kg services, and several uvicorn workers of one, over one remote store (a real Oxigraph
server) answer alike and follow each other's writes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import rdflib
from rdflib.compare import to_canonical_graph

from graph import EmbeddedStore
from graph.remote import Endpoints, RemoteStore
from graph.remote_pool import STATE_SECONDS
from service.app import create_app
from service.settings import Settings
from tests.conftest import serve_in_thread
from tests.oxigraph_server import free_port, oxigraph_server, stop

pytestmark = pytest.mark.slow
TOKEN = "replica-token"
HOST = {"host": "kg.example.org"}  # the same host for every replica: the links in answers follow it
SAME = ["/sparql?query=SELECT%20%3Fr%20%3Fl%20WHERE%20%7B%20%3Fr%20a%20%3Chttps%3A%2F%2Fw3id.org%2Fecrn%2Fdef%2F"
        "Region%3E%20%3B%20%3Chttp%3A%2F%2Fwww.w3.org%2F2000%2F01%2Frdf-schema%23label%3E%20%3Fl%20%7D%20ORDER%20BY"
        "%20%3Fr%20%3Fl", "/api/queries/chemclust-partner-regions", "/doc/region/saxony-anhalt.ttl",
        "/.well-known/void", "/api/regions", "/releases", "/dumps/SHA256SUMS", "/search?q=Saxony"]
NEW = ('INSERT DATA { GRAPH <https://w3id.org/ecrn/graph/contrib> { <https://w3id.org/ecrn/id/region/test-land> '
       'a <https://w3id.org/ecrn/def/Region> ; <http://www.w3.org/2000/01/rdf-schema#label> "Testland"@en ; '
       '<http://purl.org/dc/terms/source> <https://example.org/test> } }')
SEEN = "ASK { <https://w3id.org/ecrn/id/region/test-land> a <https://w3id.org/ecrn/def/Region> }"


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory, store: EmbeddedStore) -> Iterator[str]:
    """A real Oxigraph server holding the real graph, for this module alone (its tests write)."""
    with oxigraph_server(tmp_path_factory.mktemp("replicas-store")) as url:
        graphs = store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", union=False).rows()
        RemoteStore(Endpoints(f"{url}/query", f"{url}/update")).replace_graphs(store, [r["g"] for r in graphs])
        yield url


@pytest.fixture(scope="module")
def environment(oxigraph: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The settings every replica gets: the store, the write token, one shared release log."""
    return {"ECRN_REMOTE_QUERY_URL": f"{oxigraph}/query", "ECRN_REMOTE_UPDATE_URL": f"{oxigraph}/update",
            "ECRN_WRITE_TOKEN": TOKEN, "ECRN_SHARED_PATH": str(tmp_path_factory.mktemp("shared")),
            "ECRN_RELEASE_INTERVAL": "1"}


@pytest.fixture(scope="module")
def replicas(environment: dict[str, str]) -> Iterator[list[str]]:
    """Two services in threads, and one with two uvicorn workers in its own process (`ecrn-kg serve --workers 2`)."""
    settings = Settings(**{k.removeprefix("ECRN_").lower(): v for k, v in environment.items()})  # type: ignore[arg-type]
    port = free_port()
    with ExitStack() as stack:
        urls = [stack.enter_context(serve_in_thread(create_app(settings))) for _ in range(2)]
        workers = subprocess.Popen([sys.executable, "-m", "service", "serve", "--workers", "2", "--port", str(port)],
                                   env={**os.environ, **environment}, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        stack.callback(stop, workers)
        urls.append(_wait_for(f"http://127.0.0.1:{port}", workers))
        yield urls


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                return url
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"ecrn-kg serve --workers 2 stopped: {process.stderr.read() if process.stderr else ''}")
        time.sleep(0.1)
    raise RuntimeError("ecrn-kg serve --workers 2 did not get ready")


def get(url: str, path: str) -> httpx.Response:
    response = httpx.get(url + path, headers=HOST, timeout=60)
    assert response.status_code == 200, f"{url}{path}: {response.status_code} {response.text[:300]}"
    return response


def asks(url: str) -> bool:
    answer: bool = httpx.post(f"{url}/sparql", data={"query": SEEN}, timeout=60).json()["boolean"]
    return answer


def answer(url: str, path: str) -> object:
    """The answer's bytes; for Turtle, its graph (rdflib writes blank nodes in no fixed order)."""
    response = get(url, path)
    if response.headers["content-type"].startswith("text/turtle"):
        return frozenset(to_canonical_graph(rdflib.Graph().parse(data=response.content, format="turtle")))
    return response.content


def test_replicas_and_workers_answer_alike(replicas: list[str]) -> None:
    """Every replica, and each worker (several requests reach both of the two-worker service), gives the same
    answer."""
    for path in SAME:
        first = answer(replicas[0], path)
        for url in replicas[1:] + [replicas[2]] * 2:
            assert answer(url, path) == first, f"{url}{path} differs from {replicas[0]}{path}"


def test_a_write_through_one_replica_is_seen_by_all(replicas: list[str]) -> None:
    """Queries see it at once; what replicas derive from the store (VoID counts, releases, dumps, search) follows
    within the time they look at the shared mark of writes again (STATE_SECONDS; the release log:
    ECRN_RELEASE_INTERVAL)."""
    before = {url: get(url, "/.well-known/void").content for url in replicas}
    response = httpx.post(f"{replicas[0]}/sparql", content=NEW, timeout=60,
                          headers={"content-type": "application/sparql-update", "authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204, response.text
    assert all(asks(url) for url in replicas + [replicas[2]] * 4)
    deadline = time.monotonic() + STATE_SECONDS + 30
    while True:
        derived = {path: {answer(url, path) for url in replicas + [replicas[2]] * 4}
                   for path in ("/.well-known/void", "/releases", "/dumps/SHA256SUMS", "/search?q=Testland")}
        if all(len(bodies) == 1 for bodies in derived.values()) and all(
                get(url, "/.well-known/void").content != before[url] for url in replicas):
            break
        differ = [path for path, bodies in derived.items() if len(bodies) > 1]
        assert time.monotonic() < deadline, f"the replicas still differ: {differ}"
        time.sleep(0.5)
    found = derived["/search?q=Testland"].pop()
    assert isinstance(found, bytes) and b"Testland" in found
    assert len(get(replicas[1], "/releases").json()["releases"]) == 2


def test_several_workers_need_a_remote_store_or_no_writes(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "service", "serve", "--workers", "2", "--store", str(tmp_path / "s")],
                         env={k: v for k, v in os.environ.items() if not k.startswith("ECRN_")},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "several workers need a remote store" in run.stderr


def test_workers_without_a_shared_directory_are_given_one(oxigraph: str) -> None:
    """`serve --workers 2` on a remote store without ECRN_SHARED_PATH shares a directory of its own between its
    workers: whichever worker answers, the releases are the same (each would otherwise record its own)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ECRN_")}
    environment |= {"ECRN_REMOTE_QUERY_URL": f"{oxigraph}/query", "ECRN_REMOTE_UPDATE_URL": f"{oxigraph}/update"}
    port = free_port()
    workers = subprocess.Popen([sys.executable, "-m", "service", "serve", "--workers", "2", "--port", str(port)],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = _wait_for(f"http://127.0.0.1:{port}", workers)
        assert len({get(url, "/releases").content for _ in range(16)}) == 1
    finally:
        stop(workers)
