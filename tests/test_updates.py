"""SPARQL Update through HTTP: authorisation, shape checks on what a write touches, atomicity, entailments."""

from collections.abc import Iterator

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from graph import EmbeddedStore, Namespaces
from graph.entailment import entail_all
from service.app import create_app
from service.backend import Backend
from service.settings import Settings

TOKEN = "test-write-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
PREFIXES = """PREFIX ecrn: <https://w3id.org/ecrn/def/> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX org: <http://www.w3.org/ns/org#>
PREFIX region: <https://w3id.org/ecrn/id/region/> PREFIX orgn: <https://w3id.org/ecrn/id/organisation/>
"""
NEW_AGENCY = PREFIXES + """INSERT DATA { GRAPH <https://w3id.org/ecrn/graph/contrib> {
  orgn:new-agency a ecrn:DevelopmentAgency ; rdfs:label "New agency"@en ; ecrn:region region:masovia ;
      dcterms:source <https://example.org/news> } }"""


@pytest.fixture
def writable(fresh_store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(write_token=TOKEN), store=fresh_store)) as client:
        yield client


def update(client: TestClient, text: str, headers: dict[str, str] | None = None) -> int:
    response = client.post("/sparql", content=text, headers={"content-type": "application/sparql-update",
                                                              **(AUTH if headers is None else headers)})
    return response.status_code


def ask(client: TestClient, query: str) -> bool:
    answer: bool = client.post("/sparql", data={"query": PREFIXES + query}).json()["boolean"]
    return answer


def test_a_valid_update_is_applied_and_visible_to_queries(writable: TestClient) -> None:
    assert update(writable, NEW_AGENCY) == 204
    assert ask(writable, "ASK { orgn:new-agency ecrn:region region:masovia }")


def test_entailments_follow_an_update(writable: TestClient) -> None:
    update(writable, NEW_AGENCY)
    assert ask(writable, "ASK { orgn:new-agency a org:Organization }")
    update(writable, PREFIXES + "DELETE WHERE { GRAPH ?g { orgn:new-agency ?p ?o } }")
    assert not ask(writable, "ASK { orgn:new-agency a org:Organization }")


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"authorization": "Bearer wrong"}, 403),
                                                 ({"cookie": f"token={TOKEN}"}, 401),
                                                 ({"authorization": f"Basic {TOKEN}"}, 401)])
def test_updates_without_the_token_are_refused_and_change_nothing(writable: TestClient, fresh_store: EmbeddedStore,
                                                                  headers: dict[str, str], status: int) -> None:
    before = fresh_store.checksum()
    assert update(writable, NEW_AGENCY, headers) == status
    assert fresh_store.checksum() == before


def test_a_server_without_a_token_is_read_only(fresh_store: EmbeddedStore) -> None:
    with TestClient(create_app(Settings(), store=fresh_store)) as client:
        response = client.post("/sparql", data={"update": NEW_AGENCY}, headers=AUTH)
    assert response.status_code == 403 and "read-only" in response.json()["detail"]


def test_an_update_that_breaks_the_shapes_is_refused_with_the_report(writable: TestClient,
                                                                     fresh_store: EmbeddedStore) -> None:
    before = fresh_store.checksum()
    no_source = PREFIXES + """INSERT DATA { orgn:sourceless a ecrn:ClusterOrganisation ; rdfs:label "X"@en }"""
    response = writable.post("/sparql", data={"update": no_source}, headers=AUTH)
    assert response.status_code == 422
    violations = response.json()["violations"]
    assert any(v["focus"].endswith("/sourceless") and "source" in v["message"] for v in violations)
    assert fresh_store.checksum() == before


def test_deleting_a_required_fact_of_an_existing_resource_is_refused(writable: TestClient,
                                                                     fresh_store: EmbeddedStore) -> None:
    before = fresh_store.checksum()
    assert update(writable, PREFIXES + "DELETE WHERE { GRAPH ?g { region:masovia dcterms:source ?s } }") == 422
    assert fresh_store.checksum() == before


def test_a_template_update_is_checked_on_the_subjects_it_matches(writable: TestClient,
                                                                 fresh_store: EmbeddedStore) -> None:
    before = fresh_store.checksum()
    strip = PREFIXES + """DELETE { GRAPH ?g { ?t ecrn:transferStatus ?s } }
                          WHERE { GRAPH ?g { ?t ecrn:transferStatus ?s } }"""
    assert update(writable, strip) == 422
    assert fresh_store.checksum() == before


def test_an_update_is_all_or_nothing(writable: TestClient, fresh_store: EmbeddedStore) -> None:
    before = fresh_store.checksum()
    status = update(writable, NEW_AGENCY + " ; CREATE GRAPH <https://example.org/g> ; CREATE GRAPH <https://example.org/g>")
    assert status == 400
    assert fresh_store.checksum() == before and not ask(writable, "ASK { orgn:new-agency ?p ?o }")


def test_a_malformed_update_is_400_with_the_parser_message(writable: TestClient, fresh_store: EmbeddedStore) -> None:
    before = fresh_store.checksum()
    response = writable.post("/sparql", data={"update": "INSERT DATA { <a> <b> "}, headers=AUTH)
    assert response.status_code == 400 and response.json()["title"] == "Malformed query"
    assert fresh_store.checksum() == before


