"""The kinds of resources the REST API lists, and the SPARQL that lists, filters, facets and describes them.

Filter values are bound as RDF terms through the engine's substitutions: a filter adds a fixed fragment that uses
its variable, and the variable is projected so that the engine substitutes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.terms import IRI, Literal, Term

ECRN = "https://w3id.org/ecrn/def/"
_LOCAL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIXES = """PREFIX ecrn: <https://w3id.org/ecrn/def/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX schema: <http://schema.org/> PREFIX org: <http://www.w3.org/ns/org#> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""


@dataclass(frozen=True)
class Kind:
    name: str  # the URL segment: /api/{name}
    slug_kind: str  # the IRI segment: {base}id/{slug_kind}/{slug}
    cls: str


KINDS = {k.name: k for k in [
    Kind("regions", "region", ECRN + "Region"),
    Kind("organisations", "organisation", "http://www.w3.org/ns/org#Organization"),
    Kind("projects", "project", ECRN + "Project"),
    Kind("practices", "practice", ECRN + "GoodPractice"),
    Kind("transfers", "transfer", ECRN + "Transfer"),
    Kind("policies", "policy", ECRN + "PolicyInstrument"),
    Kind("events", "event", ECRN + "Event"),
    Kind("people", "person", "http://xmlns.com/foaf/0.1/Person"),
]}

# filter name -> (graph pattern using ?item and the filter's variable, how its raw value is bound: "string",
# "integer", or the IRI namespace under the base that a local name such as a slug or class name completes)
FILTERS: dict[str, tuple[str, str]] = {
    "country": ("{ ?item ecrn:countryCode ?country } UNION { ?item ecrn:region/ecrn:countryCode ?country }", "string"),
    "theme": ("?item dcat:theme ?theme", "def/themes/"),
    "type": ("?item a ?type", "def/"),
    "project": ("{ ?item ecrn:project ?project } UNION { ?p ecrn:project ?project ; "
                "ecrn:partnerOrganisation|ecrn:partnerRegion ?item } "
                "UNION { ?item ecrn:record/ecrn:listedBy ?project }", "id/project/"),
    "nuts": ("{ ?item ecrn:nutsUnit ?unit } UNION { ?item ecrn:region/ecrn:nutsUnit ?unit } "
             "?unit skos:broader* ?ancestor . ?ancestor skos:notation ?nuts", "string"),
    "from": ("?item schema:startDate|dcterms:issued ?date . FILTER(STR(?date) >= STR(?from))", "integer"),
    "to": ("?item schema:startDate|dcterms:issued ?date2 . FILTER(SUBSTR(STR(?date2), 1, 4) <= STR(?to))", "integer"),
}

# facet name -> (pattern binding ?value and ?valueLabel for an ?item)
FACETS: dict[str, str] = {
    "country": "{ ?item ecrn:countryCode ?value } UNION { ?item ecrn:region/ecrn:countryCode ?value } "
               "BIND(?value AS ?valueLabel)",
    "theme": "?item dcat:theme ?value . ?value skos:prefLabel ?valueLabel FILTER(LANGMATCHES(LANG(?valueLabel), 'en'))",
    "type": "?item a ?value . ?value rdfs:isDefinedBy ecrn: ; rdfs:label ?valueLabel "
            "FILTER NOT EXISTS { ?item a ?narrower . ?narrower rdfs:subClassOf ?value FILTER(?narrower != ?value) }",
    "project": "{ ?item ecrn:project ?value } UNION { ?facetPartnership ecrn:project ?value ; "
               "ecrn:partnerOrganisation|ecrn:partnerRegion ?item } ?value rdfs:label ?valueLabel",
    "year": "?item schema:startDate|dcterms:issued ?facetDate BIND(SUBSTR(STR(?facetDate), 1, 4) AS ?value) "
            "BIND(?value AS ?valueLabel)",
}


def bind(name: str, raw: str, base: str) -> Term:
    """A filter's raw value as an RDF term (ValueError when it is not of the filter's type)."""
    how = FILTERS[name][1]
    if how == "integer":
        return Literal(str(int(raw)))
    if how == "string":
        return Literal(raw)
    if not _LOCAL_NAME.match(raw):
        raise ValueError(raw)
    return IRI(base + how + raw)


def where(kind: Kind, filters: dict[str, str], text: bool) -> str:
    """The pattern of the items of a kind (minted under ?prefix) that pass the filters and contain ?q in a label."""
    parts = [f"?item a <{kind.cls}> FILTER(STRSTARTS(STR(?item), ?prefix))"]
    parts += [FILTERS[name][0] for name in filters]
    if text:
        parts.append("?item rdfs:label|skos:altLabel ?anyLabel FILTER(CONTAINS(LCASE(STR(?anyLabel)), LCASE(?q)))")
    return " .\n  ".join(parts)


def _echoed(filters: dict[str, str], text: bool) -> str:
    """The bound variables, projected so that the engine substitutes them."""
    return " ".join(f"?{name}" for name in ["prefix", "lang", *filters, *(["q"] if text else [])])


