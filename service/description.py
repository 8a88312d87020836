"""The Service Description of /sparql and the VoID description of the dataset, as one RDF graph."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Response
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID, XSD, Namespace

from service import negotiation
from service.backend import Pool
from service.problems import NotAcceptableError
from service.settings import Settings

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "nquads": "nt",
                  "trig": "turtle"}
W3C_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle",
               "N-Triples", "JSON-LD", "RDF_XML", "N-Quads", "TriG"]
STATISTICS_TIMEOUT = 300.0

PER_GRAPH = """SELECT ?g (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
               WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"""
CLASSES = "SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g ?c"
PROPERTIES = "SELECT ?g ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p"


@dataclass(frozen=True)
class Statistics:
    per_graph: list[dict[str, str]]
    classes: list[dict[str, str]]
    properties: list[dict[str, str]]


def statistics(pool: Pool) -> Statistics:
    """Counts per named graph; blocking (it runs in the query workers)."""
    return Statistics(*(pool.select(q, STATISTICS_TIMEOUT) for q in (PER_GRAPH, CLASSES, PROPERTIES)))


def void_graph(stats: Statistics, settings: Settings, endpoint: str) -> Graph:
    """VoID: the dataset, one subset per named graph with triple, class and property counts."""
    out = Graph(bind_namespaces="core")
    out.bind("void", VOID)
    out.bind("sd", SD)
    out.bind("dcterms", DCTERMS)
    dataset = URIRef(settings.base_iri + "void")
    out.add((dataset, RDF.type, VOID.Dataset))
    out.add((dataset, DCTERMS.title, Literal("ECRN knowledge graph", lang="en")))
    out.add((dataset, VOID.sparqlEndpoint, URIRef(endpoint)))
    out.add((dataset, VOID.uriSpace, Literal(settings.base_iri + "id/")))
    out.add((dataset, VOID.vocabulary, URIRef(settings.base_iri + "def/")))
    out.add((dataset, VOID.triples, _count(sum(int(r["triples"]) for r in stats.per_graph))))
    out.add((dataset, VOID.classes, _count(len({r["c"] for r in stats.classes}))))
    out.add((dataset, VOID.properties, _count(len({r["p"] for r in stats.properties}))))
    out.add((dataset, RDF.type, SD.Dataset))
    for row in stats.per_graph:
        subset = URIRef(f"{dataset}#{row['g'].removeprefix(settings.base_iri)}")
        named = BNode()
        out.add((dataset, VOID.subset, subset))
        out.add((subset, RDF.type, VOID.Dataset))
        out.add((subset, RDF.type, SD.Graph))
        out.add((dataset, SD.namedGraph, named))  # SD's way to tie a subset to the named graph it describes
        out.add((named, RDF.type, SD.NamedGraph))
        out.add((named, SD.name, URIRef(row["g"])))
        out.add((named, SD.graph, subset))
        for key, prop in (("triples", VOID.triples), ("subjects", VOID.distinctSubjects),
                          ("objects", VOID.distinctObjects)):
            out.add((subset, prop, _count(int(row[key]))))
        _partitions(out, subset, row["g"], stats)
    return out


def _partitions(out: Graph, subset: URIRef, graph: str, stats: Statistics) -> None:
    classes = [r for r in stats.classes if r["g"] == graph]
    properties = [r for r in stats.properties if r["g"] == graph]
    out.add((subset, VOID.classes, _count(len(classes))))
    out.add((subset, VOID.properties, _count(len(properties))))
    for row in classes:
        partition = BNode()
        out.add((subset, VOID.classPartition, partition))
        out.add((partition, VOID["class"], URIRef(row["c"])))
        out.add((partition, VOID.entities, _count(int(row["n"]))))
    for row in properties:
        partition = BNode()
        out.add((subset, VOID.propertyPartition, partition))
        out.add((partition, VOID.property, URIRef(row["p"])))
        out.add((partition, VOID.triples, _count(int(row["n"]))))


def service_graph(stats: Statistics, settings: Settings, endpoint: str) -> Graph:
    """The Service Description of the endpoint, with the VoID description as its default dataset."""
    out = void_graph(stats, settings, endpoint)
    service, dataset = URIRef(endpoint + "#service"), URIRef(settings.base_iri + "void")
    out.add((service, RDF.type, SD.Service))
    out.add((service, SD.endpoint, URIRef(endpoint)))
    out.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if settings.write_token is not None:
        out.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    for name in W3C_FORMATS:
        out.add((service, SD.resultFormat, FORMATS[name]))
    out.add((service, SD.feature, SD.EmptyGraphs))
    if settings.union_default_graph:
        out.add((service, SD.feature, SD.UnionDefaultGraph))
    if settings.service_allowlist:
        out.add((service, SD.feature, SD.BasicFederatedQuery))
    out.add((service, SD.defaultDataset, dataset))
    default = BNode()
    out.add((dataset, SD.defaultGraph, default))
    out.add((default, RDF.type, SD.Graph))
    return out


def serialize(graph: Graph, fmt: str) -> bytes:
    """Serialise in a negotiated graph format name (see negotiation.GRAPH_MEDIA_TYPES); as N-Quads and TriG, the
    triples are the default graph (N-Triples is N-Quads, Turtle is TriG)."""
    data = graph.serialize(format=RDFLIB_FORMATS[fmt], encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode()


class StatisticsCache:
    """Statistics of the store as of the pool's last write; recomputed after a write."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._cached: tuple[int, Statistics] | None = None

    def get(self) -> Statistics:
        """Blocking: call from a worker thread."""
        generation = self._pool.generation
        if self._cached is None or self._cached[0] != generation:
            self._cached = (generation, statistics(self._pool))
        return self._cached[1]


def respond(graph: Graph, accept: str | None) -> Response:
    """The graph in the best RDF format the client accepts; 406 when none fits."""
    choice = negotiation.choose(accept, "graph")
    if choice is None:
        raise NotAcceptableError("no acceptable RDF format; offered: " + ", ".join(negotiation.GRAPH_MEDIA_TYPES))
    fmt, media_type = choice
    return Response(serialize(graph, fmt), media_type=media_type, headers={"Vary": "Accept"})


def _count(n: int) -> Literal:
    return Literal(n, datatype=XSD.integer)
