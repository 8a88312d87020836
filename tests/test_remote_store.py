"""The remote store backend against a real Oxigraph server (and loading into Virtuoso too): loading (batches, blank
nodes, all or nothing), the command line, credentials, and the store's failures as problems."""

from __future__ import annotations

import base64
import gc
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from graph import EmbeddedStore, ValidationError, load_files
from graph.remote import Dialect, Endpoints, RemoteStore
from service.app import create_app
from service.settings import Settings
from tests.oxigraph_server import oxigraph_server
from tests.virtuoso_server import virtuoso_server

pytestmark = pytest.mark.slow
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[str]:
    with oxigraph_server(tmp_path / "oxigraph", "--timeout-s", "3") as url:
        yield url


@pytest.fixture(params=["oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Endpoints, str]]:
    """A store to load into: its name, endpoints and dialect (ECRN_REMOTE_DIALECT)."""
    if request.param == "oxigraph":
        with oxigraph_server(tmp_path / "oxigraph") as url:
            yield "oxigraph", endpoints(url), "sparql"
    else:
        with virtuoso_server(tmp_path / "virtuoso") as url:
            yield "virtuoso", Endpoints(f"{url}/sparql", f"{url}/sparql"), "virtuoso"


def endpoints(url: str) -> Endpoints:
    return Endpoints(f"{url}/query", f"{url}/update")


def canonical(quads: list[ox.Quad]) -> frozenset[str]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return frozenset(str(q) for q in dataset)


def test_a_load_in_small_batches_keeps_every_blank_node_whole(server: tuple[str, Endpoints, str],
                                                              store: EmbeddedStore) -> None:
    """Batches of 50 quads: the quads of linked blank nodes go together, so the remote graph is the staged one (on
    Virtuoso too, which reads a whole xsd:decimal written without a point in an INSERT template as an integer)."""
    remote = RemoteStore(server[1], dialect=Dialect(batch=50))
    sent: list[tuple[int, int]] = []
    remote.progress = lambda done, total: sent.append((done, total))
    graphs = [r["g"] for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows()]
    remote.replace_graphs(store, graphs)
    assert len(sent) > 100 and sent[-1] == (len(store), len(store))
    assert canonical(list(remote.copy().quads_except(()))) == canonical(list(store.quads_except(())))
    assert not remote.query("ASK { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), 'urn:uuid:')) }").boolean


def test_a_load_that_breaks_the_shapes_changes_nothing(oxigraph: str, store: EmbeddedStore) -> None:
    remote = RemoteStore(endpoints(oxigraph))
    graphs = [r["g"] for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows()]
    remote.replace_graphs(store, graphs)
    before = remote.checksum()
    bad = Path(__file__).parents[1] / "ontology" / "examples" / "invalid" / "label-without-english.ttl"
    with pytest.raises(ValidationError):
        load_files(remote, [bad])
    assert remote.checksum() == before


def test_ecrn_kg_load_fills_the_configured_remote_store_and_says_what_it_sends(server: tuple[str, Endpoints, str],
                                                                                store: EmbeddedStore) -> None:
    _, where, dialect = server
    environment = {**os.environ, "ECRN_REMOTE_QUERY_URL": where.query, "ECRN_REMOTE_UPDATE_URL": str(where.update),
                   "ECRN_REMOTE_DIALECT": dialect}
    run = subprocess.run([sys.executable, "-m", "service", "load"], env=environment, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "quads to the remote store" in run.stderr and "loaded" in run.stdout
    assert len(RemoteStore(where)) == len(store)
    stats = subprocess.run([sys.executable, "-m", "service", "stats"], env=environment, capture_output=True,
                           text=True, timeout=120)
    assert stats.returncode == 0 and "https://w3id.org/ecrn/graph/data/regions" in stats.stdout


def test_the_store_gone_is_a_503_problem_and_not_ready(tmp_path: Path, store: EmbeddedStore) -> None:
    with oxigraph_server(tmp_path / "gone") as url:
        remote = RemoteStore(endpoints(url))
        graphs = [r["g"] for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows()]
        remote.replace_graphs(store, graphs)
        client = TestClient(create_app(Settings(), store=remote))
        client.__enter__()
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
    try:
        response = client.get("/sparql", params={"query": "ASK { ?s a ?o }"})
        assert response.status_code == 503 and response.json()["type"].endswith("/store-unavailable")
        assert "cannot be reached" in response.json()["detail"]
        assert client.get("/ready").status_code == 503
    finally:
        client.__exit__(None, None, None)


def test_a_query_past_its_time_limit_is_stopped_and_the_service_goes_on(oxigraph: str, store: EmbeddedStore) -> None:
    """Our deadline closes the connection; the store (started with --timeout-s 3) stops its own work too."""
    remote = RemoteStore(endpoints(oxigraph))
    graphs = [r["g"] for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows()]
    remote.replace_graphs(store, graphs)
    with TestClient(create_app(Settings(query_timeout=1), store=remote)) as client:
        response = client.get("/sparql", params={"query": CARTESIAN})
        assert response.status_code == 503 and response.json()["type"].endswith("/query-timeout")
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


class _Guard(BaseHTTPRequestHandler):
    """A store behind HTTP Basic authentication: forwards to Oxigraph what carries the right credentials."""

    upstream = ""
    expected = "Basic " + base64.b64encode(b"reader:s3cret").decode()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.headers.get("authorization") != self.expected:
            self.send_response(401)
            self.send_header("www-authenticate", 'Basic realm="store"')
            self.send_header("content-length", "0")
            self.end_headers()
            return
        answer = httpx.post(self.upstream + self.path, content=body, timeout=30, headers={
            k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")})
        self.send_response(answer.status_code)
        self.send_header("content-type", answer.headers.get("content-type", "text/plain"))
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_credentials_are_sent_and_a_refusal_is_a_503(oxigraph: str, store: EmbeddedStore) -> None:
    graphs = [r["g"] for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows()]
    RemoteStore(endpoints(oxigraph)).replace_graphs(store, graphs)
    _Guard.upstream = oxigraph
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Guard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    guarded = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        right = Settings(remote_query_url=f"{guarded}/query", remote_user="reader", remote_password="s3cret")
        with TestClient(create_app(right)) as client:
            assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
        wrong = RemoteStore(Endpoints(f"{guarded}/query", None, "reader", "wrong"))
        with TestClient(create_app(Settings(), store=wrong)) as client:
            response = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
            assert response.status_code == 503 and "credentials" in response.json()["detail"]
            assert "s3cret" not in response.text and "wrong" not in response.text
    finally:
        server.shutdown()


class _BrokenOff(BaseHTTPRequestHandler):
    """A store whose SPARQL JSON answer breaks off after a few rows (in the first, for an ASK: Virtuoso answers ASK
    with a row for true)."""

    def do_POST(self) -> None:
        asked = b"ASK" in self.rfile.read(int(self.headers["Content-Length"]))
        rows = "".join(f'{{"s": {{"type": "uri", "value": "urn:r{i}"}}}}, ' for i in range(0 if asked else 5))
        body = ('{"head": {"vars": ["s"]}, "results": {"bindings": [' + rows + '{"s": {"ty').encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("query", ["SELECT ?s WHERE { ?s ?p ?o }", "ASK { ?s ?p ?o }"])
def test_an_answer_that_breaks_off_leaves_nothing_to_drop_on_another_thread(query: str) -> None:
    """The engine's result objects belong to the thread that read them: an error raised there and dropped on another
    thread (as the service's threads do) must not take one along (pyo3 then leaks it, with a warning)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenOff)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    remote = RemoteStore(Endpoints(f"http://127.0.0.1:{server.server_address[1]}/query"))
    raised: list[BaseException] = []

    def read() -> None:
        try:
            remote.query(query).capped("json", 100)
        except Exception as error:
            raised.append(error)

    try:
        with _unraisable() as unraisable:
            reader = threading.Thread(target=read)
            reader.start()
            reader.join()
            assert raised and "could not be read" in str(raised[0]), raised
            raised.clear()
            gc.collect()
    finally:
        server.shutdown()
        server.server_close()
    assert not unraisable, [getattr(u, "exc_value", u) for u in unraisable]


READS = {"capped": lambda r: r.capped("json", 100), "native csv": lambda r: r.capped("csv", 100),
         "rows": lambda r: r.rows(), "serialize": lambda r: r.serialize("json"),
         "solutions": lambda r: list(r.solutions())}


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_an_answer_read_to_its_end_leaves_nothing_to_drop_on_another_thread(read: Any) -> None:
    """An answer may outlive the thread that read it (held in a reference cycle, it is dropped by whichever thread
    collects the garbage): it must hold none of the engine's objects by then."""
    store = EmbeddedStore()
    store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    kept: list[object] = []

    def answer() -> None:
        result = store.query("SELECT ?s WHERE { ?s ?p ?o }")
        read(result)
        kept.append(result)

    with _unraisable() as unraisable:
        reader = threading.Thread(target=answer)
        reader.start()
        reader.join()
        assert len(kept) == 1
        kept.clear()  # dropped here, on the main thread
        gc.collect()
    assert not unraisable, [getattr(u, "exc_value", u) for u in unraisable]


@contextmanager
def _unraisable() -> Iterator[list[object]]:
    """What Python could not raise while the block ran (pyo3's warning for an object dropped on a thread not its
    own, for one)."""
    caught: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, caught.append
    try:
        yield caught
    finally:
        sys.unraisablehook = hook
