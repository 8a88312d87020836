"""The SPARQL endpoint's lane past the framework: it takes queries by GET and POST and answers as the routes would,
stops the query of a client that leaves, and reads a body no further than the size limit."""

import logging
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from starlette.types import Receive, Scope, Send

from graph import EmbeddedStore
from service.app import create_app
from service.lane import App
from service.settings import Settings
from tests.conftest import serve_in_thread
from tests.test_limits import RUNAWAY

SELECT = "SELECT ?r WHERE { ?r a <https://w3id.org/ecrn/def/Region> } ORDER BY ?r LIMIT 3"
CONSTRUCT = "CONSTRUCT { ?r a <https://w3id.org/ecrn/def/Region> } WHERE { ?r a <https://w3id.org/ecrn/def/Region> }"
ORIGIN = {"Origin": "https://example.org"}
BROWSER = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
# (method, params, body, headers): answers, errors of each kind, the query page and the service description
REQUESTS: list[tuple[str, dict[str, str], dict[str, str] | str | None, dict[str, str]]] = [
    ("GET", {"query": SELECT}, None, ORIGIN),
    ("POST", {}, {"query": SELECT}, {"Accept": "text/csv", **ORIGIN}),
    ("POST", {}, CONSTRUCT, {"Content-Type": "application/sparql-query", "Accept": "application/n-triples"}),
    ("GET", {"query": "ASK {}", "format": "xml"}, None, {}),
    ("GET", {"query": "SELECT * WHERE {"}, None, ORIGIN),  # malformed: 400 with the parser's message
    ("GET", {"query": "SELECT * WHERE {"}, None, BROWSER),  # the same, as a page for people
    ("POST", {}, "ASK {}", {"Content-Type": "text/plain"}),  # 415
    ("GET", {"query": "ASK {}"}, None, {"Accept": "image/png"}),  # 406
    ("POST", {}, {"update": "CLEAR ALL"}, {}),  # no write token configured: refused
    ("GET", {"query": SELECT}, None, BROWSER),  # the query page with the answer
    ("GET", {}, None, {"Accept": "text/turtle"}),  # the service description
]
VOLATILE = {"date", "x-request-id", "content-length"}
RDF = {"text/turtle": "turtle", "application/n-triples": "nt"}


@pytest.fixture(scope="module")
def servers(store: EmbeddedStore) -> Iterator[dict[str, str]]:
    """The service with its lane, and the same service with every request going through the framework."""
    plain = create_app(Settings(), store=store)
    assert isinstance(plain, App) and plain.lane is not None
    plain.lane = None
    with serve_in_thread(create_app(Settings(), store=store)) as lane, serve_in_thread(plain) as framework:
        yield {"lane": lane, "framework": framework}


def _ask(base: str, method: str, params: dict[str, str], body: Any, headers: dict[str, str]) -> httpx.Response:
    content = body if isinstance(body, str) else None
    return httpx.request(method, f"{base}/sparql", params=params, data=body if isinstance(body, dict) else None,
                         content=content, headers=headers, timeout=30)


@pytest.mark.parametrize(("method", "params", "body", "headers"), REQUESTS)
def test_the_lane_answers_as_the_framework_routes_do(servers: dict[str, str], method: str, params: dict[str, str],
                                                     body: Any, headers: dict[str, str]) -> None:
    lane, framework = (_ask(servers[k], method, params, body, headers) for k in ("lane", "framework"))
    assert lane.status_code == framework.status_code
    assert {k: v for k, v in lane.headers.items() if k not in VOLATILE} == \
        {k: v for k, v in framework.headers.items() if k not in VOLATILE}
    texts = [r.text.replace(servers[k], "") for r, k in ((lane, "lane"), (framework, "framework"))]
    kind = lane.headers["content-type"].split(";")[0]
    if kind in RDF:  # blank nodes (the description's partitions) come in any order
        assert isomorphic(*(Graph().parse(data=t, format=RDF[kind]) for t in texts))
    elif kind != "text/html":  # pages carry the request's own id
        assert texts[0] == texts[1]
    assert lane.headers["x-request-id"]


