"""Writes are checked on what they touch before they reach the store.

A change (a SPARQL Update; uploads are expressed as one too) is first tried in a sandbox, a forked copy of the store
that is thrown away: the subjects it touches are found from its operations, and those the graph mints (under
{base}id/) are judged: their neighbourhood against the shapes (SHACL with those focus nodes) and every check limited
to them. Data about other IRIs (reference data, links) is stored as given. Only a change with no violation is then
applied to the store, in one transaction, followed by a refresh of the entailments.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import rdflib
from pyshacl import validate as shacl_validate
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from graph import assets
from graph.entailment import all_update, subjects_update
from graph.errors import ValidationError
from graph.lexer import tokens
from graph.namespaces import Namespaces
from graph.pinning import pin
from graph.pool import QueryPool
from graph.remote import RemoteStore
from graph.remote_pool import RemotePool
from graph.store import EmbeddedStore
from graph.terms import ABSOLUTE_IRI
from graph.validate import VIOLATION, Problem, Report, shacl_problems

FULL_CHECK_ABOVE = 500  # more touched subjects than this: validate the whole store instead
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
WHOLE_STORE = frozenset({"Load", "Add", "Move", "Copy"})
_FIRST_VARIABLE = re.compile(r"SELECT\s+(?:DISTINCT\s+)?\?(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Change:
    """A write: an update text and, for uploads, the subjects and graphs it is known to touch.

    `subjects` None means: find them from the update's operations.
    """

    update: str
    base_iri: str | None = None
    subjects: frozenset[str] | None = None
    graphs: tuple[str | None, ...] = ()  # whose current subjects are touched; None is the default graph


def commit(pool: QueryPool | RemotePool, store: EmbeddedStore | RemoteStore, change: Change, ns: Namespaces,
           timeout: float) -> Report:
    """Check the change in a sandbox, then apply it; ValidationError (and no change) when it breaks the shapes.

    A remote store gets one update: the change and the entailments it calls for (as found in the sandbox)."""
    with pool.write_lock:
        if isinstance(store, RemoteStore):
            assert isinstance(pool, RemotePool)
            deadline = time.monotonic() + timeout
            pinned = _pinned(store, change, ns, deadline)
            around, copy = None, None
            if pinned is not None:
                update, around, copy = pinned
                change = dataclasses.replace(change, update=update)
            # where a change's USING or WITH holds for the operations after it, the entailment operations name their
            # own dataset: every graph, as on a store not serving the union (Oxigraph serving it refuses USING)
            union = store.updates_see_union and not (store.dialect.keeps_dataset and _names_dataset(change.update))
            trial = pool.sandbox(_try, change, ns, union, around, timeout=timeout, copy=copy)
        else:
            trial = pool.sandbox(_try, change, ns, None, None, True, timeout=timeout)
            change = dataclasses.replace(change, update=trial.update)
        if not trial.report.conforms:
            raise ValidationError(trial.report.violations)
        if isinstance(store, RemoteStore):
            prologue = f"BASE <{change.base_iri}>\n" if change.base_iri else ""
            update = "\n;\n".join(u for u in (prologue + _without_last_separator(change), trial.entailing) if u)
            pool.write(lambda: store.update(update))
        else:
            pool.write(lambda: _apply(store, change, ns, trial.around))
    return trial.report


def _pinned(store: RemoteStore, change: Change, ns: Namespaces,
            deadline: float) -> tuple[str, frozenset[str], EmbeddedStore] | None:
    """The change pinned (see graph.pinning), the IRIs it names, and their surroundings as a sandbox holds them;
    None when it cannot be pinned or they are too deep to copy (then it is checked on a copy of the store)."""
    if not store.updates_see_union or None in change.graphs:  # an entailment update names every graph (USING);
        return None  # the default graph of a store serving the union is everything
    pinned = pin(change.update, change.base_iri, lambda text, until, default, named: store.query(
        text, deadline=until, default_graphs=default or None, named_graphs=named or None), deadline)
    if pinned is None:
        return None
    iris = pinned.iris | (change.subjects or frozenset())
    around = store.surroundings(iris, [*_ontology_graphs(ns), *sorted(pinned.graphs)], deadline)
    return (pinned.update, iris, around) if around is not None else None


def _ontology_graphs(ns: Namespaces) -> list[str]:
    return [ns.graph_for(assets.relative(p)) for p in assets.ontology_files()]


def _apply(store: EmbeddedStore, change: Change, ns: Namespaces,
           around: frozenset[str] | None = None) -> tuple[set[str], set[str]] | None:
    """Apply the change and entail again what it touched; return the touched subjects and those whose entailments
    were renewed (None: everything). `around`: the store holds only the surroundings of these IRIs, and the
    subjects the change touches are among them."""
    operations = _operations(change)
    known = (change.subjects or set()) | _constant_subjects(operations or [])
    before = _graph_subjects(store, change.graphs) | _template_subjects(store, operations or [], "delete", around)
    if around is not None:
        before &= around
    pointed_to = _objects(store, before | known)
    store.update(change.update, base_iri=change.base_iri)  # the engine's error, if any, is the client's answer
    touched = before | known | _template_subjects(store, operations or [], "insert", around)
    if around is not None:
        touched &= around
    if operations is None or len(touched) > FULL_CHECK_ABOVE or any(map(_whole_store, operations)):
        store.update(all_update(store, ns))
        return None
    renewed = touched | pointed_to | _objects(store, touched)
    store.update(subjects_update(store, ns, renewed))
    return touched, renewed


@dataclass(frozen=True)
class Trial:
    """What the sandbox found: the report; for a remote store, the entailment update that goes with the change; the
    update as tried (pinned, on the embedded store, when it could be) and the IRIs whose surroundings it touches
    (None: not known)."""

    report: Report
    entailing: str
    update: str
    around: frozenset[str] | None


def _try(store: EmbeddedStore, change: Change, ns: Namespaces, remote_union: bool | None,
         around: frozenset[str] | None, pin_first: bool = False) -> Trial:
    """In the sandbox (a copy of the store, or the surroundings of `around`): apply the change and judge every
    subject it touched; `remote_union`: for a remote store, whether its updates see the union of its graphs.
    `pin_first` (a copy of the store): pin the change where it can be, so that what it touches is found among the
    IRIs it names rather than by matching its templates against the whole store."""
    if pin_first and change.subjects is None:  # no deadline here: the sandbox is killed at it
        pinned = pin(change.update, change.base_iri, lambda text, until, default, named: store.query(
            text, union=False, default_graphs=default or None, named_graphs=named or None), math.inf)
        if pinned is not None:
            change, around = dataclasses.replace(change, update=pinned.update), pinned.iris
    applied = _apply(store, change, ns, around)
    entailing = ""
    if remote_union is not None:
        entailing = all_update(store, ns, union=remote_union) if applied is None else \
            subjects_update(store, ns, applied[1], union=remote_union)
    if applied is None:
        touched = {row["s"] for row in store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }").rows()}
        touched = touched & around if around is not None else touched
    else:
        touched = applied[0]
    minted = sorted(s for s in touched if s.startswith(ns.base + "id/"))
    return Trial(Report(_shacl(store, minted, ns) + _checks(store, minted)), entailing, change.update, around)


def _without_last_separator(change: Change) -> str:
    """The change's text without a final `;` (an update may end with one), so that more operations can follow."""
    if change.subjects is not None:  # an upload: the service wrote the text
        return change.update
    last = deque(tokens(change.update), maxlen=1)
    return change.update[:last[0].start] if last and last[0].text == ";" else change.update


