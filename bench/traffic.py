"""The clients of the load and soak scripts, each a thread with its own `httpx.Client`, until told to stop.

- good: the benchmark query mix (bench/queries/*.rq), one request after the other, as fast as answers come (an
  error, a 429 included, is recorded and the next query sent: no waiting for Retry-After);
- runaway: a query that cannot finish within the time limit (a counted cartesian product), again and again;
- bad: malformed requests (bad SPARQL, wrong methods and media types, huge bodies, …) at a fixed rate.

Each client sends from its own loopback address (good client i from 127.0.1.i+1, runaway client i from 127.0.2.i+1,
the bad client from 127.0.3.1), so that a server that keeps limits per client address tells them apart, as it
would tell apart users on other machines. Every request is recorded as a `Sample`: who sent it, its class, the
status (0 when no HTTP answer came), the latency to the last byte of the body, and when it was sent. Nothing here
judges the figures.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

GOOD, RUNAWAY, BAD = "good", "runaway", "bad"
JSON_RESULTS = {"accept": "application/sparql-results+json"}
RUNAWAY_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^15 solutions, counted
HUGE_BODY_BYTES = 4 << 20  # 40 times the default ECRN_MAX_QUERY_BYTES


@dataclass(frozen=True)
class Sample:
    """One request and its outcome."""

    kind: str  # GOOD, RUNAWAY or BAD
    name: str  # the query class, or the kind of bad request
    status: int  # HTTP status; 0 when no answer came (connection refused or reset, client timeout)
    seconds: float  # latency to the last byte of the body
    at: float  # when it was sent, in seconds since the traffic started
    detail: str = ""  # of an error status or a failure: the start of the body, or the exception
    client: str = ""  # the address it was sent from


class Recorder:
    """The samples of all clients; thread-safe."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def send(self, client: httpx.Client, kind: str, name: str, request: httpx.Request) -> Sample:
        """Send a request (reading its whole body) and record it."""
        at = time.monotonic() - self.started
        began = time.perf_counter()
        try:
            response = client.send(request)
        except httpx.HTTPError as error:
            status, detail = 0, f"{type(error).__name__}: {error}"
        else:
            status, detail = response.status_code, response.text[:300] if response.status_code >= 400 else ""
        sample = Sample(kind, name, status, time.perf_counter() - began, at, detail, threading.current_thread().name)
        with self._lock:
            self.samples.append(sample)
        return sample

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)


def query(client: httpx.Client, text: str, **params: str) -> httpx.Request:
    """A SPARQL query POSTed as a form, asking for JSON results."""
    return client.build_request("POST", "/sparql", data={"query": text, **params}, headers=JSON_RESULTS)


def good_client(client: httpx.Client, plan: list[tuple[str, str]], offset: int, stop: threading.Event,
                recorder: Recorder) -> None:
    """Cycle through (class, query text) pairs from `offset` until `stop` is set."""
    for i in itertools.count(offset):
        if stop.is_set():
            return
        name, text = plan[i % len(plan)]
        recorder.send(client, GOOD, name, query(client, text))


def runaway_client(client: httpx.Client, limit: float | None, stop: threading.Event, recorder: Recorder) -> None:
    """Send the runaway query again and again; with `limit`, ask for that time limit (the `timeout` parameter)."""
    params = {"timeout": f"{limit:g}"} if limit else {}
    while not stop.is_set():
        recorder.send(client, RUNAWAY, "cartesian-count", query(client, RUNAWAY_QUERY, **params))


BadRequest = tuple[str, Callable[[httpx.Client], httpx.Request]]


