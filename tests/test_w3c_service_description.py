"""The official W3C SPARQL 1.1 Service Description manifest, one test per entry, and the VoID description, over HTTP.

The manifest is read at collection time from the shared W3C test suite checkout beside the repo
(../shared/w3c-rdf-tests, see its PROVENANCE.txt). Its three entries carry no data, only names; each is one case of
test_w3c_service_description, named by the entry's local name, checked against a real uvicorn server serving the real
ChemClust graph (the `live_server` fixture):

- has-endpoint-triple: GET /sparql without a query answers a description with `?s a sd:Service; sd:endpoint <URL>`,
  URL being the endpoint's URL as requested.
- returns-rdf: that description is RDF in every format we offer for it by Accept (Turtle, JSON-LD, RDF/XML,
  N-Triples, and as the default graph of N-Quads and TriG, each
  under its own media type and each parsed with rdflib, all one same graph), and in an RDF format without Accept.
- conforms-to-schema: the description, together with the SD vocabulary (classes, individuals, rdfs:domain and
  rdfs:range as in SPARQL 1.1 Service Description, section 3), validates against the SHACL shapes below (pyshacl).
  Domains and ranges are read as constraints: a subject of sd:name must be typed sd:NamedGraph (or be an individual of
  the vocabulary), not merely be entailed to be one.

Beyond the manifest: the endpoint IRI follows the Host the client used, and /.well-known/void adds up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, VOID, Namespace

from graph import Namespaces, assets
from service.settings import Settings
from tests.test_w3c_protocol import MF, RDF_TYPES

MANIFEST = (Path(__file__).resolve().parents[2] / "shared" / "w3c-rdf-tests" / "sparql" / "sparql11"
            / "service-description" / "manifest.ttl")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
BASE = Settings().base_iri  # the base IRI the `live_server` fixture runs with
ECRN = Namespace(BASE + "def/")
REGIONS = BASE + "graph/data/regions"
FORMATS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml",
           "application/n-triples": "nt", "application/n-quads": "nquads", "application/trig": "trig"}
DATASET_FORMATS = {"application/n-quads": ox.RdfFormat.N_QUADS, "application/trig": ox.RdfFormat.TRIG}

# The SD vocabulary, as far as shapes need it: classes and their hierarchy, the individuals the spec defines, and each
# property's domain and range (rdfs:Resource ranges left out: they constrain nothing). Every term gets rdfs:isDefinedBy,
# which is how the shapes tell a defined term from one a description merely uses.
SD_VOCABULARY = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .

sd:Service a rdfs:Class . sd:Language a rdfs:Class . sd:Feature a rdfs:Class . sd:EntailmentRegime a rdfs:Class .
sd:EntailmentProfile a rdfs:Class . sd:GraphCollection a rdfs:Class . sd:Graph a rdfs:Class .
sd:NamedGraph a rdfs:Class .
sd:Function a rdfs:Class ; rdfs:subClassOf sd:Feature .
sd:Aggregate a rdfs:Class ; rdfs:subClassOf sd:Feature .
sd:Dataset a rdfs:Class ; rdfs:subClassOf sd:GraphCollection .

sd:SPARQL10Query a sd:Language . sd:SPARQL11Query a sd:Language . sd:SPARQL11Update a sd:Language .
sd:DereferencesURIs a sd:Feature . sd:UnionDefaultGraph a sd:Feature . sd:RequiresDataset a sd:Feature .
sd:EmptyGraphs a sd:Feature . sd:BasicFederatedQuery a sd:Feature .

sd:endpoint a rdf:Property ; rdfs:domain sd:Service .
sd:feature a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:Feature .
sd:defaultEntailmentRegime a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:EntailmentRegime .
sd:entailmentRegime a rdf:Property ; rdfs:domain sd:NamedGraph ; rdfs:range sd:EntailmentRegime .
sd:defaultSupportedEntailmentProfile a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:EntailmentProfile .
sd:supportedEntailmentProfile a rdf:Property ; rdfs:domain sd:NamedGraph ; rdfs:range sd:EntailmentProfile .
sd:extensionFunction a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:Function .
sd:extensionAggregate a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:Aggregate .
sd:languageExtension a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:Feature .
sd:supportedLanguage a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:Language .
sd:propertyFeature a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:Feature .
sd:defaultDataset a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:Dataset .
sd:availableGraphs a rdf:Property ; rdfs:domain sd:Service ; rdfs:range sd:GraphCollection .
sd:resultFormat a rdf:Property ; rdfs:domain sd:Service .
sd:inputFormat a rdf:Property ; rdfs:domain sd:Service .
sd:defaultGraph a rdf:Property ; rdfs:domain sd:Dataset ; rdfs:range sd:Graph .
sd:namedGraph a rdf:Property ; rdfs:domain sd:GraphCollection ; rdfs:range sd:NamedGraph .
sd:name a rdf:Property ; rdfs:domain sd:NamedGraph .
sd:graph a rdf:Property ; rdfs:domain sd:NamedGraph ; rdfs:range sd:Graph .
"""

