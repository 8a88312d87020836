"""The JSON-LD context of the API and a JSON Schema per shape, both generated from the ontology and the shapes.

A property gets a short term named after its local name (the ontology's own terms first when two share one), typed
as the shapes constrain it: IRIs and embedded nodes as `@id`, one shared datatype as that datatype, language strings
as a language map; a property a shape lets repeat is always an array (`@set`). A node shape with a target class then
describes the JSON-LD of an instance framed with that context, so a change to the shapes changes the API.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

import rdflib
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS, XSD

from graph import assets
from graph.namespaces import Namespaces

# JSON Schema of the lexical form of a datatype's literal, where more can be said than "a string"
LEXICAL: dict[str, dict[str, str]] = {
    str(XSD.date): {"format": "date"},
    str(XSD.dateTime): {"format": "date-time"},
    str(XSD.gYear): {"pattern": "^-?[0-9]{4}$"},
    str(XSD.gYearMonth): {"pattern": "^-?[0-9]{4}-[0-9]{2}$"},
    str(XSD.integer): {"pattern": "^[+-]?[0-9]+$"},
    str(XSD.decimal): {"pattern": "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$"},
    str(XSD.boolean): {"enum": ["true", "false", "1", "0"]},  # type: ignore[dict-item]
}
PLAIN = {str(XSD.string), str(RDF.langString)}
TRUE = rdflib.Literal(True)


@dataclass(frozen=True)
class Vocabulary:
    """The context document's terms, and the JSON Schema of each shape's target class by its term."""

    context: dict[str, Any]
    schemas: dict[str, dict[str, Any]]
    targets: dict[str, str]  # class IRI -> schema name


@dataclass
class _Usage:
    """What the shapes say of one property, across every shape that constrains it."""

    datatypes: set[str]
    objects: bool = False
    repeats: bool = False


@cache
def vocabulary(ns: Namespaces) -> Vocabulary:
    """The vocabulary of the ontology and shapes in the assets, moved to this base."""
    graph = rdflib.Graph()
    for path in assets.ontology_files() + assets.shape_files():
        graph.parse(data=ns.rebase(path.read_text(encoding="utf-8")), format="turtle")
    return build(graph, ns)


def build(graph: rdflib.Graph, ns: Namespaces) -> Vocabulary:
    prefixes = ns.prefixes()
    usage = _usages(graph)
    names = _names(graph, ns, usage)
    terms: dict[str, Any] = {"@version": 1.1, **prefixes}
    for iri, name in names.items():
        terms[name] = _definition(iri, usage.get(iri), graph, prefixes)
    vocab = Vocabulary({"@context": terms}, {}, {})
    for target in sorted(set(graph.objects(None, SH.targetClass)), key=str):
        name = names.get(str(target)) or _curie(str(target), prefixes)
        vocab.targets[str(target)] = name
        vocab.schemas[name] = _schema(graph, target, names, usage, prefixes)
    return vocab


def _usages(graph: rdflib.Graph) -> dict[str, _Usage]:
    """What the violation-level shapes (those the store enforces) say of each property."""
    usage: dict[str, _Usage] = defaultdict(lambda: _Usage(set()))
    for shape, path in graph.subject_objects(SH.path):
        if not isinstance(path, rdflib.URIRef) or not _enforced(graph, shape):
            continue
        use = usage[str(path)]
        use.datatypes |= _datatypes(graph, shape)
        use.objects |= _points(graph, shape)
        single = graph.value(shape, SH.maxCount) == rdflib.Literal(1) or (shape, SH.uniqueLang, TRUE) in graph
        use.repeats |= not single
    for prop in graph.subjects(RDF.type, OWL.ObjectProperty):
        usage[str(prop)].objects = True
    return dict(usage)


def _points(graph: rdflib.Graph, shape: rdflib.term.Node) -> bool:
    """Whether a property shape's values are nodes (IRIs or embedded nodes) rather than literals."""
    listed = [v for values in graph.objects(shape, SH["in"]) for v in Collection(graph, values)]
    return (shape, SH.nodeKind, SH.IRI) in graph or any(isinstance(v, rdflib.URIRef) for v in listed) or \
        any(True for p in (SH["class"], SH.node) for _ in graph.objects(shape, p))


def _enforced(graph: rdflib.Graph, shape: rdflib.term.Node) -> bool:
    """A property shape whose violations the store refuses: neither it nor a node shape holding it is a warning."""
    holders = [shape, *graph.subjects(SH.property, shape)]
    return not any(graph.value(h, SH.severity) in (SH.Warning, SH.Info) for h in holders)


def _datatypes(graph: rdflib.Graph, shape: rdflib.term.Node) -> set[str]:
    found = {str(d) for d in graph.objects(shape, SH.datatype)}
    for alternatives in graph.objects(shape, SH["or"]):
        found |= {str(d) for member in Collection(graph, alternatives) for d in graph.objects(member, SH.datatype)}
    return found


