"""The OpenAPI document is valid OpenAPI 3.1, names every operation once, and its examples work."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))


def test_every_named_query_operation_answers_its_documented_example(client: TestClient, spec: dict[str, Any]) -> None:
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/queries/"):
            continue
        example = {p["name"]: p.get("example", p["schema"].get("default")) for p in operations["get"]["parameters"]}
        response = client.get(path, params={k: v for k, v in example.items() if v is not None})
        assert response.status_code == 200, (path, response.text)
        checked += 1
    assert checked >= 10


def test_the_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()
