"""Pinned updates: a write whose effect depends on nothing but its own text, and the IRIs that text names.

A write is checked in a sandbox; on a remote store it holds only the surroundings of what the write can touch
(copying the whole store would cost a pass over it per write), on the embedded store what the write touches is
looked for among the IRIs it names. That is exact when the write's effect does not depend on other data: INSERT
DATA, DELETE DATA, CREATE, and CLEAR or DROP of one graph (whose subjects are then touched). The WHERE of a
DELETE/INSERT operation is asked of the store first (`SELECT *`; USING as the protocol's default-graph-uri, which
Oxigraph serving its union graph heeds where it ignores FROM; under WITH, inside a GRAPH block of its graph) and the
operation rewritten with its solutions as a VALUES block, with no USING or WITH (the templates' default-graph
triples go into a GRAPH block of the WITH graph); the sandbox and the store then run the same, pinned text. Writes
this cannot pin (LOAD, ADD, MOVE, COPY, CLEAR ALL, a WHERE after another change, blank nodes in solutions, too many
solutions or IRIs, a WITH of an empty graph whose WHERE has no solution) are not pinned: the caller then checks them
on a copy of the whole store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from graph.lexer import Token, tokens
from graph.store import QueryResult

MAX_SOLUTIONS = 1_000  # of one WHERE: more are not pinned
MAX_IRIS = 2_000  # named by the write: more and its surroundings are not worth asking for
DATA_FREE = frozenset({"CREATE"})
Ask = Callable[[str, float, list[str], list[str]], QueryResult]  # (a query, its deadline, default and named
# graphs of its dataset: none for the store's own) → the store's answer


@dataclass(frozen=True)
class Pinned:
    """The pinned update text, the IRIs it names, and the graphs it clears or drops whole."""

    update: str
    iris: frozenset[str]
    graphs: frozenset[str]


def pin(update: str, base_iri: str | None, ask: Ask, deadline: float) -> Pinned | None:
    """The update pinned with the store's solutions (asked through `ask`), or None when it cannot be."""
    found = list(tokens(update))
    pieces: list[str] = []
    declarations: list[str] = []
    iris: set[str] = set()
    graphs: set[str] = set()
    cursor, changed = 0, False
    for operation in _operations(found):
        body = _skip_declarations(operation, declarations)
        if not body:
            continue
        head = body[0].keyword
        following = body[1].keyword if len(body) > 1 else ""
        if head in DATA_FREE:
            continue
        iris |= {_iri(t, declarations, base_iri) for t in body if _names_iri(t)}
        if head in ("INSERT", "DELETE") and following == "DATA":
            changed = True
        elif head in ("CLEAR", "DROP"):
            target = [t for t in body[1:] if t.keyword != "SILENT"]
            if len(target) != 2 or target[0].keyword != "GRAPH":
                return None
            graphs.add(_iri(target[1], declarations, base_iri))
            changed = True
        elif head in ("INSERT", "DELETE", "WITH"):
            if changed:  # its WHERE would see what the operations before it changed
                return None
            rewritten = _pinned_operation(update, body, declarations, base_iri, ask, deadline, iris)
            if rewritten is None:
                return None
            start, end, text = rewritten
            pieces += [update[cursor:start], text]
            cursor, changed = end, True
        else:
            return None
    pieces.append(update[cursor:])
    if graphs:  # the subjects of a graph cleared or dropped are touched
        values = " ".join(f"<{g}>" for g in sorted(graphs))
        rows = ask(f"SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?s)) }} "
                   f"LIMIT {MAX_IRIS + 1}", deadline, [], []).rows()
        iris |= {row["s"] for row in rows}
    iris.discard("")
    return None if len(iris) > MAX_IRIS else Pinned("".join(pieces), frozenset(iris), frozenset(graphs))


def _operations(found: list[Token]) -> list[list[Token]]:
    """The update's operations: its tokens split at each `;` outside brackets."""
    operations: list[list[Token]] = [[]]
    for token in found:
        if token.depth == 0 and token.text == ";":
            operations.append([])
        else:
            operations[-1].append(token)
    return operations