def _names_dataset(update: str) -> bool:
    """Whether an operation of the update names its dataset (USING, USING NAMED or WITH)."""
    return any(t.keyword in ("USING", "WITH") and t.depth == 0 for t in tokens(update))


def _objects(store: EmbeddedStore, subjects: set[str]) -> set[str]:
    """The IRIs these subjects point to, other than their classes (range-entailed types change with them)."""
    values = " ".join(f"<{s}>" for s in sorted(subjects) if ABSOLUTE_IRI.match(s))
    if not values:
        return set()
    query = f"SELECT DISTINCT ?o WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o FILTER(isIRI(?o) && ?p != {RDF_TYPE}) }}"
    rows = store.query(query).rows()
    return {r["o"] for r in rows}


def _whole_store(op: CompValue) -> bool:
    """Operations whose touched subjects are not looked for: the whole store is checked after them."""
    return op.name in WHOLE_STORE or (op.name in ("Clear", "Drop") and str(_part(op, "graphiri")) in ("ALL", "NAMED"))


def _operations(change: Change) -> list[CompValue] | None:
    """The update's operations as rdflib reads them; None when rdflib cannot (then the whole store is checked)."""
    if change.subjects is not None:  # an upload: its subjects are known, its text need not be parsed again
        return []
    try:
        return list(translateUpdate(parseUpdate(change.update), base=change.base_iri).algebra)
    except Exception:  # rdflib raises assorted errors on what it does not support; the fallback is the full check
        return None


