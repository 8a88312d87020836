"""The ontology as people read it: classes, properties, reused classes, SKOS schemes and shapes, from ontology/.

Every term the ontology defines has an anchor, its IRI relative to the ontology IRI: the local name of a class or
property (`Region`, `memberRegion`), the name of a scheme (`themes`) and `scheme/name` for a concept. A page about the
ontology documents each term at `{ontology IRI}#{anchor}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS, VANN
from rdflib.term import Node

from graph import assets
from graph.namespaces import Namespaces

# Format names of service.negotiation -> rdflib serializers; N-Triples is N-Quads with everything in the default graph.
SERIALIZERS = {"turtle": "turtle", "ntriples": "nt", "nquads": "nt", "jsonld": "json-ld", "rdfxml": "xml",
               "trig": "trig"}
PROPERTY_KINDS = {OWL.ObjectProperty: "object", OWL.DatatypeProperty: "datatype"}


@dataclass(frozen=True)
class Ref:
    """A term as others name it: its IRI, a short name (CURIE, else the IRI), its anchor if the ontology defines it."""

    iri: str
    name: str
    anchor: str | None


@dataclass(frozen=True)
class Entry:
    """A term with its label, definition and parents (rdfs:subClassOf, rdfs:subPropertyOf or skos:broader)."""

    ref: Ref
    label: str
    definition: str
    parents: tuple[Ref, ...]


@dataclass(frozen=True)
class Property(Entry):
    kind: str  # "object" or "datatype"
    domains: tuple[Ref, ...]
    ranges: tuple[Ref, ...]


@dataclass(frozen=True)
class Scheme(Entry):
    concepts: tuple[Entry, ...]


@dataclass(frozen=True)
class ShapeFile:
    """A file of SHACL shapes, the named graph the store loads it into, and its (node shape, target class) pairs."""

    name: str
    graph: str
    targets: tuple[tuple[Ref, Ref], ...]


@dataclass(frozen=True)
class Ontology:
    ref: Ref
    title: str
    description: str
    version: str
    license: str | None
    classes: tuple[Entry, ...]
    properties: tuple[Property, ...]
    reused: tuple[Entry, ...]  # classes of other vocabularies that the ontology's axioms name
    schemes: tuple[Scheme, ...]
    shapes: tuple[ShapeFile, ...]


def parse(paths: list[Path], ns: Namespaces) -> rdflib.Graph:
    """Turtle asset files, moved to this base."""
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(data=ns.rebase(path.read_text(encoding="utf-8")), format="turtle")
    return graph


@cache
def serialized(ns: Namespaces, fmt: str) -> bytes:
    """The ontology and its SKOS schemes in one of the SERIALIZERS formats, with readable prefixes."""
    prefixes = {**ns.prefixes(), "vann": str(VANN),
                **{str(scheme.ref.anchor): scheme.ref.iri + "/" for scheme in describe(ns).schemes}}
    out = rdflib.Graph(bind_namespaces="none")
    for prefix, namespace in prefixes.items():
        out.bind(prefix, namespace)
    out += parse(assets.ontology_files(), ns)
    options: dict[str, Any] = {"context": prefixes} if fmt == "jsonld" else {}
    body: bytes = out.serialize(format=SERIALIZERS[fmt], encoding="utf-8", **options)
    return body


@cache
def describe(ns: Namespaces) -> Ontology:
    """The model of the ontology and schemes in the assets, at this base."""
    return _Reader(parse(assets.ontology_files(), ns), ns).ontology()


class _Reader:
    def __init__(self, graph: rdflib.Graph, ns: Namespaces) -> None:
        self.graph, self.ns = graph, ns
        self.prefixes = {"shape": ns.ontology + "shapes/", **ns.prefixes()}
        kinds = (OWL.Class, *PROPERTY_KINDS, SKOS.ConceptScheme, SKOS.Concept)
        self.own = {str(s) for kind in kinds for s in graph.subjects(RDF.type, kind) if str(s).startswith(ns.ontology)}

    def ontology(self) -> Ontology:
        iri = rdflib.URIRef(self.ns.ontology)
        license_ = self.graph.value(iri, DCTERMS.license)
        return Ontology(self.ref(iri), self.text(iri, DCTERMS.title, RDFS.label), self.text(iri, DCTERMS.description),
                        self.text(iri, OWL.versionInfo), str(license_) if license_ else None,
                        self.entries(OWL.Class, RDFS.subClassOf), self.properties(), self.reused(), self.schemes(),
                        self.shapes())

    def ref(self, node: Node) -> Ref:
        iri = str(node)
        name = next((f"{p}:{iri[len(ns):]}" for p, ns in self.prefixes.items() if iri.startswith(ns) and iri != ns),
                    iri)
        return Ref(iri, name, iri.removeprefix(self.ns.ontology) if iri in self.own else None)

    def refs(self, subject: Node, predicate: rdflib.URIRef) -> tuple[Ref, ...]:
        objects = self.graph.objects(subject, predicate)
        return tuple(sorted((self.ref(o) for o in objects if isinstance(o, rdflib.URIRef)), key=lambda r: r.name))

    def text(self, subject: Node, *predicates: rdflib.URIRef) -> str:
        """The English value of the first predicate that has one, else any value, else ''."""
        for predicate in predicates:
            values = [v for v in self.graph.objects(subject, predicate) if isinstance(v, rdflib.Literal)]
            chosen = next((v for v in values if v.language == "en"), values[0] if values else None)
            if chosen is not None:
                return str(chosen)
        return ""

    def entries(self, kind: rdflib.URIRef, parent: rdflib.URIRef) -> tuple[Entry, ...]:
        """The ontology's own terms of a kind, by label."""
        subjects = [s for s in self.graph.subjects(RDF.type, kind) if str(s) in self.own]
        entries = (Entry(self.ref(s), self.text(s, SKOS.prefLabel, RDFS.label),
                         self.text(s, SKOS.definition, RDFS.comment), self.refs(s, parent)) for s in subjects)
        return tuple(sorted(entries, key=lambda e: e.label.casefold()))

    def properties(self) -> tuple[Property, ...]:
        return tuple(Property(e.ref, e.label, e.definition, e.parents, name,
                              self.refs(rdflib.URIRef(e.ref.iri), RDFS.domain),
                              self.refs(rdflib.URIRef(e.ref.iri), RDFS.range))
                     for kind, name in PROPERTY_KINDS.items() for e in self.entries(kind, RDFS.subPropertyOf))

    def reused(self) -> tuple[Entry, ...]:
        """Other vocabularies' classes in subclass axioms and in domains and ranges of object properties."""
        nodes = {n for pair in self.graph.subject_objects(RDFS.subClassOf) for n in pair}
        for prop in self.graph.subjects(RDF.type, OWL.ObjectProperty):
            nodes |= {*self.graph.objects(prop, RDFS.domain), *self.graph.objects(prop, RDFS.range)}
        refs = sorted((self.ref(n) for n in nodes if isinstance(n, rdflib.URIRef) and str(n) not in self.own),
                      key=lambda r: r.name)
        return tuple(Entry(r, r.name, "", self.refs(rdflib.URIRef(r.iri), RDFS.subClassOf)) for r in refs)

    def schemes(self) -> tuple[Scheme, ...]:
        found = []
        for e in self.entries(SKOS.ConceptScheme, SKOS.broader):
            members = set(self.graph.subjects(SKOS.inScheme, rdflib.URIRef(e.ref.iri)))
            concepts = tuple(c for c in self.entries(SKOS.Concept, SKOS.broader) if rdflib.URIRef(c.ref.iri) in members)
            found.append(Scheme(e.ref, e.label, e.definition, e.parents, concepts))
        return tuple(found)

    def shapes(self) -> tuple[ShapeFile, ...]:
        found = []
        for path in assets.shape_files():
            pairs = parse([path], self.ns).subject_objects(SH.targetClass)
            targets = sorted(((self.ref(s), self.ref(c)) for s, c in pairs), key=lambda t: (t[1].name, t[0].name))
            found.append(ShapeFile(path.name, self.ns.graph_for(assets.relative(path)), tuple(targets)))
        return tuple(found)
