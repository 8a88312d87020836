"""JSON-LD: the context published at /context.jsonld, made from the ontology, and compaction with it."""

from __future__ import annotations

import json
from typing import Any

import rdflib

from graph import QueryPool
from graph.namespaces import STANDARD_PREFIXES, Namespaces

TERMS = """PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?term ?type WHERE {
  ?term rdfs:isDefinedBy ?ontology ; a ?type FILTER(?type IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty))
}"""


def context(pool: QueryPool, ns: Namespaces, timeout: float) -> dict[str, Any]:
    """Prefixes, and a short name for every class and property of the ontology (object properties as @id)."""
    terms: dict[str, Any] = {"@version": 1.1, "ecrn": ns.ontology, **STANDARD_PREFIXES,
                             "label": {"@id": "rdfs:label", "@container": "@language"},
                             "source": {"@id": "dcterms:source", "@type": "@id"}}
    for row in pool.select(TERMS, timeout):
        if not row["term"].startswith(ns.ontology):
            continue
        name = row["term"][len(ns.ontology):]
        if row["type"].endswith("#ObjectProperty"):
            terms[name] = {"@id": "ecrn:" + name, "@type": "@id"}
        else:
            terms[name] = "ecrn:" + name
    return {"@context": terms}


def compact(ntriples: bytes, context_document: dict[str, Any]) -> bytes:
    """N-Triples as JSON-LD compacted with the context, which the document carries inline."""
    graph = rdflib.Graph().parse(data=ntriples, format="nt")
    data = graph.serialize(format="json-ld", context=context_document["@context"], auto_compact=True)
    return json.dumps(json.loads(data), ensure_ascii=False, indent=1).encode()
