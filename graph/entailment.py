"""RDFS entailments of the schema, materialised into their own named graph.

At load the rules run over the whole store. After a write they run for the subjects it touched (and the blank
nodes those point to), unless the write changed the schema itself; then everything is entailed again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from graph.namespaces import Namespaces
from graph.store import EmbeddedStore, Store
from graph.terms import ABSOLUTE_IRI

_SCHEMA = "rdfs:subClassOf|rdfs:subPropertyOf|rdfs:domain|rdfs:range"
_RDFS_TERM = re.compile(r"\brdfs:(\w+)")

# rdfs:subPropertyOf+ and rdfs:subClassOf+ as a step and a path, in subqueries: Virtuoso evaluates a transitive path
# only from an end it has bound, and binds none from a focus (a UNION) outside the subquery
_SUPER_PROPERTIES = "{ SELECT DISTINCT ?p ?q WHERE { ?p rdfs:subPropertyOf/rdfs:subPropertyOf* ?q } }"
_SUPER_CLASSES = "{ SELECT DISTINCT ?c ?d WHERE { ?c rdfs:subClassOf/rdfs:subClassOf* ?d } }"

# (the variable an entailed triple is about, its template, its pattern), in order: each rule sees what the earlier
# ones added. {focus} is empty for the whole store, or a pattern binding that variable to the touched subjects.
RULES = (
    (None, "?c rdfs:subClassOf ?d", f"{_SUPER_CLASSES} FILTER(?c != ?d) FILTER NOT EXISTS {{ ?c rdfs:subClassOf ?d }}"),
    ("s", "?s ?q ?o", f"{{focus}} {_SUPER_PROPERTIES} ?s ?p ?o FILTER(?p != ?q) FILTER NOT EXISTS {{ ?s ?q ?o }}"),
    ("s", "?s a ?c", "{focus} ?p rdfs:domain ?c . ?s ?p ?o FILTER NOT EXISTS { ?s a ?c }"),
    ("o", "?o a ?c", "{focus} ?p rdfs:range ?c . ?s ?p ?o FILTER(!isLiteral(?o)) FILTER NOT EXISTS { ?o a ?c }"),
    ("x", "?x a ?d", f"{{focus}} ?x a ?c . {_SUPER_CLASSES} FILTER NOT EXISTS {{ ?x a ?d }}"),
)


def entail_all(store: Store, ns: Namespaces) -> int:
    """Entail everything again; return how many triples the entailment graph holds. The embedded store runs each
    rule as a CONSTRUCT over its union graph and adds the triples in bulk (an update naming every graph with USING
    takes 2.5 times as long on a million triples)."""
    if isinstance(store, EmbeddedStore):
        store.clear_graph(ns.entailment_graph)
        for _, template, pattern in RULES:
            rule = _expanded(f"CONSTRUCT {{ {template} }} WHERE {{ {pattern.replace('{focus}', '')} }}")
            store.add_triples(store.query(rule).triples(), ns.entailment_graph)
    else:
        store.update(all_update(store, ns, store.updates_see_union))
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ns.entailment_graph}> {{ ?s ?p ?o }} }}").rows()
    return int(rows[0]["n"])


def all_update(store: Store, ns: Namespaces, union: bool = False) -> str:
    """The update that entails everything again; `union`: for a store whose updates see the union of its graphs
    as default graph (else every graph is named with USING, as the embedded store needs)."""
    using = "" if union else _using(store, ns)
    return " ;\n".join([f"CLEAR SILENT GRAPH <{ns.entailment_graph}>",
                        *(_insert(ns, using, template, pattern, "") for _, template, pattern in RULES)])


def subjects_update(store: Store, ns: Namespaces, subjects: Iterable[str], union: bool = False) -> str:
    """The update that entails again what is about these subjects (asked of `store` after the change); everything
    when they include schema terms; empty when there are none."""
    values = " ".join(f"<{s}>" for s in sorted(set(subjects)) if ABSOLUTE_IRI.match(s))
    if not values:
        return ""
    schema = _expanded(f"ASK {{ VALUES ?t {{ {values} }} {{ ?t {_SCHEMA} ?x }} UNION {{ ?x {_SCHEMA} ?t }} }}")
    if store.query(schema).boolean:
        return all_update(store, ns, union)
    using = "" if union else _using(store, ns)
    named = "" if union else f"USING NAMED <{ns.entailment_graph}>"
    forget = (f"DELETE {{ GRAPH <{ns.entailment_graph}> {{ ?s ?p ?o }} }} {using} {named} "
              f"WHERE {{ {_focus('s', values)} GRAPH <{ns.entailment_graph}> {{ ?s ?p ?o }} }}")
    return " ;\n".join([forget, *(_insert(ns, using, template, pattern, _focus(var, values))
                                   for var, template, pattern in RULES if var)])


def _using(store: Store, ns: Namespaces) -> str:
    """USING every named graph (and the entailment graph, filled as the rules run): an update's WHERE then sees
    their union, as queries do."""
    rows = store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", union=False).rows()
    graphs = sorted({r["g"] for r in rows} | {ns.entailment_graph})
    return " ".join(f"USING <{g}>" for g in graphs)


def _insert(ns: Namespaces, using: str, template: str, pattern: str, focus: str) -> str:
    return _expanded(f"INSERT {{ GRAPH <{ns.entailment_graph}> {{ {template} }} }} {using} "
                     f"WHERE {{ {pattern.replace('{focus}', focus)} }}")


def _expanded(text: str) -> str:
    """rdfs: terms written as full IRIs: an update sent with others may have no prologue of its own."""
    return _RDFS_TERM.sub(r"<http://www.w3.org/2000/01/rdf-schema#\1>", text)


def _focus(variable: str, values: str) -> str:
    """A pattern binding ?variable to the subjects and to the blank nodes they point to (the subjects by a subquery:
    Virtuoso 7 finds nothing in a UNION branch that is only VALUES)."""
    return (f"{{ SELECT ?{variable} WHERE {{ VALUES ?{variable} {{ {values} }} }} }} UNION "
            f"{{ VALUES ?focus {{ {values} }} ?focus ?via ?{variable} FILTER(isBlank(?{variable})) }}")