def _constant_subjects(operations: list[CompValue]) -> set[str]:
    found: set[str] = set()
    for op in operations:
        for clause in (op, _part(op, "delete"), _part(op, "insert")):
            if clause is not None:
                found |= {str(s) for s, _, _ in _triples(clause) if isinstance(s, rdflib.URIRef)}
    return found


def _part(clause: CompValue, key: str) -> Any:
    """A part of an rdflib algebra node, or None (CompValue.get answers a missing key with the key itself)."""
    return dict.get(clause, key)


def _triples(clause: CompValue) -> list[tuple[rdflib.term.Node, ...]]:
    triples = list(_part(clause, "triples") or [])
    for graph_triples in (_part(clause, "quads") or {}).values():
        triples.extend(graph_triples)
    return triples


def _template_subjects(store: EmbeddedStore, operations: list[CompValue], which: str,
                       around: frozenset[str] | None) -> set[str]:
    """Subjects that match a DELETE template before the change, or an INSERT template after it; only those among
    `around`, when given."""
    found: set[str] = set()
    within = " ".join(f"<{s}>" for s in sorted(around or ()) if ABSOLUTE_IRI.match(s))
    for op in operations:
        clause = op if op.name == "DeleteWhere" and which == "delete" else _part(op, which)
        if op.name in ("Clear", "Drop") and which == "delete":
            found |= _graph_subjects(store, (_graph_name(_part(op, "graphiri")),))
        if clause is None or not _triples(clause):
            continue
        pattern = " ".join(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in _triples(clause))
        variables = sorted({s.n3() for s, _, _ in _triples(clause) if isinstance(s, rdflib.Variable)})
        for variable in variables if around is not None else []:  # one at a time: VALUES first, then the pattern
            query = f"SELECT DISTINCT {variable} WHERE {{ VALUES {variable} {{ {within} }} {pattern} }}"
            found |= {v for row in store.query(query).rows() if not (v := row[variable[1:]]).startswith("_:")}
        if variables and around is None:
            for row in store.query(f"SELECT DISTINCT {' '.join(variables)} WHERE {{ {pattern} }}").rows():
                found |= {v for v in row.values() if not v.startswith("_:")}
    return found


def _graph_name(target: object) -> str | None:
    return str(target) if isinstance(target, rdflib.URIRef) else None


def _graph_subjects(store: EmbeddedStore, graphs: tuple[str | None, ...]) -> set[str]:
    found: set[str] = set()
    for graph in graphs:
        scope = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        found |= {r["s"] for r in store.query(f"SELECT DISTINCT ?s WHERE {{ {scope} FILTER(isIRI(?s)) }}",
                                               union=graph is not None).rows()}
    return found


def _shacl(store: EmbeddedStore, touched: list[str], ns: Namespaces) -> list[Problem]:
    if not touched:
        return []
    around = EmbeddedStore()
    store.neighbourhood(touched, into=around)
    for graph in (ns.graph_for(assets.relative(p)) for p in assets.ontology_files()):
        if store.has_graph(graph):
            around.copy_from(store.only(graph))
    data = rdflib.Graph()
    data.parse(data=around.dump("ntriples"), format="nt")
    shapes = rdflib.Graph()
    for path in assets.shape_files():
        shapes.parse(path, format="turtle")
    _, results, _ = shacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=True,
                                   focus_nodes=[rdflib.URIRef(s) for s in touched])
    assert isinstance(results, rdflib.Graph)
    return shacl_problems(results)


def _checks(store: EmbeddedStore, touched: list[str]) -> list[Problem]:
    """Each check, limited to the touched subjects by a VALUES block on its first projected variable."""
    problems = []
    for path in assets.check_files():
        for row in store.query(_limited(path.read_text(encoding="utf-8"), touched)).rows():
            focus = next(iter(row.values()), "")
            detail = ", ".join(f"{k}={v}" for k, v in row.items())
            problems.append(Problem(VIOLATION, focus, f"{path.stem}: {detail}"))
    return problems


def _limited(check: str, subjects: list[str]) -> str:
    """Our own check text with `VALUES ?focus { <s> … }` opening its WHERE group (subjects are checked IRIs)."""
    variable = _FIRST_VARIABLE.search(check)
    opening = next((t for t in tokens(check) if t.kind == "open" and t.text == "{" and t.depth == 0), None)
    assert variable and opening, "a check projects its focus variable first and has a WHERE group"
    values = " ".join(f"<{s}>" for s in subjects if ABSOLUTE_IRI.match(s))
    cut = opening.start + 1
    return f"{check[:cut]} VALUES ?{variable.group(1)} {{ {values} }} {check[cut:]}"