def list_query(kind: Kind, filters: dict[str, str], text: bool) -> str:
    """Items with their label in ?lang (a label or else an alternative label), else in English; in English order."""
    echoed = _echoed(filters, text)
    # MIN over COALESCE, not COALESCE over aggregates, which Virtuoso 7.2 fails to compile (SQ156) once the pattern
    # joins: the OPTIONALs bind the same labels on every row of an item, so MIN picks among those of one kind
    return PREFIXES + f"""SELECT ?item (MIN(COALESCE(?main, ?other, ?en)) AS ?label) {echoed} WHERE {{
  {where(kind, filters, text)}
  OPTIONAL {{ ?item rdfs:label ?en FILTER(LANGMATCHES(LANG(?en), "en")) }}
  OPTIONAL {{ ?item rdfs:label ?main FILTER(LANGMATCHES(LANG(?main), ?lang)) }}
  OPTIONAL {{ ?item skos:altLabel ?other FILTER(LANGMATCHES(LANG(?other), ?lang)) }}
}} GROUP BY ?item {echoed} ORDER BY LCASE(STR(SAMPLE(?en))) ?item"""


def facet_query(kind: Kind, facet: str, filters: dict[str, str], text: bool) -> str:
    echoed = _echoed(filters, text)
    return PREFIXES + f"""SELECT ?value (SAMPLE(?valueLabel) AS ?label) (COUNT(DISTINCT ?item) AS ?count) {echoed}
WHERE {{
  {where(kind, filters, text)} .
  {FACETS[facet]}
}} GROUP BY ?value {echoed} ORDER BY DESC(?count) ?value"""


def describe_query() -> str:
    """Every fact about ?item, then its incoming links (but not the instances of a class: lists and SPARQL give those),
    with the graph each comes from; labels of properties and
    objects in ?lang (for objects, an alternative label in ?lang will do), else in English; an amount of money
    (a blank node) is labelled with its value and currency."""
    return PREFIXES + """SELECT ?item ?lang ?direction ?property ?value ?graph (SAMPLE(?propertyName) AS ?propertyLabel)
       (MIN(?valueName) AS ?valueLabel) WHERE {
  { GRAPH ?graph { ?item ?property ?value } BIND("out" AS ?direction) }
  UNION { GRAPH ?graph { ?value ?property ?item } BIND("in" AS ?direction) FILTER(?property != rdf:type) }
  FILTER(!STRENDS(STR(?graph), "/entailments"))
  OPTIONAL { ?property rdfs:label ?propertyEn FILTER(LANGMATCHES(LANG(?propertyEn), "en")) }
  OPTIONAL { ?property rdfs:label ?propertyLocal FILTER(LANGMATCHES(LANG(?propertyLocal), ?lang)) }
  OPTIONAL { ?value rdfs:label|skos:prefLabel ?valueEn FILTER(LANGMATCHES(LANG(?valueEn), "en")) }
  OPTIONAL { ?value rdfs:label|skos:prefLabel ?valueLocal FILTER(LANGMATCHES(LANG(?valueLocal), ?lang)) }
  OPTIONAL { ?value skos:altLabel ?valueOther FILTER(LANGMATCHES(LANG(?valueOther), ?lang)) }
  OPTIONAL { ?value schema:value ?amount ; schema:currency ?currency FILTER(isBlank(?value)) }
  BIND(COALESCE(?propertyLocal, ?propertyEn) AS ?propertyName)
  BIND(COALESCE(?valueLocal, ?valueOther, ?valueEn, CONCAT(STR(?amount), " ", ?currency)) AS ?valueName)
} GROUP BY ?item ?lang ?direction ?property ?value ?graph"""


def item_iri(base: str, kind: Kind, slug: str) -> IRI:
    return IRI(f"{base}id/{kind.slug_kind}/{slug}")


def facts_query() -> str:
    """The asserted facts about ?item (not its entailments), and those about its blank nodes."""
    return PREFIXES + """CONSTRUCT { ?item ?p ?o . ?o ?bp ?bo } WHERE {
  GRAPH ?g { ?item ?p ?o OPTIONAL { ?o ?bp ?bo FILTER(isBlank(?o)) } } FILTER(!STRENDS(STR(?g), "/entailments")) }"""


def document_query() -> str:
    """The linked-data document of ?item: its asserted facts (with those of its blank nodes) and its incoming links,
    but not the instances of a class (lists and SPARQL give those)."""
    return PREFIXES + """CONSTRUCT { ?item ?p ?o . ?o ?bp ?bo . ?s ?ip ?item } WHERE {
  { GRAPH ?g { ?item ?p ?o OPTIONAL { ?o ?bp ?bo FILTER(isBlank(?o)) } } FILTER(!STRENDS(STR(?g), "/entailments")) }
  UNION { GRAPH ?h { ?s ?ip ?item } FILTER(!STRENDS(STR(?h), "/entailments") && ?ip != rdf:type) } }"""