# What a conforming description of our service is. The SPARQL constraints read the vocabulary above, which is added
# to the description before validation: every sd: term used is one the vocabulary defines, and every subject and
# object of an sd: property is (by its rdf:type, or as an individual of the vocabulary) an instance of that property's
# domain and range.
SD_SHAPES = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix : <urn:ecrn-kg:test:service-description#> .

: sh:declare [ sh:prefix "rdf" ; sh:namespace "http://www.w3.org/1999/02/22-rdf-syntax-ns#"^^xsd:anyURI ] ,
             [ sh:prefix "rdfs" ; sh:namespace "http://www.w3.org/2000/01/rdf-schema#"^^xsd:anyURI ] ,
             [ sh:prefix "sd" ; sh:namespace "http://www.w3.org/ns/sparql-service-description#"^^xsd:anyURI ] .

:Service a sh:NodeShape ; sh:targetClass sd:Service ;
    sh:property [ sh:path sd:endpoint ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ;
    sh:property [ sh:path sd:supportedLanguage ; sh:minCount 1 ;
                  sh:in ( sd:SPARQL10Query sd:SPARQL11Query sd:SPARQL11Update ) ] ;
    sh:property [ sh:path sd:resultFormat ; sh:nodeKind sh:IRI ] ;
    sh:property [ sh:path sd:inputFormat ; sh:nodeKind sh:IRI ] ;
    sh:property [ sh:path sd:feature ;
                  sh:in ( sd:DereferencesURIs sd:UnionDefaultGraph sd:RequiresDataset sd:EmptyGraphs
                          sd:BasicFederatedQuery ) ] ;
    sh:property [ sh:path sd:defaultDataset ; sh:minCount 1 ; sh:maxCount 1 ; sh:class sd:Dataset ;
                  sh:node :Dataset ] ;
    sh:sparql :KnownTerms, :Domains, :Ranges .

:Dataset a sh:NodeShape ; sh:targetClass sd:Dataset ;
    sh:property [ sh:path sd:defaultGraph ; sh:minCount 1 ; sh:maxCount 1 ; sh:class sd:Graph ] ;
    sh:property [ sh:path sd:namedGraph ; sh:class sd:NamedGraph ; sh:node :NamedGraph ] .

:NamedGraph a sh:NodeShape ; sh:targetClass sd:NamedGraph ; sh:targetObjectsOf sd:namedGraph ;
    sh:property [ sh:path sd:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:IRI ] ;
    sh:property [ sh:path sd:graph ; sh:maxCount 1 ; sh:class sd:Graph ] .

:KnownTerms a sh:SPARQLConstraint ;
    sh:message "{?term} is not a term of the SD vocabulary" ; sh:prefixes : ;
    sh:select \"\"\"
        SELECT $this ?term WHERE {
            { ?term ?p ?o } UNION { ?s ?term ?o } UNION { ?s ?p ?term }
            FILTER(isIRI(?term) && ?term != sd: && STRSTARTS(STR(?term), STR(sd:)))
            FILTER NOT EXISTS { ?term rdfs:isDefinedBy <http://www.w3.org/ns/sparql-service-description#> }
        }\"\"\" .

:Domains a sh:SPARQLConstraint ;
    sh:message "{?node} has {?path} but is not a {?domain}, its rdfs:domain" ; sh:prefixes : ;
    sh:select \"\"\"
        SELECT $this ?node ?path ?domain WHERE {
            ?node ?path ?value . ?path rdfs:domain ?domain .
            FILTER(STRSTARTS(STR(?path), STR(sd:)))
            FILTER NOT EXISTS { ?node rdf:type/rdfs:subClassOf* ?domain }
        }\"\"\" .

:Ranges a sh:SPARQLConstraint ;
    sh:message "{?node} {?path} {?value}, which is not a {?range}, its rdfs:range" ; sh:prefixes : ;
    sh:select \"\"\"
        SELECT $this ?node ?path ?value ?range WHERE {
            ?node ?path ?value . ?path rdfs:range ?range .
            FILTER(STRSTARTS(STR(?path), STR(sd:)))
            FILTER NOT EXISTS { ?value rdf:type/rdfs:subClassOf* ?range }
        }\"\"\" .
"""


def entry_names() -> list[str]:
    if not MANIFEST.is_file():  # fail collection loudly: CI always has ../shared beside the repo
        raise FileNotFoundError(f"W3C SPARQL Service Description manifest not found at {MANIFEST}")
    manifest = rdflib.Graph().parse(MANIFEST, format="turtle")
    root = next(manifest.subjects(RDF.type, MF.Manifest))
    entries = manifest.value(root, MF.entries)
    if entries is None:
        raise ValueError(f"{MANIFEST} has no mf:entries")
    return [str(entry).rsplit("#")[-1] for entry in Collection(manifest, entries)]


def fetch(url: str, accept: str | None = None, host: str | None = None) -> tuple[httpx.Response, rdflib.Graph]:
    """GET an RDF description; check status and media type; parse it by its media type."""
    headers = {k: v for k, v in (("accept", accept), ("host", host)) if v is not None}
    with httpx.Client(timeout=60) as client:
        if accept is None:
            del client.headers["accept"]
        response = client.get(url, headers=headers)
    context = f"GET {url} headers={headers}: got {response.status_code} {response.headers.get('content-type')}"
    assert response.status_code == 200, f"{context} {response.text[:500]!r}"
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    assert kind in RDF_TYPES or kind in DATASET_FORMATS, f"{context}: not an RDF media type"
    if accept is not None:
        assert kind == accept, f"{context}: asked for {accept}"
    if kind in DATASET_FORMATS:  # the description is the default graph of the dataset, and it has no other
        quads = list(ox.parse(response.content, format=DATASET_FORMATS[kind], base_iri=url))
        named = {q.graph_name for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
        assert not named, f"{context}: named graphs {named}"
        triples = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES) or b""
        graph = rdflib.Graph().parse(data=triples, format="nt")
    else:
        graph = rdflib.Graph().parse(data=response.content, format=RDF_TYPES[kind], publicID=url)
    assert len(graph) > 0, f"{context}: an empty graph"
    return response, graph


def services(graph: rdflib.Graph) -> set[rdflib.term.Node]:
    found = set(graph.subjects(RDF.type, SD.Service))
    assert found, "no sd:Service in the description"
    return found


def check_has_endpoint_triple(live_server: str) -> None:
    url = f"{live_server}/sparql"
    _, graph = fetch(url, "text/turtle")
    endpoints = {(s, o) for s in services(graph) for o in graph.objects(s, SD.endpoint)}
    assert any(o == rdflib.URIRef(url) for _, o in endpoints), \
        f"no `?s a sd:Service; sd:endpoint <{url}>`; the sd:endpoint triples are {endpoints}"


def check_returns_rdf(live_server: str) -> None:
    url = f"{live_server}/sparql"
    graphs = {accept: fetch(url, accept)[1] for accept in FORMATS}
    _, unasked = fetch(url)  # no Accept: still RDF
    turtle = canonical(graphs["text/turtle"])
    for accept, graph in [*graphs.items(), ("no Accept", unasked)]:
        assert canonical(graph) == turtle, f"the description as {accept} is not the graph it is as text/turtle"


def canonical(graph: rdflib.Graph) -> frozenset[str]:
    """The graph's triples with blank nodes labelled canonically (by the engine: rdflib's isomorphism takes
    seconds on the description), as N-Triples lines."""
    dataset = ox.Dataset(ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return frozenset(str(quad) for quad in dataset)


def check_conforms_to_schema(live_server: str) -> None:
    _, graph = fetch(f"{live_server}/sparql", "text/turtle")
    services(graph)
    shapes = rdflib.Graph().parse(data=SD_SHAPES, format="turtle")
    vocabulary = rdflib.Graph().parse(data=SD_VOCABULARY, format="turtle")
    for term in set(vocabulary.subjects()):
        vocabulary.add((term, RDFS.isDefinedBy, rdflib.URIRef(str(SD))))
    conforms, _, text = validate(graph + vocabulary, shacl_graph=shapes, inference="none", allow_warnings=False)
    assert conforms, f"the Service Description does not conform to the SD schema:\n{text}"


CHECKS: dict[str, Callable[[str], None]] = {
    "has-endpoint-triple": check_has_endpoint_triple,
    "returns-rdf": check_returns_rdf,
    "conforms-to-schema": check_conforms_to_schema,
}
ENTRIES = entry_names()
if set(ENTRIES) != set(CHECKS):
    raise ValueError(f"manifest entries {ENTRIES} do not match the checks written for them {sorted(CHECKS)}")


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES)
def test_w3c_service_description(entry: str, live_server: str) -> None:
    """One entry of the W3C SPARQL 1.1 Service Description manifest."""
    CHECKS[entry](live_server)


@pytest.mark.slow
def test_endpoint_follows_the_host_the_client_used(live_server: str) -> None:
    _, graph = fetch(f"{live_server}/sparql", "text/turtle", host="kg.example.org")
    endpoints = {o for s in services(graph) for o in graph.objects(s, SD.endpoint)}
    assert endpoints == {rdflib.URIRef("http://kg.example.org/sparql")}, \
        f"sent Host: kg.example.org; the sd:endpoint values are {endpoints}"


def void_description(live_server: str) -> tuple[rdflib.Graph, rdflib.term.Identifier]:
    """The VoID graph and its one top dataset (a void:Dataset that is no other's void:subset)."""
    _, graph = fetch(f"{live_server}/.well-known/void", "text/turtle")
    tops = set(graph.subjects(RDF.type, VOID.Dataset)) - set(graph.objects(None, VOID.subset))
    assert len(tops) == 1, f"expected one top void:Dataset, found {tops}"
    top = tops.pop()
    assert isinstance(top, rdflib.term.Identifier)
    return graph, top


def count(graph: rdflib.Graph, node: rdflib.term.Node, prop: rdflib.URIRef) -> int:
    values = list(graph.objects(node, prop))
    assert len(values) == 1, f"{node} has {len(values)} values of {prop}, not one: {values}"
    value = values[0]
    assert isinstance(value, rdflib.Literal) and isinstance(value.toPython(), int), f"{node} {prop} {value!r}"
    return int(value.toPython())


def subset_of(graph: rdflib.Graph, top: rdflib.term.Identifier, name: str) -> rdflib.term.Node:
    """The subset of `top` that describes the named graph `name` (by sd:name, on it or on an sd:NamedGraph)."""
    rows = graph.query("""SELECT DISTINCT ?subset WHERE { ?top void:subset ?subset .
                          { ?subset sd:name ?name } UNION { ?named sd:name ?name ; sd:graph ?subset } }""",
                       initNs={"void": VOID, "sd": SD}, initBindings={"top": top, "name": rdflib.URIRef(name)})
    found = [row[0] for row in rows]  # type: ignore[index]
    assert len(found) == 1, f"expected one void:subset of {top} for the named graph <{name}>, found {found}"
    return found[0]


def select_count(live_server: str, query: str) -> int:
    response = httpx.get(f"{live_server}/sparql", params={"query": query},
                         headers={"accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, f"{query}: {response.status_code} {response.text[:500]}"
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.slow
def test_void_triples_are_the_sum_of_the_subsets(live_server: str) -> None:
    graph, top = void_description(live_server)
    subsets = list(graph.objects(top, VOID.subset))
    assert subsets, f"{top} has no void:subset"
    total = sum(count(graph, subset, VOID.triples) for subset in subsets)
    assert count(graph, top, VOID.triples) == total, \
        f"{top} void:triples {count(graph, top, VOID.triples)}, the subsets add up to {total}"


@pytest.mark.slow
@pytest.mark.parametrize("path", assets.data_files(), ids=lambda p: p.name)
def test_void_has_a_subset_per_data_file(path: Path, live_server: str) -> None:
    graph, top = void_description(live_server)
    subset = subset_of(graph, top, Namespaces(BASE).graph_for(assets.relative(path)))
    assert count(graph, subset, VOID.triples) > 0


@pytest.mark.slow
def test_void_region_partition_counts_the_regions(live_server: str) -> None:
    graph, top = void_description(live_server)
    subset = subset_of(graph, top, REGIONS)
    partitions = [p for p in graph.objects(subset, VOID.classPartition) if (p, VOID["class"], ECRN.Region) in graph]
    assert len(partitions) == 1, f"expected one void:classPartition for {ECRN.Region} in {subset}, found {partitions}"
    regions = select_count(live_server, f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ GRAPH <{REGIONS}> "
                                        f"{{ ?r a <{ECRN.Region}> }} }}")
    assert regions > 0, f"no ecrn:Region in <{REGIONS}>"
    assert count(graph, partitions[0], VOID.entities) == regions
    triples = select_count(live_server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{REGIONS}> {{ ?s ?p ?o }} }}")
    assert count(graph, subset, VOID.triples) == triples