def test_the_lane_takes_queries_and_updates_to_the_endpoint_and_nothing_else(store: EmbeddedStore) -> None:
    app = create_app(Settings(), store=store)
    assert isinstance(app, App) and app.lane is not None

    def takes(method: str, path: str, **scope: Any) -> bool:
        assert app.lane is not None
        return app.lane.takes({"type": "http", "method": method, "path": path, **scope})

    assert takes("GET", "/sparql") and takes("POST", "/sparql")
    assert takes("GET", "/kg/sparql", root_path="/kg")
    assert not any(takes(method, "/sparql") for method in ("HEAD", "OPTIONS", "PUT", "DELETE"))
    assert not any(takes("GET", path) for path in ("/sparql/", "/sparqls", "/", "/health", "/kg/sparql"))
    assert not app.lane.takes({"type": "websocket", "path": "/sparql"})


def test_queries_skip_the_framework_and_other_requests_go_through_it(store: EmbeddedStore) -> None:
    """Counted at the framework's own middleware stack: only what the lane does not take reaches it."""
    app = create_app(Settings(), store=store)
    seen: list[tuple[str, str]] = []
    with serve_in_thread(app) as base:
        stack = app.middleware_stack
        assert stack is not None

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            seen.append((scope["method"], scope["path"]))
            await stack(scope, receive, send)

        app.middleware_stack = counting
        assert httpx.get(f"{base}/sparql", params={"query": "ASK {}"}).json()["boolean"] is True
        assert httpx.post(f"{base}/sparql", data={"query": "ASK {}"}).json()["boolean"] is True
        assert httpx.head(f"{base}/sparql", params={"query": "ASK {}"}).status_code == 200
        assert httpx.options(f"{base}/sparql", headers={**ORIGIN, "Access-Control-Request-Method": "POST"}
                             ).status_code == 200
        assert httpx.get(f"{base}/health").status_code == 200
    assert seen == [("HEAD", "/sparql"), ("OPTIONS", "/sparql"), ("GET", "/health")]


def test_a_query_whose_client_leaves_is_stopped_and_its_worker_replaced(store: EmbeddedStore,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Without the lane's watch the query would hold its worker to the time limit (a minute here)."""
    app = create_app(Settings(query_timeout=60, query_workers=2), store=store)
    with serve_in_thread(app) as base, caplog.at_level(logging.INFO, logger="ecrn_kg.access"):
        pool = app.state.pool
        before, restarts = _idle_workers(pool), pool.restarts
        with pytest.raises(httpx.ReadTimeout):  # the client gives up after a second and closes its connection
            httpx.get(f"{base}/sparql", params={"query": RUNAWAY}, headers={"X-Request-ID": "leaving"}, timeout=1)
        ends = time.monotonic() + 10
        while (pool.restarts == restarts or len(_idle_workers(pool)) < 2) and time.monotonic() < ends:
            time.sleep(0.02)
        assert pool.restarts == restarts + 1
        killed = before - _idle_workers(pool)
        assert len(killed) == 1
        with pytest.raises(ProcessLookupError):  # its CPU is released: the process no longer exists
            os.kill(killed.pop(), 0)
        assert httpx.get(f"{base}/sparql", params={"query": "ASK {}"}).json()["boolean"] is True
        metrics = httpx.get(f"{base}/metrics").text
    assert 'ecrn_http_requests_total{method="GET",route="/sparql",status="499"} 1.0' in metrics
    assert [getattr(r, "status", None) for r in caplog.records
            if r.name == "ecrn_kg.access" and getattr(r, "request_id", None) == "leaving"] == [499]


def _idle_workers(pool: Any) -> set[int]:
    return {worker.process.pid for worker in list(pool._idle)}


def whole_response(connection: socket.socket) -> bytes:
    """One HTTP response read to the end of its body (its head and body may come in separate reads)."""
    answer = b""
    while b"\r\n\r\n" not in answer and (more := connection.recv(65_536)):
        answer += more
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (more := connection.recv(65_536)):
        body += more
    return head + b"\r\n\r\n" + body


def test_a_body_past_the_size_limit_is_refused_without_waiting_for_the_rest(store: EmbeddedStore) -> None:
    """A client announcing 50 MB gets its 413 after the first few kilobytes: the body is not buffered to its end."""
    with serve_in_thread(create_app(Settings(max_query_bytes=1_000), store=store)) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(b"POST /sparql HTTP/1.1\r\nHost: kg\r\nContent-Type: application/sparql-query\r\n"
                               b"Content-Length: 50000000\r\n\r\n" + b"#" * 5_000)
            answer = whole_response(connection)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"longer than the limit of 1000 bytes" in answer
