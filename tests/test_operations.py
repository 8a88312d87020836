"""Operations: readiness, Prometheus metrics, request ids, JSON logs and the slow-query log."""

import json
import logging
import logging.config
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from graph import EmbeddedStore
from service.app import create_app
from service.settings import Settings
from service.telemetry import JsonFormatter, log_config

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
OVER_CAP = "SELECT ?s WHERE { ?s a <https://w3id.org/ecrn/def/Region> }"


@pytest.fixture(scope="module")
def watched(store: EmbeddedStore) -> Iterator[TestClient]:
    settings = Settings(row_cap=5, slow_query_seconds=0.0, query_timeout=1.0, query_workers=1)
    with TestClient(create_app(settings, store=store)) as client:
        yield client


def sample(client: TestClient, name: str, **labels: str) -> float:
    """The value of one sample of /metrics (0 when it is not there yet)."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def test_ready_means_a_query_worker_answers(watched: TestClient) -> None:
    response = watched.get("/ready")
    assert response.status_code == 200 and response.json()["status"] == "ready"


def test_not_ready_is_a_503_problem_when_no_worker_can_answer(store: EmbeddedStore) -> None:
    with TestClient(create_app(Settings(query_workers=1), store=store)) as client:
        client.app.state.pool.close()  # type: ignore[attr-defined]
        response = client.get("/ready")
    assert response.status_code == 503 and response.json()["title"] == "Service unavailable"


def test_requests_are_counted_by_route_template_and_status(watched: TestClient) -> None:
    before = sample(watched, "ecrn_http_requests_total", route="/api/{kind}", status="200")
    watched.get("/api/regions")
    watched.get("/api/projects")
    assert sample(watched, "ecrn_http_requests_total", route="/api/{kind}", status="200") == before + 2
    assert sample(watched, "ecrn_http_request_duration_seconds_count", route="/api/{kind}") >= 2


def test_problems_truncations_and_timeouts_are_counted(watched: TestClient) -> None:
    malformed = sample(watched, "ecrn_problems_total", type="malformed-query")
    assert watched.get("/sparql", params={"query": "SELEC nothing"}).status_code == 400
    assert sample(watched, "ecrn_problems_total", type="malformed-query") == malformed + 1
    truncated = sample(watched, "ecrn_query_truncations_total")
    assert watched.get("/sparql", params={"query": OVER_CAP}).headers["result-truncated"].startswith("true")
    assert sample(watched, "ecrn_query_truncations_total") == truncated + 1
    restarts = sample(watched, "ecrn_query_worker_restarts")
    assert watched.get("/sparql", params={"query": RUNAWAY}).status_code == 503
    assert sample(watched, "ecrn_problems_total", type="query-timeout") >= 1
    assert sample(watched, "ecrn_query_worker_restarts") == restarts + 1


def test_the_store_size_is_a_gauge(watched: TestClient, store: EmbeddedStore) -> None:
    assert sample(watched, "ecrn_store_quads") == len(store)


def test_every_response_carries_a_request_id_and_a_sane_one_is_echoed(watched: TestClient) -> None:
    made = watched.get("/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert watched.get("/health", headers={"X-Request-ID": "trace-42.a"}).headers["x-request-id"] == "trace-42.a"
    hostile = watched.get("/health", headers={"X-Request-ID": "a b<script>"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", hostile)
    exposed = watched.get("/health", headers={"Origin": "https://example.org"}).headers
    assert "x-request-id" in exposed["access-control-expose-headers"].lower()


def test_each_request_is_one_access_log_line_with_its_id(watched: TestClient,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ecrn_kg.access"):
        rid = watched.get("/api/regions/saxony-anhalt").headers["x-request-id"]
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "ecrn_kg.access"]
    mine = [line for line in lines if line["request_id"] == rid]
    assert len(mine) == 1
    assert mine[0]["path"] == "/api/regions/saxony-anhalt" and mine[0]["status"] == 200
    assert mine[0]["level"] == "INFO" and mine[0]["duration_ms"] >= 0


def test_a_slow_query_is_logged_with_its_request_id_and_text(watched: TestClient,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ecrn_kg.slow_query"):
        rid = watched.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).headers["x-request-id"]
    slow = [r for r in caplog.records if r.name == "ecrn_kg.slow_query" and getattr(r, "request_id", None) == rid]
    assert len(slow) == 1 and "ASK { ?s ?p ?o }" in slow[0].query  # type: ignore[attr-defined]


KNOBS = ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing")


@pytest.fixture
def log_knobs() -> Iterator[None]:
    """Give the logging module's record knobs back as they were (the log configuration turns some off)."""
    saved = {name: getattr(logging, name) for name in KNOBS}
    yield
    for name, value in saved.items():
        setattr(logging, name, value)


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.usefixtures("log_knobs")
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_records_under_the_log_configuration_skip_what_no_line_prints(fmt: str) -> None:
    """The caller's file, line and function (a walk up the stack per record), thread and process are left out of
    records; the lines written are the same as with them."""
    logger, keep = logging.getLogger("ecrn_kg.test.lean"), Keep()
    logger.addHandler(keep)
    try:
        logger.warning("before %s", "configuring", extra={"request_id": "r0"})
        config = log_config(fmt)
        logging.config.dictConfig(config)
        logger.warning("before %s", "configuring", extra={"request_id": "r0"})
    finally:
        logger.removeHandler(keep)
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False, "root": {"handlers": []}})
    full, lean = keep.records
    assert (full.funcName, full.thread is None, full.process is None) == (
        "test_records_under_the_log_configuration_skip_what_no_line_prints", False, False)
    assert (lean.funcName, lean.lineno, lean.thread, lean.process, lean.processName) == (
        "(unknown function)", 0, None, None, None)
    write = config["formatters"]["default"]["()"](fmt)
    full.created, full.msecs = lean.created, lean.msecs  # the same time, to compare the rest
    assert write.format(lean) == write.format(full)


@pytest.mark.usefixtures("log_knobs")
def test_the_json_log_configuration_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(log_config("json"))
    try:
        logging.getLogger("ecrn_kg.test").warning("hello %s", "world", extra={"request_id": "r1"})
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False, "root": {"handlers": []}})
    assert line["message"] == "hello world" and line["request_id"] == "r1" and line["logger"] == "ecrn_kg.test"