def _names(graph: rdflib.Graph, ns: Namespaces, usage: dict[str, _Usage]) -> dict[str, str]:
    """A short term for every class and property the ontology defines or a shape constrains; ours first."""
    iris = {str(s) for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, rdflib.URIRef)}
    iris |= {str(s) for kind in (OWL.ObjectProperty, OWL.DatatypeProperty) for s in graph.subjects(RDF.type, kind)}
    iris |= {str(c) for c in graph.objects(None, SH.targetClass)} | set(usage)
    iris |= {str(p) for p in graph.objects(None, SH.path) if isinstance(p, rdflib.URIRef)}
    names: dict[str, str] = {}
    taken: set[str] = set()
    for iri in sorted(iris, key=lambda i: (not i.startswith(ns.ontology), i)):
        local = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if local and local not in taken and local.replace("-", "").isalnum():
            names[iri] = local
            taken.add(local)
    return names


def _definition(iri: str, use: _Usage | None, graph: rdflib.Graph, prefixes: dict[str, str]) -> Any:
    if use is None:  # a class, or a property no shape constrains
        return {"@id": _curie(iri, prefixes), "@type": "@id"} if (rdflib.URIRef(iri), RDF.type, OWL.ObjectProperty) \
            in graph else _curie(iri, prefixes)
    definition: dict[str, Any] = {"@id": _curie(iri, prefixes)}
    if use.datatypes == {str(RDF.langString)}:
        definition["@container"] = ["@language", "@set"] if use.repeats else "@language"
        return definition
    if use.objects and not use.datatypes:
        definition["@type"] = "@id"
    elif len(use.datatypes) == 1 and not use.objects and not use.datatypes & PLAIN:
        definition["@type"] = _curie(next(iter(use.datatypes)), prefixes)
    if use.repeats:
        definition["@container"] = "@set"
    return definition


def _curie(iri: str, prefixes: dict[str, str]) -> str:
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and iri != namespace:
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _schema(graph: rdflib.Graph, target: rdflib.term.Node, names: dict[str, str], usage: dict[str, _Usage],
            prefixes: dict[str, str]) -> dict[str, Any]:
    """The JSON Schema of an instance of `target`: the properties of every node shape targeting it."""
    names_of_types = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    properties: dict[str, Any] = {"@id": {"type": "string"}, "@type": names_of_types}
    required: list[str] = []
    shapes = sorted(graph.subjects(SH.targetClass, target), key=str)
    for prop_shape in (p for shape in shapes for p in graph.objects(shape, SH.property)):
        path = graph.value(prop_shape, SH.path)
        if not isinstance(path, rdflib.URIRef):
            continue
        key = names.get(str(path)) or _curie(str(path), prefixes)
        use = usage.get(str(path))
        value: dict[str, Any] = {}  # no enforced shape constrains the property: its values may take any form
        if use:
            value = _value_schema(graph, prop_shape, use, prefixes)
            if use.repeats and use.datatypes != {str(RDF.langString)}:  # a language map holds the arrays itself
                value = _array(graph, prop_shape, value, _enforced(graph, prop_shape))
        if key not in properties or not properties[key]:
            properties[key] = value
        elif value:
            properties[key] = {"allOf": [properties[key], value]}
        if _count(graph, prop_shape, SH.minCount) and _enforced(graph, prop_shape):
            required.append(key)
    label = graph.value(target, RDFS.label) or rdflib.Literal(names.get(str(target), str(target)))
    definition = graph.value(target, SKOS.definition)
    return {"title": str(label), **({"description": str(definition)} if definition else {}),
            "type": "object", "properties": properties, "required": sorted(set(required)), "x-class": str(target)}


def _value_schema(graph: rdflib.Graph, prop_shape: rdflib.term.Node, use: _Usage,
                  prefixes: dict[str, str]) -> dict[str, Any]:
    datatypes = _datatypes(graph, prop_shape)
    if use.datatypes == {str(RDF.langString)}:
        words: dict[str, Any] = {"type": "string"}
        if use.repeats:
            words = {"type": "array", "items": words}
        return {"type": "object", "additionalProperties": words, "description": "Values by language tag"}
    if datatypes:
        coerced = len(use.datatypes) == 1 and not use.objects and not use.datatypes & PLAIN
        pattern = graph.value(prop_shape, SH.pattern)
        lexical = [{"type": "string", **LEXICAL.get(d, {}), **({"pattern": str(pattern)} if pattern else {})}
                   for d in sorted(datatypes)]
        if coerced or datatypes <= PLAIN:
            return lexical[0] if len(lexical) == 1 else {"anyOf": lexical}
        return {"type": "object", "required": ["@value", "@type"], "properties": {
            "@value": {"type": "string"}, "@type": {"enum": sorted(_curie(d, prefixes) for d in datatypes)}}}
    if _points(graph, prop_shape):
        reference: dict[str, Any] = {"type": "string", "description": "An IRI"}
        return {"anyOf": [reference, {"type": "object", "description": "A node embedded in the frame"}]}
    pattern = graph.value(prop_shape, SH.pattern)
    return {"type": "string", "pattern": str(pattern)} if pattern else {}


def _array(graph: rdflib.Graph, prop_shape: rdflib.term.Node, items: dict[str, Any], enforced: bool) -> dict[str, Any]:
    array: dict[str, Any] = {"type": "array", "items": items}
    low, high = _count(graph, prop_shape, SH.minCount), _count(graph, prop_shape, SH.maxCount)
    if low is not None and enforced:
        array["minItems"] = low
    if high is not None:
        array["maxItems"] = high
    return array


def _count(graph: rdflib.Graph, shape: rdflib.term.Node, bound: rdflib.URIRef) -> int | None:
    value = graph.value(shape, bound)
    return int(value.toPython()) if isinstance(value, rdflib.Literal) else None