def _skip_declarations(operation: list[Token], declarations: list[str]) -> list[Token]:
    """The operation after its PREFIX and BASE declarations, which are added to `declarations`."""
    at = 0
    while at < len(operation):
        keyword = operation[at].keyword
        if keyword == "PREFIX" and at + 2 < len(operation):
            declarations.append(f"PREFIX {operation[at + 1].text} {operation[at + 2].text}")
            at += 3
        elif keyword == "BASE" and at + 1 < len(operation):
            declarations.append(f"BASE {operation[at + 1].text}")
            at += 2
        else:
            break
    return operation[at:]


def _pinned_operation(update: str, body: list[Token], declarations: list[str], base_iri: str | None, ask: Ask,
                      deadline: float, iris: set[str]) -> tuple[int, int, str] | None:
    """(start, end, text): what replaces update[start:end], the operation's WITH, dataset clauses and WHERE (the
    templates too, under WITH: their default-graph part goes into a GRAPH block of the WITH graph)."""
    where = next((i for i, t in enumerate(body) if t.depth == 0 and t.keyword == "WHERE"), None)
    if where is None or where + 1 >= len(body) or body[where + 1].text != "{":
        return None
    group_end = next((t for t in body[where + 2:] if t.depth == 0 and t.text == "}"), None)
    if group_end is None or body[-1] is not group_end:
        return None
    group = update[body[where + 1].start:group_end.start + 1]
    delete_where = body[0].keyword == "DELETE" and where == 1
    using = _using(body[:where], declarations, base_iri)
    if using is None:
        return None
    default, named, cut = using
    with_graph = None
    if body[0].keyword == "WITH":
        with_graph = _iri(body[1], declarations, base_iri) if len(body) > 1 else ""
        if not with_graph:
            return None
    if with_graph and cut is None:  # WITH is the WHERE's default graph when no USING says otherwise
        group = f"{{ GRAPH <{with_graph}> {group} }}"
    query = "\n".join([*declarations, f"SELECT * WHERE {group} LIMIT {MAX_SOLUTIONS + 1}"])
    if base_iri and not any(d.startswith("BASE") for d in declarations):
        query = f"BASE <{base_iri}>\n{query}"
    answer = ask(query, deadline, default, named)
    values = _values(answer, iris)
    if values == "FILTER(false)" and with_graph and cut is None and not ask(
            f"ASK {{ GRAPH <{with_graph}> {{ ?s ?p ?o }} }}", deadline, [], []).boolean:
        return None  # the WITH graph is empty: a group matching nothing has solutions that GRAPH does not give
    if values is None:
        return None
    end = group_end.start + 1
    if delete_where:  # DELETE WHERE { Q } is DELETE { Q } WHERE { Q }
        return body[where].start, end, f"{group} WHERE {{ {values} }}"
    if with_graph:
        templates = _in_graph(update, body[2:cut if cut is not None else where], with_graph)
        return (body[0].start, end, f"{templates} WHERE {{ {values} }}") if templates is not None else None
    start = body[cut].start if cut is not None else body[where].start
    return start, end, f"WHERE {{ {values} }}"


def _in_graph(update: str, head: list[Token], graph: str) -> str | None:
    """DELETE/INSERT templates with the triples outside their GRAPH blocks moved into a GRAPH block of `graph`;
    None if a template is malformed (the engine then says how)."""
    written: list[str] = []
    at = 0
    while at < len(head):
        token = head[at]
        if token.depth == 0 and token.text == "{":
            close = _closing(head, at + 1, 0)
            template = _template_in_graph(update, head[at + 1:close], graph) if close is not None else None
            if close is None or template is None:
                return None
            written.append(template)
            at = close + 1
        else:
            written.append(token.text)
            at += 1
    return " ".join(written)


