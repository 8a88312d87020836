"""HTTP load driver: N client threads send SPARQL queries (POST form, JSON results) to one endpoint.

Every drive is bounded twice: by a number of requests and by a wall-clock budget (requests in flight when the
budget ends are let finish, each bounded by the request timeout). The first timeout or error stops the drive.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

ACCEPT = {"accept": "application/sparql-results+json"}


class QueryFailedError(Exception):
    """The server answered with an error status, or did not answer in time."""


@dataclass
class Drive:
    """The latencies (seconds) of one bounded drive and its wall time."""

    clients: int
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float | None = None
    error: str | None = None

    @property
    def qps(self) -> float | None:
        return len(self.latencies) / self.wall if self.latencies and self.wall > 0 else None

    @property
    def median_ms(self) -> float | None:
        return 1000 * statistics.median(self.latencies) if self.latencies else None

    @property
    def p95_ms(self) -> float | None:
        """Nearest-rank 95th percentile (with fewer than 20 samples it is the maximum)."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def pooled(drives: list[Drive]) -> Drive:
    """Several drives of one server as one: every latency, the summed wall and CPU times, the first error."""
    cpu = [d.server_cpu for d in drives]
    return Drive(drives[0].clients if drives else 0, latencies=[t for d in drives for t in d.latencies],
                 wall=sum(d.wall for d in drives), client_cpu=sum(d.client_cpu for d in drives),
                 server_cpu=None if None in cpu else sum(c for c in cpu if c is not None),
                 error=next((d.error for d in drives if d.error), None))


def send(client: httpx.Client, url: str, query: str) -> tuple[float, bytes]:
    """POST one query; return its latency (to the last byte of the body) and the body."""
    started = time.perf_counter()
    try:
        response = client.post(url, data={"query": query}, headers=ACCEPT)
    except httpx.TimeoutException:
        raise QueryFailedError(f"no answer within {client.timeout.read} s") from None
    except httpx.HTTPError as error:
        raise QueryFailedError(f"{type(error).__name__}: {error}") from None
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise QueryFailedError(f"HTTP {response.status_code}: {response.text[:400]}")
    return seconds, response.content


def rows(body: bytes) -> str:
    """How many solutions a JSON result has ('true'/'false' for ASK)."""
    answer = json.loads(body)
    if "boolean" in answer:
        return str(answer["boolean"]).lower()
    return str(len(answer["results"]["bindings"]))


@dataclass
class Clock:
    """When a drive started and ended, its deadline, and the CPU times at its start."""

    start: float = 0.0
    end: float = 0.0
    deadline: float = math.inf
    client_cpu: float = 0.0
    server_cpu: float | None = None


def drive(url: str, queries: list[str], clients: int, total: int, budget: float, timeout: float,
          server_cpu: Callable[[], float | None] = lambda: None) -> Drive:
    """Send up to `total` requests from `clients` threads for at most `budget` s, cycling through `queries`.

    Also measures the CPU seconds this client process and the server (`server_cpu` reads its total) spent meanwhile.
    """
    result = Drive(clients)
    lock = threading.Lock()
    issued = 0
    clock = Clock()

    def start_clock() -> None:  # runs once, when every client holds its connection pool, before any request
        clock.server_cpu = server_cpu()
        clock.client_cpu = time.process_time()
        clock.start = time.perf_counter()
        clock.deadline = clock.start + budget

    def next_query() -> str | None:
        nonlocal issued
        with lock:
            if issued >= total or result.error or time.perf_counter() > clock.deadline:
                return None
            issued += 1
            return queries[(issued - 1) % len(queries)]

    ready = threading.Barrier(clients, action=start_clock, timeout=60)

    def client_loop() -> None:
        with httpx.Client(timeout=timeout) as client:
            ready.wait()
            while (query := next_query()) is not None:
                try:
                    seconds, _ = send(client, url, query)
                except QueryFailedError as error:
                    with lock:
                        result.error = result.error or str(error)
                    return
                with lock:
                    result.latencies.append(seconds)
                    clock.end = time.perf_counter()

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=budget + timeout + 90)
    result.client_cpu = time.process_time() - clock.client_cpu  # this (client) process, all its threads
    server_now = server_cpu()
    if server_now is not None and clock.server_cpu is not None:
        result.server_cpu = server_now - clock.server_cpu
    result.wall = max(clock.end - clock.start, 0.0)
    return result