def bad_requests() -> list[BadRequest]:
    """Requests a server must refuse with a 4xx status, quickly, and without harm to anyone else."""
    nested = "SELECT * WHERE " + "{" * 5000 + "}" * 5000
    huge = b"query=" + b"x" * HUGE_BODY_BYTES
    update = "INSERT DATA { <urn:ecrn-load:s> <urn:ecrn-load:p> <urn:ecrn-load:o> }"
    form = {"content-type": "application/x-www-form-urlencoded"}
    return [
        ("malformed-query", lambda c: query(c, "SELEC ?s WHERE { ?s ?p")),
        ("malformed-query-get", lambda c: c.build_request("GET", "/sparql", params={"query": "SELECT ?s WHERE {{"},
                                                          headers=JSON_RESULTS)),
        ("wrong-method", lambda c: c.build_request("PUT", "/sparql", content=b"ASK {}",
                                                   headers={"content-type": "application/sparql-query"})),
        ("wrong-method-api", lambda c: c.build_request("DELETE", "/api/queries")),
        ("wrong-media-type", lambda c: c.build_request("POST", "/sparql", json={"query": "ASK {}"})),
        ("huge-body", lambda c: c.build_request("POST", "/sparql", content=huge, headers=form)),
        ("not-utf8", lambda c: c.build_request("POST", "/sparql", content=b"ASK { \xff\xfe }",
                                               headers={"content-type": "application/sparql-query"})),
        ("update-without-token", lambda c: c.build_request("POST", "/sparql", data={"update": update})),
        ("bad-timeout", lambda c: query(c, "ASK {}", timeout="soon")),
        ("deep-nesting", lambda c: query(c, nested)),
        ("not-acceptable", lambda c: c.build_request("POST", "/sparql", data={"query": "ASK {}"},
                                                     headers={"accept": "image/png"})),
        ("query-and-update", lambda c: c.build_request("POST", "/sparql", data={"query": "ASK {}", "update": update})),
        ("no-such-path", lambda c: c.build_request("GET", "/api/no-such-list/at-all")),
        ("bad-named-query-parameter", lambda c: c.build_request("GET", "/api/queries/good-practices",
                                                                params={"limit": "many"})),
    ]


def bad_client(client: httpx.Client, rate: float, stop: threading.Event, recorder: Recorder) -> None:
    """Send the bad requests in turn, `rate` per second (as fast as answers come, if they come slower)."""
    catalogue = bad_requests()
    due = time.monotonic()
    for i in itertools.count():
        if stop.wait(max(due - time.monotonic(), 0)):
            return
        name, build = catalogue[i % len(catalogue)]
        recorder.send(client, BAD, name, build(client))
        due = max(due + 1 / rate, time.monotonic() - 1)  # behind by more than a second: do not burst to catch up


def address(kind: int, i: int) -> str:
    """The loopback address client `i` of a kind sends from (Linux routes all of 127.0.0.0/8 to loopback)."""
    return f"127.0.{kind}.{i + 1}" if i < 254 else f"127.{kind}.{i // 254}.{i % 254 + 1}"


@dataclass
class Traffic:
    """The clients of one run, started together and stopped together."""

    base_url: str
    plan: list[tuple[str, str]]
    clients: int
    runaway: int = 0
    runaway_limit: float | None = None
    bad_rate: float = 0.0
    timeout: float = 120.0

    def __post_init__(self) -> None:
        self.recorder = Recorder()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.recorder.started = time.monotonic()
        step = max(len(self.plan) // max(self.clients, 1), 1)  # clients start at different places in the mix
        for i in range(self.clients):
            self._thread(address(1, i), good_client, self.plan, i * step, self.stop, self.recorder)
        for i in range(self.runaway):
            self._thread(address(2, i), runaway_client, self.runaway_limit, self.stop, self.recorder)
        if self.bad_rate > 0:
            self._thread(address(3, 0), bad_client, self.bad_rate, self.stop, self.recorder)

    def _thread(self, name: str, target: Callable[..., None], *args: object) -> None:
        def run() -> None:
            transport = httpx.HTTPTransport(local_address=name)
            with httpx.Client(base_url=self.base_url, timeout=self.timeout, transport=transport) as client:
                target(client, *args)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def finish(self) -> float:
        """Stop the clients, let their requests in flight finish (bounded); return the seconds since the start."""
        self.stop.set()
        elapsed = time.monotonic() - self.recorder.started
        deadline = time.monotonic() + self.timeout + 10
        for thread in self.threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.1))
        return elapsed
