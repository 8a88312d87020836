"""RDFS entailments of the schema, materialised into their own named graph.

At load the rules run over the whole store. After a write they run for the subjects it touched (and the blank
nodes those point to), unless the write changed the schema itself; then everything is entailed again.
"""

from __future__ import annotations

from collections.abc import Iterable

from graph.namespaces import Namespaces
from graph.store import EmbeddedStore
from graph.terms import ABSOLUTE_IRI

_RDFS = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
_SCHEMA = "rdfs:subClassOf|rdfs:subPropertyOf|rdfs:domain|rdfs:range"

# (the variable an entailed triple is about, the rule), in order: each rule sees what the earlier ones added.
# {focus} is empty for the whole store, or a pattern binding that variable to the touched subjects.
RULES = (
    (None, """CONSTRUCT { ?c rdfs:subClassOf ?d } WHERE {
         ?c rdfs:subClassOf+ ?d FILTER(?c != ?d) FILTER NOT EXISTS { ?c rdfs:subClassOf ?d } }"""),
    ("s", """CONSTRUCT { ?s ?q ?o } WHERE {
         {focus} ?p rdfs:subPropertyOf+ ?q . ?s ?p ?o FILTER(?p != ?q) FILTER NOT EXISTS { ?s ?q ?o } }"""),
    ("s", """CONSTRUCT { ?s a ?c } WHERE { {focus} ?p rdfs:domain ?c . ?s ?p ?o FILTER NOT EXISTS { ?s a ?c } }"""),
    ("o", """CONSTRUCT { ?o a ?c } WHERE {
         {focus} ?p rdfs:range ?c . ?s ?p ?o FILTER(!isLiteral(?o)) FILTER NOT EXISTS { ?o a ?c } }"""),
    ("x", """CONSTRUCT { ?x a ?d } WHERE { {focus} ?x a ?c . ?c rdfs:subClassOf+ ?d FILTER NOT EXISTS { ?x a ?d } }"""),
)


def entail_all(store: EmbeddedStore, ns: Namespaces) -> int:
    """Entail everything again; return how many triples the entailment graph holds."""
    store.clear_graph(ns.entailment_graph)
    return sum(store.materialise(_RDFS + rule.replace("{focus}", ""), ns.entailment_graph) for _, rule in RULES)


def entail_subjects(store: EmbeddedStore, ns: Namespaces, subjects: Iterable[str]) -> int:
    """Entail again what is about these subjects; everything when they include schema terms."""
    values = " ".join(f"<{s}>" for s in sorted(set(subjects)) if ABSOLUTE_IRI.match(s))
    if not values:
        return 0
    schema = f"{_RDFS}ASK {{ VALUES ?t {{ {values} }} {{ ?t {_SCHEMA} ?x }} UNION {{ ?x {_SCHEMA} ?t }} }}"
    if store.query(schema).boolean:
        return entail_all(store, ns)
    store.update(f"DELETE {{ GRAPH <{ns.entailment_graph}> {{ ?s ?p ?o }} }} WHERE {{ {_focus('s', values)} "
                 f"GRAPH <{ns.entailment_graph}> {{ ?s ?p ?o }} }}")
    return sum(store.materialise(_RDFS + rule.replace("{focus}", _focus(var, values)), ns.entailment_graph)
               for var, rule in RULES if var)


def _focus(variable: str, values: str) -> str:
    """A pattern binding ?variable to the subjects and to the blank nodes they point to."""
    return (f"{{ VALUES ?{variable} {{ {values} }} }} UNION "
            f"{{ VALUES ?focus {{ {values} }} ?focus ?via ?{variable} FILTER(isBlank(?{variable})) }}")
