"""The DCAT-AP 3 record at /catalog: it conforms to the official shapes, describes the real files, and negotiates."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, VOID, Namespace

from graph import EmbeddedStore
from service.app import create_app
from service.settings import Settings
from tests.conftest import TEST_DATA

DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SHAPES = TEST_DATA / "dcat-ap-3" / "dcat-ap-SHACL.ttl"
SHAPES_SHA256 = "92f76609d78d257123e75bc6b7155df5cc0a63f14c29fbc12b0ac95c56af2059"  # see tests/data/dcat-ap-3/README
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    assert hashlib.sha256(Path(SHAPES).read_bytes()).hexdigest() == SHAPES_SHA256, "the official shapes were edited"
    return Graph().parse(SHAPES, format="turtle")


@pytest.fixture(scope="module")
def record(client: TestClient) -> Graph:
    return Graph().parse(data=client.get("/catalog", headers={"accept": "text/turtle"}).text, format="turtle")


def violations(data: Graph, shapes: Graph) -> str | None:
    """None when the data conforms; else the report. RDFS entailment gives every IRI the class rdfs:Resource that
    the shapes ask of URLs (see tests/data/dcat-ap-3/README.md)."""
    conforms, _, text = validate(data, shacl_graph=shapes, inference="rdfs", allow_warnings=True)
    return None if conforms else str(text)


def without(graph: Graph, subject: URIRef | None, predicate: URIRef) -> Graph:
    copy = Graph()
    for triple in graph:
        copy.add(triple)
    copy.remove((subject, predicate, None))
    return copy


def one(graph: Graph, cls: URIRef) -> URIRef:
    (subject,) = [s for s in graph.subjects(RDF.type, cls) if isinstance(s, URIRef) and "#release-" not in s]
    return subject


def test_the_record_conforms_to_the_dcat_ap_3_shapes(record: Graph, shapes: Graph) -> None:
    assert violations(record, shapes) is None


@pytest.mark.parametrize(("cls", "predicate"), [(DCAT.Dataset, DCTERMS.title), (DCAT.Catalog, DCTERMS.publisher),
                                                (DCAT.Distribution, DCAT.accessURL),
                                                (DCAT.DataService, DCAT.endpointURL)])
def test_a_record_without_a_mandatory_property_breaks_the_shapes(record: Graph, shapes: Graph, cls: URIRef,
                                                                   predicate: URIRef) -> None:
    subject = next(s for s in record.subjects(RDF.type, cls) if "#release-" not in s)
    report = violations(without(record, subject, predicate), shapes)
    assert report is not None and str(subject) in report and "MinCountConstraintComponent" in report


def test_a_licence_that_is_not_a_licence_document_breaks_the_shapes(record: Graph, shapes: Graph) -> None:
    licence = URIRef(f"{EU}licence/CC_BY_4_0")
    report = violations(without(record, licence, RDF.type), shapes)
    assert report is not None and "ClassConstraintComponent" in report


def test_each_distribution_gives_the_size_and_sha256_of_its_file(client: TestClient, record: Graph) -> None:
    distributions = list(record.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == 3
    for distribution in distributions:
        body = client.get(str(record.value(distribution, DCAT.downloadURL))).content
        assert record.value(distribution, DCAT.byteSize).toPython() == len(body)
        checksum = record.value(distribution, SPDX.checksum)
        assert record.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(record.value(checksum, SPDX.checksumValue)) == hashlib.sha256(body).hexdigest()
        assert str(record.value(distribution, DCTERMS.format)).startswith(f"{EU}file-type/")
        assert str(record.value(distribution, DCAT.mediaType)).startswith(IANA)


def test_the_gzipped_dump_is_nquads_in_gzip(record: Graph) -> None:
    (gzipped,) = record.subjects(DCAT.compressFormat, URIRef(IANA + "application/gzip"))
    assert record.value(gzipped, DCAT.mediaType) == URIRef(IANA + "application/n-quads")
    assert record.value(gzipped, DCTERMS.format) == URIRef(f"{EU}file-type/RDF_N_QUADS")


def test_the_data_services_are_the_sparql_endpoint_and_the_rest_api(record: Graph) -> None:
    services = {str(record.value(s, DCAT.endpointURL)): s for s in record.subjects(RDF.type, DCAT.DataService)}
    assert set(services) == {"http://testserver/sparql", "http://testserver/"}
    sparql, api = services["http://testserver/sparql"], services["http://testserver/"]
    assert record.value(sparql, DCTERMS.conformsTo) == URIRef("https://www.w3.org/TR/sparql11-protocol/")
    assert record.value(api, DCAT.endpointDescription) == URIRef("http://testserver/openapi.json")
    assert {record.value(s, DCAT.servesDataset) for s in services.values()} == {one(record, DCAT.Dataset)}


def test_authority_table_values_and_the_publisher(record: Graph) -> None:
    dataset, catalog = one(record, DCAT.Dataset), one(record, DCAT.Catalog)
    assert record.value(dataset, DCTERMS.language) == URIRef(f"{EU}language/ENG")
    assert record.value(dataset, DCTERMS.accessRights) == URIRef(f"{EU}access-right/PUBLIC")
    assert record.value(dataset, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/IRREG")
    assert URIRef(f"{EU}data-theme/ECON") in set(record.objects(dataset, DCAT.theme))
    publisher = record.value(catalog, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in record and str(record.value(publisher, FOAF.name)) == "ecrn-kg"
    contact = record.value(dataset, DCAT.contactPoint)
    assert (contact, RDF.type, URIRef("http://www.w3.org/2006/vcard/ns#Kind")) in record


def test_the_licence_is_the_one_the_ontology_states(record: Graph) -> None:
    ontology = Graph().parse(Path(__file__).resolve().parent.parent / "ontology" / "ecrn.ttl")
    stated = set(ontology.objects(None, DCTERMS.license))
    assert stated == {URIRef("https://creativecommons.org/licenses/by/4.0/")}
    assert set(record.objects(None, DCTERMS.license)) == {URIRef(f"{EU}licence/CC_BY_4_0")}
    rights = {str(record.value(r, RDFS.label)) for r in record.objects(None, DCTERMS.rights)}
    assert len(rights) == 1 and "CC BY 4.0" in rights.pop()


def test_the_versions_are_the_releases(client: TestClient, record: Graph) -> None:
    dataset = one(record, DCAT.Dataset)
    releases = client.get("/releases").json()["releases"]
    assert {str(v) for v in record.objects(dataset, DCAT.hasVersion)} == {r["@id"] for r in releases}
    current = record.value(dataset, DCAT.hasCurrentVersion)
    assert str(current) == releases[0]["@id"]
    assert record.value(dataset, DCAT.version) == Literal(releases[0]["version"])
    assert str(record.value(current, FOAF.page)) == releases[0]["changes"]


@pytest.mark.parametrize(("accept", "media_type", "fmt"), [
    ("text/turtle", "text/turtle", "turtle"), ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"), ("application/n-triples", "application/n-triples", "nt"),
    ("*/*", "text/turtle", "turtle")])
def test_the_record_is_negotiated(client: TestClient, record: Graph, accept: str, media_type: str, fmt: str) -> None:
    response = client.get("/catalog", headers={"accept": accept})
    assert response.status_code == 200 and "Accept" in response.headers["vary"].split(", ")
    assert response.headers["content-type"].split(";")[0] == media_type
    assert len(Graph().parse(data=response.content, format=fmt)) == len(record)


def test_a_record_in_no_acceptable_format_is_406(client: TestClient) -> None:
    response = client.get("/catalog", headers={"accept": "image/png"})
    assert response.status_code == 406 and response.headers["content-type"] == "application/problem+json"


@pytest.fixture(scope="module")
def proxied(store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), store=store), base_url="https://data.example.org",
                    root_path="/kg") as client:
        yield client


def test_urls_are_those_the_client_came_through(proxied: TestClient) -> None:
    record = Graph().parse(data=proxied.get("/kg/catalog").text, format="turtle")
    urls = {str(o) for p in (DCAT.downloadURL, DCAT.endpointURL, DCAT.endpointDescription, FOAF.homepage)
            for o in record.objects(None, p)}
    assert urls and all(url.startswith("https://data.example.org/kg/") for url in urls)
    assert (URIRef("https://data.example.org/kg/catalog"), RDF.type, DCAT.Catalog) in record


def test_the_void_description_links_the_dumps_and_the_catalogue(client: TestClient) -> None:
    void = Graph().parse(data=client.get("/.well-known/void").text, format="turtle")
    dataset = URIRef("https://w3id.org/ecrn/void")
    assert {str(d) for d in void.objects(dataset, VOID.dataDump)} == {
        f"http://testserver/dumps/{name}" for name in ("ecrn-kg.nq.gz", "ecrn-kg.ttl", "ecrn-kg.jsonld")}
    assert (dataset, RDFS.seeAlso, URIRef("http://testserver/catalog")) in void
