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


def drive(url: str, queries: list[str], clients: int, total: int, budget: float, timeout: float) -> Drive:
    """Send up to `total` requests from `clients` threads for at most `budget` s, cycling through `queries`."""
    result = Drive(clients)
    lock = threading.Lock()
    issued = 0
    deadline = time.perf_counter() + budget

    def next_query() -> str | None:
        nonlocal issued
        with lock:
            if issued >= total or result.error or time.perf_counter() > deadline:
                return None
            issued += 1
            return queries[(issued - 1) % len(queries)]

    def client_loop() -> None:
        with httpx.Client(timeout=timeout) as client:
            while (query := next_query()) is not None:
                try:
                    seconds, _ = send(client, url, query)
                except QueryFailedError as error:
                    with lock:
                        result.error = result.error or str(error)
                    return
                with lock:
                    result.latencies.append(seconds)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=budget + timeout + 30)
    result.wall = time.perf_counter() - started
    return result
