"""What operators see: Prometheus metrics, a request id on every response, one JSON log line per request, and a
log of slow queries. Each app has its own metrics registry, so that apps (and tests) never share counts."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access = logging.getLogger("ecrn_kg.access")
slow = logging.getLogger("ecrn_kg.slow_query")
REQUEST_ID = "x-request-id"
CLIENT_GONE = 499  # logged and counted, never sent: the client closed the connection first (as nginx logs it)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The service's counters, histograms and gauges, in a registry of its own; pool gauges read `state.pool`."""

    def __init__(self, state: Any) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ecrn_http_requests", "HTTP requests answered, by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("ecrn_http_request_duration_seconds", "Time to the response's first byte.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.problems = Counter("ecrn_problems", "Error responses by problem type (query-timeout, …).", ["type"],
                                registry=self.registry)
        self.truncations = Counter("ecrn_query_truncations", "Query answers cut at the row cap.",
                                   registry=self.registry)
        self.slow_queries = Counter("ecrn_slow_queries", "Queries slower than the slow-query threshold.",
                                    registry=self.registry)
        self.quads = Gauge("ecrn_store_quads", "Quads in the store, as of the last scrape.", registry=self.registry)
        for name, attribute, text in (("ecrn_query_worker_restarts", "restarts", "Query workers killed at their time "
                                       "limit or lost, and replaced."),
                                      ("ecrn_store_generation", "generation", "Writes accepted since start.")):
            Gauge(name, text, registry=self.registry).set_function(_reading(state, attribute))


def _reading(state: Any, attribute: str) -> Callable[[], float]:
    """A gauge's value: an attribute of the app's query pool, 0 before the pool exists."""
    return lambda: float(getattr(getattr(state, "pool", None), attribute, 0))


def request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is a sane token, else a new one."""
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID.encode():
            given: str = value.decode("latin-1")
            if _SAFE_ID.match(given):
                return given
    return uuid.uuid4().hex


class RequestLog:
    """ASGI middleware: a request id echoed in X-Request-ID, metrics per route, one access log line per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["request_id"] = rid = request_id(scope)
        started, status = time.perf_counter(), 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((REQUEST_ID.encode(), rid.encode()))
                self._count(scope, status, time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            status = status or 500  # the app failed before it answered
            raise
        finally:
            if not status:  # the app returned without an answer: the client had gone
                status = CLIENT_GONE
                self._count(scope, status, time.perf_counter() - started)
            access.info("request", extra={"request_id": rid, "method": scope["method"], "path": scope["path"],
                                          "status": status, "client": (scope.get("client") or ("", 0))[0],
                                          "duration_ms": round((time.perf_counter() - started) * 1000, 1)})

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.requests.labels(scope["method"], route, str(status)).inc()
        self.metrics.latency.labels(scope["method"], route).observe(seconds)


def query_took(metrics: Metrics, threshold: float, seconds: float, query: str, rid: str | None) -> None:
    """Count and log a query that took longer than `threshold` seconds (its text cut to 2,000 characters)."""
    if seconds >= threshold:
        metrics.slow_queries.inc()
        slow.warning("slow query", extra={"request_id": rid, "seconds": round(seconds, 3), "query": query[:2000]})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra fields."""

    STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                                "logger": record.name, "message": record.getMessage()}
        line |= {k: v for k, v in vars(record).items() if k not in self.STANDARD and not k.startswith("_")}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of `log_config` (JSON lines, or plain text). Records are then made without what neither prints,
    as the logging HOWTO's "Optimization" section describes: the caller's file, line and function (a walk up the
    stack for each record) and the thread's and process's names: about 0.04 ms less of the main process's CPU per
    SPARQL request (bench/README)."""
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    return JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def log_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """A logging configuration (for uvicorn's `log_config`): JSON lines, or plain text, on standard error."""
    return {"version": 1, "disable_existing_loggers": False, "formatters": {"default": {"()": formatter, "fmt": fmt}},
            "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                                     "stream": "ext://sys.stderr"}},
            "loggers": {"": {"handlers": ["default"], "level": level},
                        "uvicorn.access": {"handlers": [], "propagate": False}}}