def test_load_is_refused_unless_allowlisted(writable: TestClient, fresh_store: EmbeddedStore) -> None:
    before = fresh_store.checksum()
    response = writable.post("/sparql", data={"update": "LOAD <http://127.0.0.1:9/data.ttl>"}, headers=AUTH)
    assert response.status_code == 403 and fresh_store.checksum() == before


def test_using_graph_uri_narrows_the_where_clause(writable: TestClient, fresh_store: Backend) -> None:
    """Also on Oxigraph serving its union default graph, which refuses USING in updates: the service asks the WHERE
    itself (FROM) and sends the update pinned to its solutions, with no USING (graph.pinning)."""
    copy = PREFIXES + """INSERT { GRAPH <https://example.org/copy> { ?r rdfs:label ?l } } WHERE { ?r a ecrn:Region ;
        rdfs:label ?l }"""
    response = writable.post("/sparql", params={"using-graph-uri": "https://w3id.org/ecrn/graph/data/people"},
                             content=copy, headers={"content-type": "application/sparql-update", **AUTH})
    assert response.status_code == 204
    assert not ask(writable, "ASK { GRAPH <https://example.org/copy> { ?s ?p ?o } }")
    response = writable.post("/sparql", params={"using-graph-uri": "https://w3id.org/ecrn/graph/data/regions"},
                             content=copy, headers={"content-type": "application/sparql-update", **AUTH})
    assert response.status_code == 204
    assert ask(writable, "ASK { GRAPH <https://example.org/copy> { ?s ?p ?o } }")


def test_with_names_the_graph_of_the_templates_and_the_where(writable: TestClient, fresh_store: Backend) -> None:
    """Also on Oxigraph serving its union default graph, which refuses WITH: pinned, the WHERE is asked in the WITH
    graph and the templates' triples are written into it (graph.pinning)."""
    regions, copy = "https://w3id.org/ecrn/graph/data/regions", "https://example.org/copy"
    insert = f'INSERT {{ ?r rdfs:comment "seen" . GRAPH <{copy}> {{ ?r a ecrn:Region }} }} WHERE {{ ?r a ecrn:Region }}'
    for graph, found in (("https://w3id.org/ecrn/graph/data/people", False), (regions, True)):
        response = writable.post("/sparql", content=f"{PREFIXES} WITH <{graph}> {insert}",
                                 headers={"content-type": "application/sparql-update", **AUTH})
        assert response.status_code == 204, response.text
        assert ask(writable, f"ASK {{ GRAPH <{copy}> {{ ?s ?p ?o }} }}") == found
    assert ask(writable, f'ASK {{ GRAPH <{regions}> {{ ?r a ecrn:Region ; rdfs:comment "seen" }} }}')
    assert not ask(writable, f'ASK {{ GRAPH ?g {{ ?r rdfs:comment "seen" }} FILTER(?g != <{regions}>) }}')


@pytest.mark.parametrize("operation", ["DROP ALL", "CLEAR SILENT NAMED", "drop named"])
def test_dropping_all_graphs_empties_the_store(writable: TestClient, fresh_store: Backend, operation: str) -> None:
    """Virtuoso takes DROP ALL and the like and does nothing: the remote store sends them graph by graph."""
    assert update(writable, NEW_AGENCY) == 204
    assert update(writable, f"{operation} ; INSERT DATA {{ GRAPH <urn:kept> {{ <urn:a> <urn:b> <urn:c> }} }}") == 204
    # grouped: Virtuoso answers DISTINCT ?g from its list of graphs, with those hidden from the user
    graphs = writable.post("/sparql", data={"query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"}).json()
    assert [b["g"]["value"] for b in graphs["results"]["bindings"]] == ["urn:kept"]
    assert not ask(writable, "ASK { orgn:new-agency ?p ?o }")


def test_a_using_graph_uri_the_engine_refuses_is_named_as_such(writable: TestClient) -> None:
    """Once spliced into the update text, where the engine's parser failed on it ("Malformed query")."""
    response = writable.post("/sparql", params={"using-graph-uri": "http://a/%zz"},
                             content="DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
                             headers={"content-type": "application/sparql-update", **AUTH})
    assert response.status_code == 400 and response.json()["type"].endswith("/update-dataset")


def test_entailments_after_writes_equal_entailing_everything_again(writable: TestClient,
                                                                   fresh_store: EmbeddedStore) -> None:
    update(writable, NEW_AGENCY)
    update(writable, PREFIXES + """INSERT DATA { GRAPH <https://w3id.org/ecrn/graph/contrib> {
        orgn:new-agency org:subOrganizationOf orgn:idepa ; ecrn:region region:asturias } }""")
    update(writable, PREFIXES + "DELETE WHERE { GRAPH ?g { orgn:new-agency ecrn:region region:masovia } }")
    graph = Namespaces().entailment_graph
    incremental = rdflib.Graph().parse(data=fresh_store.dump("ntriples", graph=graph), format="nt")
    entail_all(fresh_store, Namespaces())
    everything = rdflib.Graph().parse(data=fresh_store.dump("ntriples", graph=graph), format="nt")
    assert len(incremental) > 900 and isomorphic(incremental, everything)