def _template_in_graph(update: str, inside: list[Token], graph: str) -> str | None:
    """One template's inside (tokens at depth 1), its default-graph triples put in `graph`."""
    blocks: list[str] = []
    runs: list[list[Token]] = [[]]
    at = 0
    while at < len(inside):
        token = inside[at]
        if token.depth == 1 and token.keyword == "GRAPH":
            close = _closing(inside, at + 3, 1)
            if close is None:
                return None
            blocks.append(update[token.start:inside[close].start + len(inside[close].text)])
            runs.append([])
            at = close + 1
        else:
            runs[-1].append(token)
            at += 1
    triples = " .\n".join(_text(update, run) for run in runs if _text(update, run))
    return "{ " + " ".join([*([f"GRAPH <{graph}> {{ {triples} }}"] if triples else []), *blocks]) + " }"


def _closing(found: list[Token], start: int, depth: int) -> int | None:
    """The index of the first `}` at `depth` from `start`."""
    return next((i for i in range(start, len(found)) if found[i].depth == depth and found[i].text == "}"), None)


def _text(update: str, run: list[Token]) -> str:
    """The text of a run of triples, without the `.` that may open or close it."""
    while run and run[0].text == "." and run[0].depth == 1:
        run = run[1:]
    while run and run[-1].text == "." and run[-1].depth == 1:
        run = run[:-1]
    return update[run[0].start:run[-1].start + len(run[-1].text)] if run else ""


def _using(head: list[Token], declarations: list[str],
           base_iri: str | None) -> tuple[list[str], list[str], int | None] | None:
    """The graphs of the operation's USING and USING NAMED clauses, and the index of the first clause; None if one
    is malformed."""
    default: list[str] = []
    named: list[str] = []
    first = None
    at = 0
    while at < len(head):
        if head[at].depth == 0 and head[at].keyword == "USING":
            first = at if first is None else first
            is_named = at + 1 < len(head) and head[at + 1].keyword == "NAMED"
            target = at + 2 if is_named else at + 1
            graph = _iri(head[target], declarations, base_iri) if target < len(head) else ""
            if not graph:
                return None
            (named if is_named else default).append(graph)
            at = target
        at += 1
    return default, named, first


def _values(answer: QueryResult, iris: set[str]) -> str | None:
    """The solutions as a subquery of a VALUES block (or a pattern without solutions); None when one holds a blank
    node or a triple term, or there are too many. A subquery: from a WHERE it deems disjoint from the templates (a
    VALUES block), Virtuoso 7 inserts as it reads (SPARQL_INSERT_CTOR), and then, when they write to more than one
    graph, fails (SR002) on its report, with the triples inserted."""
    written = answer.written_rows(MAX_SOLUTIONS)
    if written is None:
        return None
    rows, named = written
    iris |= named
    if not rows:
        return "FILTER(false)"
    if not answer.variables:
        return ""
    body = " ".join(f"({' '.join(row)})" for row in rows)
    return f"SELECT * WHERE {{ VALUES ({' '.join('?' + v for v in answer.variables)}) {{ {body} }} }}"


def _names_iri(token: Token) -> bool:
    return token.kind == "iri" or (token.kind == "word" and ":" in token.text and not token.text.startswith(("?", "$")))


def _iri(token: Token, declarations: list[str], base_iri: str | None) -> str:
    """The IRI a token names: an IRI reference resolved against the base, or a prefixed name expanded ("" when its
    prefix is not declared)."""
    base = base_iri or ""
    prefixes: dict[str, str] = {}
    for declaration in declarations:
        keyword, *rest = declaration.split(" ")
        if keyword == "BASE":
            base = urljoin(base, rest[0][1:-1])
        else:
            prefixes[rest[0]] = urljoin(base, rest[1][1:-1])
    if token.kind == "iri":
        return urljoin(base, token.text[1:-1])
    prefix, _, local = token.text.partition(":")
    namespace = prefixes.get(f"{prefix}:")
    return namespace + local if namespace is not None else ""

