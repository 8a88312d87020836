"""Real SPARQL clients against a real server: SPARQLWrapper in every format, rdflib's SPARQLStore and
SPARQLUpdateStore."""

import json
from collections.abc import Iterator

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.Wrapper import POST

from graph import EmbeddedStore, load_default
from service.app import create_app
from service.settings import Settings
from tests.conftest import serve_in_thread

TOKEN = "client-token"
ECRN = "https://w3id.org/ecrn/def/"
REGIONS = f"SELECT ?r WHERE {{ ?r a <{ECRN}Region> }} ORDER BY ?r"
CONSTRUCT = f"CONSTRUCT {{ ?r a <{ECRN}Region> }} WHERE {{ ?r a <{ECRN}Region> }}"
DESCRIBE = "DESCRIBE <https://w3id.org/ecrn/id/region/masovia>"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A writable server over a fresh copy of the real graph."""
    store = EmbeddedStore()
    load_default(store)
    with serve_in_thread(create_app(Settings(write_token=TOKEN), store=store)) as url:
        yield url


def wrapper(server: str, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def region_count(server: str) -> int:
    result = wrapper(server, REGIONS, JSON).query().convert()
    assert isinstance(result, dict)
    return len(result["results"]["bindings"])


def test_select_in_json_xml_csv_tsv_agrees(server: str) -> None:
    count = region_count(server)
    assert count >= 30
    xml = wrapper(server, REGIONS, XML).query().convert()
    assert len(xml.getElementsByTagName("result")) == count  # type: ignore[union-attr]
    csv = wrapper(server, REGIONS, CSV).query().convert()
    assert len(csv.decode().strip().splitlines()) == count + 1  # type: ignore[union-attr]
    tsv = wrapper(server, REGIONS, TSV).query().convert()
    assert len(tsv.decode().strip().splitlines()) == count + 1  # type: ignore[union-attr]


def test_ask(server: str) -> None:
    result = wrapper(server, f"ASK {{ <https://w3id.org/ecrn/id/region/masovia> a <{ECRN}Region> }}", JSON)
    assert result.query().convert()["boolean"] is True  # type: ignore[index]


@pytest.mark.parametrize("fmt", [TURTLE, JSONLD, XML, N3])
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
def test_graph_results_in_every_format(server: str, query: str, fmt: str) -> None:
    result = wrapper(server, query, fmt).query()
    converted = result.convert()
    graph = converted if isinstance(converted, rdflib.Graph) else rdflib.Graph().parse(
        data=converted, format={TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld"}.get(fmt, "xml"))
    assert len(graph) >= (30 if query == CONSTRUCT else 5)


def test_update_with_the_token(server: str) -> None:
    client = SPARQLWrapper(f"{server}/sparql", updateEndpoint=f"{server}/sparql")
    client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    client.setMethod(POST)
    client.setQuery("""PREFIX ecrn: <https://w3id.org/ecrn/def/> PREFIX dcterms: <http://purl.org/dc/terms/>
        INSERT DATA { GRAPH <https://w3id.org/ecrn/graph/contrib> { <https://w3id.org/ecrn/id/region/wrapper-test>
        a ecrn:Region ; <http://www.w3.org/2000/01/rdf-schema#label> "Wrapper test"@en ;
        dcterms:source <https://example.org/test> } }""")
    before = region_count(server)
    client.query()
    assert region_count(server) == before + 1


def test_update_without_the_token_fails(server: str) -> None:
    client = SPARQLWrapper(f"{server}/sparql", updateEndpoint=f"{server}/sparql")
    client.setMethod(POST)
    client.setQuery("CLEAR ALL")
    with pytest.raises(Exception, match="401"):
        client.query()
    assert region_count(server) > 0


def test_rdflib_sparqlstore_reads_the_graph(server: str) -> None:
    graph = rdflib.Graph(SPARQLStore(f"{server}/sparql", returnFormat="json"))
    rows = list(graph.query(REGIONS))
    assert len(rows) == region_count(server)
    labels = set(graph.objects(rdflib.URIRef("https://w3id.org/ecrn/id/region/masovia"), rdflib.RDFS.label))
    assert rdflib.Literal("Masovia", lang="en") in labels


def test_rdflib_sparqlupdatestore_writes_a_named_graph(server: str) -> None:
    store = SPARQLUpdateStore(f"{server}/sparql", f"{server}/sparql", auth=None,
                              headers={"Authorization": f"Bearer {TOKEN}"})
    dataset = rdflib.Dataset(store=store)
    target = dataset.graph(rdflib.URIRef("https://example.org/updatestore"))
    subject = rdflib.URIRef("https://example.org/thing")
    target.add((subject, rdflib.RDFS.comment, rdflib.Literal("written by SPARQLUpdateStore")))
    result = wrapper(server, "SELECT ?c WHERE { GRAPH <https://example.org/updatestore> { ?s ?p ?c } }", JSON)
    assert json.loads(json.dumps(result.query().convert()))["results"]["bindings"][0]["c"]["value"] == (
        "written by SPARQLUpdateStore")
