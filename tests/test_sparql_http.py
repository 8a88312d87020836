"""The /sparql endpoint through HTTP: methods, formats, negotiation and errors."""

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib import BNode, Graph
from rdflib.compare import isomorphic
from SPARQLWrapper import JSON, SPARQLWrapper

from graph import EmbeddedStore
from service.backend import Backend
from tests.virtuoso_server import on_virtuoso

SELECT = "SELECT ?r WHERE { ?r a <https://w3id.org/ecrn/def/Region> } ORDER BY ?r LIMIT 3"
ASK = "ASK { <https://w3id.org/ecrn/id/region/saxony-anhalt> a <https://w3id.org/ecrn/def/Region> }"
CONSTRUCT = ("CONSTRUCT { ?r a <https://w3id.org/ecrn/def/Region> } "
             "WHERE { ?r a <https://w3id.org/ecrn/def/Region> } LIMIT 2")


def bindings(response: httpx.Response) -> list[dict[str, dict[str, str]]]:
    rows: list[dict[str, dict[str, str]]] = response.json()["results"]["bindings"]
    return rows


def test_get_select_answers_sparql_json(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
    assert len(bindings(response)) == 3


def test_post_form_and_post_direct_answer_the_same(client: TestClient) -> None:
    form = client.post("/sparql", data={"query": SELECT})
    direct = client.post("/sparql", content=SELECT, headers={"content-type": "application/sparql-query"})
    assert form.status_code == direct.status_code == 200
    assert bindings(form) == bindings(direct) == bindings(client.get("/sparql", params={"query": SELECT}))


def test_ask_answers_a_boolean(client: TestClient) -> None:
    assert client.get("/sparql", params={"query": ASK}).json()["boolean"] is True


def test_a_query_may_declare_its_own_base_more_than_once(client: TestClient) -> None:
    """The service declares its own base first (its endpoint); pyoxigraph's SERVICE calls declare one too."""
    query = "BASE <https://w3id.org/ecrn/id/> BASE <region/> ASK { <masovia> ?p ?o }"
    assert client.get("/sparql", params={"query": query}).json()["boolean"] is True


def test_construct_answers_turtle_by_default(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT})
    assert response.headers["content-type"].startswith("text/turtle")
    assert "https://w3id.org/ecrn/def/Region" in response.text


@pytest.mark.parametrize(("accept", "media_type"), [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.2, application/sparql-results+json", "application/sparql-results+json"),
])
def test_select_formats_follow_accept(client: TestClient, accept: str, media_type: str) -> None:
    response = client.get("/sparql", params={"query": SELECT}, headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


def test_csv_select_has_a_header_and_one_line_per_row(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT, "format": "csv"})
    lines = response.text.strip().splitlines()
    assert lines[0] == "r" and len(lines) == 4


def test_describe_answers_the_concise_bounded_description_on_every_store(client: TestClient,
                                                                          store: EmbeddedStore) -> None:
    """SPARQL leaves DESCRIBE to the store: each store the service runs on answers what the embedded one does (the
    practice's own triples, and those of its budgets, blank nodes), not some other choice of triples."""
    describe = "DESCRIBE <https://w3id.org/ecrn/id/practice/open-innovation-lombardia>"
    response = client.get("/sparql", params={"query": describe}, headers={"accept": "application/n-triples"})
    assert response.status_code == 200
    answered = Graph().parse(data=response.text, format="nt")
    expected = Graph().parse(data=store.query(describe).serialize("ntriples").decode(), format="nt")
    assert len(expected) > 20 and any(isinstance(o, BNode) for o in expected.objects())
    assert isomorphic(answered, expected)


def test_an_order_by_an_aggregate_answers_in_order_on_every_store(client: TestClient, store: EmbeddedStore) -> None:
    """A researcher's count per region, largest first (Virtuoso failed to compile the sort classes of such keys)."""
    query = ("SELECT ?r (COUNT(?p) AS ?n) WHERE { ?p <https://w3id.org/ecrn/def/region> ?r ; a "
             "<https://w3id.org/ecrn/def/GoodPractice> } GROUP BY ?r ORDER BY DESC(?n) ?r")
    response = client.get("/sparql", params={"query": query}, headers={"accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    answered = [(b["r"]["value"], int(b["n"]["value"])) for b in bindings(response)]
    expected = [(r["r"], int(r["n"])) for r in store.query(query).rows()]
    assert answered == expected and len(expected) > 3 and expected[0][1] > expected[-1][1]


def test_construct_as_json_ld_on_request(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    assert json.loads(response.text)


def test_nothing_acceptable_is_406(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT}, headers={"accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"


def test_malformed_query_is_400_with_the_parser_position(client: TestClient, backend: Backend) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["title"] == "Malformed query"
    # the parser's message, its line counted in the query as sent (the prologue the service adds is not counted):
    # Virtuoso's parser names the line and what it read; Oxigraph's the line, the column and what it expected
    words = ("line 1:", "syntax error at '}'") if on_virtuoso(backend) else ("1:", "expected")
    assert all(word in problem["detail"] for word in words), problem["detail"]
    assert "SPARQL query:" not in problem["detail"]  # Virtuoso's echo of the query is left out


def test_two_query_parameters_are_400(client: TestClient) -> None:
    response = client.get("/sparql", params=[("query", ASK), ("query", ASK)])
    assert response.status_code == 400


@pytest.mark.parametrize("iri", ["", "not an iri", "http://a/%zz", "http://a/\u009e"])
@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"])
def test_a_dataset_graph_that_is_no_iri_is_400(client: TestClient, name: str, iri: str) -> None:
    """Found by schemathesis: an empty named-graph-uri reached the engine, and the answer was 500."""
    response = client.get("/sparql", params={"query": "ASK {}", name: iri})
    assert response.status_code == 400 and name in response.json()["detail"]


def test_post_without_query_is_400(client: TestClient) -> None:
    assert client.post("/sparql", data={"format": "json"}).status_code == 400


def test_post_with_another_content_type_is_415(client: TestClient) -> None:
    response = client.post("/sparql", content=ASK, headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_non_utf8_body_is_400(client: TestClient) -> None:
    response = client.post("/sparql", content=b"ASK { \xff }", headers={"content-type": "application/sparql-query"})
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]


def test_reads_are_open_to_any_origin_without_credentials(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": ASK}, headers={"origin": "https://other.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_health_reports_the_store(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["quads"] > 1000


def test_a_real_server_answers_sparqlwrapper(live_server: str) -> None:
    wrapper = SPARQLWrapper(f"{live_server}/sparql")
    wrapper.setQuery(SELECT)
    wrapper.setReturnFormat(JSON)
    result = wrapper.query().convert()
    assert isinstance(result, dict)
    assert [b["r"]["value"] for b in result["results"]["bindings"]] == [
        b["r"]["value"] for b in bindings(httpx.get(f"{live_server}/sparql", params={"query": SELECT}))]
    assert len(result["results"]["bindings"]) == 3



def test_answers_of_many_pieces_come_whole_to_many_clients_of_a_live_server(live_server: str) -> None:
    """The server (uvicorn on uvloop) awaits workers' answers on its event loop; an answer a worker writes in more
    than one piece is read whole, also while other clients' answers come in."""
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000"

    def ask(_: int) -> tuple[int, int]:
        response = httpx.post(f"{live_server}/sparql", data={"query": query},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        rows = len(response.json()["results"]["bindings"]) if response.status_code == 200 else 0
        return response.status_code, rows

    with ThreadPoolExecutor(8) as clients:
        assert set(clients.map(ask, range(64))) == {(200, 1000)}
