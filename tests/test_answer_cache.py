"""Repeated queries: answered from memory until the next write, with ETags for conditional requests."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from graph import EmbeddedStore
from service.answer_cache import cacheable
from service.app import create_app
from service.settings import Settings

TOKEN = "cache-token"
REGIONS = "SELECT (COUNT(?r) AS ?n) WHERE { ?r a <https://w3id.org/ecrn/def/Region> }"
INSERT = """INSERT DATA { GRAPH <https://w3id.org/ecrn/graph/contrib> { <https://w3id.org/ecrn/id/region/cached>
  a <https://w3id.org/ecrn/def/Region> ; <http://www.w3.org/2000/01/rdf-schema#label> "Cached"@en ;
  <http://purl.org/dc/terms/source> <https://example.org/cache> } }"""


@pytest.fixture
def client(fresh_store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(write_token=TOKEN), store=fresh_store)) as test_client:
        yield test_client


def hits(client: TestClient) -> int:
    count: int = client.app.state.answers.hits  # type: ignore[attr-defined]
    return count


def count(client: TestClient) -> int:
    return int(client.get("/sparql", params={"query": REGIONS}).json()["results"]["bindings"][0]["n"]["value"])


def test_a_repeated_query_is_answered_from_memory_with_the_same_body_and_etag(client: TestClient) -> None:
    first = client.get("/sparql", params={"query": REGIONS})
    second = client.get("/sparql", params={"query": REGIONS})
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    assert hits(client) == 1


def test_if_none_match_gets_304(client: TestClient) -> None:
    etag = client.get("/sparql", params={"query": REGIONS}).headers["etag"]
    response = client.get("/sparql", params={"query": REGIONS}, headers={"if-none-match": etag})
    assert response.status_code == 304 and response.headers["etag"] == etag and not response.content


def test_a_write_makes_cached_answers_stale(client: TestClient) -> None:
    before = count(client)
    etag = client.get("/sparql", params={"query": REGIONS}).headers["etag"]
    response = client.post("/sparql", content=INSERT, headers={"content-type": "application/sparql-update",
                                                               "authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204
    assert count(client) == before + 1
    assert client.get("/sparql", params={"query": REGIONS}, headers={"if-none-match": etag}).status_code == 200


def test_formats_are_cached_apart(client: TestClient) -> None:
    as_json = client.get("/sparql", params={"query": REGIONS})
    as_csv = client.get("/sparql", params={"query": REGIONS}, headers={"accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv") and as_json.headers["etag"] != as_csv.headers["etag"]


def test_non_deterministic_queries_are_never_cached(client: TestClient) -> None:
    query = "SELECT (RAND() AS ?r) WHERE {}"
    answers = {client.get("/sparql", params={"query": query}).text for _ in range(3)}
    assert len(answers) == 3 and hits(client) == 0


@pytest.mark.parametrize(("query", "kept"), [
    ("SELECT * WHERE { ?s ?p ?o }", True),
    ("SELECT (now() AS ?t) WHERE {}", False),  # function names are case-insensitive
    ("SELECT (sTrUuId() AS ?u) WHERE {}", False),
    ("SELECT ?b WHERE { BIND(bnode() AS ?b) }", False),
    ("# known regions, at random\nSELECT ?s WHERE { ?s ?p 'now' }", True),  # the names in a comment or a string
    ("SELECT ?s WHERE { ?s <http://example.org/rand> ?o }", True),
])
def test_volatile_functions_are_told_from_the_same_letters_elsewhere(query: str, kept: bool) -> None:
    assert cacheable(query, frozenset()) is kept
    assert not cacheable(query, frozenset({"http://example.org/sparql"}))  # a remote answer is never kept
