"""Every error the service sends has one RFC 9457 shape, and never a stack trace or a file path."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ROOT = str(Path(__file__).resolve().parent.parent)  # no file path of the server may show
BAD_REQUESTS = [
    ("GET", "/sparql", {"query": "SELECT"}, None, {}),
    ("POST", "/sparql", {}, b"format=json", {"content-type": "application/x-www-form-urlencoded"}),
    ("GET", "/sparql", {"query": "ASK {}"}, None, {"accept": "image/png"}),
    ("POST", "/sparql", {}, b"ASK {}", {"content-type": "text/plain"}),
    ("GET", "/no-such-page", {}, None, {}),
    ("DELETE", "/health", {}, None, {}),
]


@pytest.mark.parametrize(("method", "path", "params", "body", "headers"), BAD_REQUESTS)
def test_errors_are_problem_details(client: TestClient, method: str, path: str, params: dict[str, str],
                                    body: bytes | None, headers: dict[str, str]) -> None:
    response = client.request(method, path, params=params, content=body, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert problem["status"] == response.status_code
    assert "Traceback" not in response.text and ROOT not in response.text and ".py" not in response.text
