"""The OpenAPI document is valid OpenAPI 3.1, names every operation once, and its examples work."""

import shutil
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from graph import EmbeddedStore
from service.app import create_app
from service.settings import Settings


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


def test_errors_are_documented_as_the_problems_the_service_sends(spec: dict[str, Any]) -> None:
    """Found by schemathesis: FastAPI documents 422 and its own error body; this service answers 400 problems."""
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for operations in spec["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            assert "422" not in responses and "4XX" in responses, operation["operationId"]
            for status, response in responses.items():
                if status[0] in "45":
                    assert "application/problem+json" in response["content"], (operation["operationId"], status)


def test_writes_document_their_token_and_their_statuses(spec: dict[str, Any]) -> None:
    put, post = spec["paths"]["/rdf-graph-store"]["put"], spec["paths"]["/sparql"]["post"]
    assert put["security"] == [{"writeToken": []}] and {"201", "204"} <= set(put["responses"])
    assert {} in post["security"] and "204" in post["responses"]
    assert spec["components"]["securitySchemes"]["writeToken"]["scheme"] == "bearer"


def example(parameter: dict[str, Any]) -> Any:
    """The first example a parameter documents, in any of the places OpenAPI 3.1 allows."""
    if "example" in parameter:
        return parameter["example"]
    if "examples" in parameter:
        return next(iter(parameter["examples"].values()))["value"]
    schema = parameter.get("schema", {})
    return schema["examples"][0] if "examples" in schema else schema.get("default")


NEEDS_GRAPHVIZ = {"ontology-diagram"}


def test_every_operation_answers_its_documented_example(fresh_store: EmbeddedStore) -> None:
    """Each operation, called with the first example of every parameter and of its body, succeeds."""
    token = "example-token"
    with TestClient(create_app(Settings(write_token=token), store=fresh_store)) as client:
        spec = client.get("/openapi.json").json()
        called = []
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                if operation["operationId"] in NEEDS_GRAPHVIZ and shutil.which("dot") is None:
                    continue  # answers 503 by design without Graphviz; tests/test_diagram.py skips visibly
                path_values, query = {}, {}
                for parameter in operation.get("parameters", []):
                    value = example(parameter)
                    assert value is not None or not parameter.get("required"), (path, parameter["name"])
                    if value is not None:
                        (path_values if parameter["in"] == "path" else query)[parameter["name"]] = value
                headers, body = {"authorization": f"Bearer {token}"}, None
                if "requestBody" in operation:
                    media_type, content = next((m, c) for m, c in operation["requestBody"]["content"].items()
                                               if "example" in c)
                    body = content["example"] if isinstance(content["example"], str) else urlencode(content["example"])
                    headers["content-type"] = media_type
                response = client.request(method, path.format(**path_values), params=query, content=body,
                                          headers=headers)
                assert 200 <= response.status_code < 300, (method, path, query, response.text[:300])
                called.append(operation["operationId"])
    assert {"sparql-query", "sparql-query-or-update", "graph-put", "graph-delete", "list-resources",
            "get-resource", "search"} <= set(called)


def test_the_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()
