"""The `ecrn-kg` command, run as a real process: every command, its output and its exit status."""

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_DATA, free_port

REGIONS = "SELECT ?r WHERE { ?r a ecrn:Region } ORDER BY ?r"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    loaded = run("load", "--store", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "parsed data/regions.ttl:" in loaded.stderr
    assert loaded.stdout.startswith("loaded ")
    return path


def test_serve_answers_http_on_the_given_port_with_more_data(disk_store: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "service", "serve", "--port", str(port), "--store", str(disk_store),
               "--data", str(TEST_DATA / "tiny.ttl")]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["quads"] > 1000
        tiny = "ASK { <https://w3id.org/ecrn/id/organisation/tiny-agency> a <http://www.w3.org/ns/org#Organization> }"
        assert httpx.get(f"http://127.0.0.1:{port}/sparql", params={"query": tiny}).json()["boolean"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_help_lists_every_command() -> None:
    out = run("--help").stdout
    for command in ("serve", "load", "validate", "query", "export", "stats", "get"):
        assert command in out


def test_stats_counts_triples_per_graph_and_instances_per_class(disk_store: Path) -> None:
    out = run("stats", "--store", str(disk_store)).stdout
    assert "https://w3id.org/ecrn/graph/data/regions" in out
    assert "https://w3id.org/ecrn/def/Region" in out and "total" in out


def test_query_prints_csv(disk_store: Path) -> None:
    result = run("query", REGIONS, "--format", "csv", "--store", str(disk_store))
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines[0] == "r"
    assert "https://w3id.org/ecrn/id/region/saxony-anhalt" in lines


def test_query_runs_a_named_query_file(disk_store: Path) -> None:
    path = Path(__file__).parent.parent / "queries" / "chemclust-budget.rq"
    result = run("query", str(path), "--store", str(disk_store))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"]["bindings"]


def test_query_construct_prints_turtle(disk_store: Path) -> None:
    result = run("query", "CONSTRUCT WHERE { ?r a ecrn:Region }", "--store", str(disk_store))
    assert "<https://w3id.org/ecrn/id/region/masovia>" in result.stdout


def test_query_format_that_does_not_fit_the_result_exits_2(disk_store: Path) -> None:
    assert run("query", REGIONS, "--format", "turtle", "--store", str(disk_store)).returncode == 2


def test_malformed_query_exits_1_with_the_parser_message(disk_store: Path) -> None:
    result = run("query", "SELECT ?x WHERE {", "--store", str(disk_store))
    assert result.returncode == 1 and result.stderr.startswith("error:")


def test_export_writes_n_quads_of_every_graph(disk_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "dump.nq"
    assert run("export", "--format", "nquads", "--output", str(target), "--store", str(disk_store)).returncode == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert any("<https://w3id.org/ecrn/graph/entailments>" in line for line in lines)
    stats = run("stats", "--store", str(disk_store)).stdout
    assert f"{len(lines):8d}  total" in stats


def test_validate_passes_the_real_data() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("warnings") and result.stdout.startswith("0 violations")


def test_validate_fails_on_a_shape_violation_naming_the_file() -> None:
    result = run("validate", str(TEST_DATA / "breaks-shapes.ttl"))
    assert result.returncode == 1
    assert "A transfer needs a target region." in result.stdout and "breaks-shapes.ttl" in result.stdout


def test_load_of_malformed_turtle_exits_1_with_line_and_column(tmp_path: Path) -> None:
    result = run("load", str(TEST_DATA / "malformed.ttl"), "--store", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "malformed.ttl:6:22" in result.stderr


def test_get_runs_one_request_in_process(disk_store: Path) -> None:
    result = run("get", "/health", "--store", str(disk_store))
    assert result.returncode == 0 and json.loads(result.stdout)["status"] == "ok"
    assert result.stderr.startswith("200 application/json")


def test_get_of_a_failing_request_exits_1(disk_store: Path) -> None:
    result = run("get", "/sparql?query=SELECT", "--store", str(disk_store))
    assert result.returncode == 1 and json.loads(result.stdout)["status"] == 400
