"""The store interface and its embedded pyoxigraph implementation: the only module that knows the engine."""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import pyoxigraph as ox

from graph import ordering, results, terms, xml_limits
from graph.errors import GraphError, ParseError, QueryError, QuerySyntaxError, StoreError, UpdateError
from graph.namespaces import DEFAULT_BASE

ResultKind = Literal["select", "ask", "graph"]

RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
NATIVE_RESULTS = frozenset({"json", "tsv"})  # written by the engine; XML and CSV by graph/results.py
DATASET_FORMATS = frozenset({"nquads", "trig", "jsonld"})
FILE_FORMATS: dict[str, str] = {
    ".ttl": "turtle", ".nt": "ntriples", ".nq": "nquads", ".trig": "trig", ".jsonld": "jsonld",
}


@dataclass
class Stats:
    """Triples per named graph and instances per class (asserted and entailed)."""

    triples_per_graph: dict[str, int] = field(default_factory=dict)
    instances_per_class: dict[str, int] = field(default_factory=dict)

    @property
    def triples(self) -> int:
        return sum(self.triples_per_graph.values())


@dataclass(frozen=True)
class Answer:
    """A serialised answer: its kind, format (None when no acceptable format fits the kind) and body."""

    kind: ResultKind
    fmt: str | None
    body: bytes = b""
    count: int = 0
    truncated: bool = False
    seconds: float = 0.0  # the time a query worker spent on it, to its first chunk (set by the pool)


class _Full(Exception):
    """The row cap is reached: stops the engine's writer."""


class _Rows:
    """A sink for the engine's TSV writer that stops it once more than `cap` rows came; TSV ends its header and
    each row, and nothing else, with a newline (a newline in a literal is written as an escape)."""

    def __init__(self, cap: int) -> None:
        self._cap, self._lines = cap, 0
        self._parts: list[bytes] = []

    def write(self, chunk: bytes) -> int:
        self._parts.append(bytes(chunk))
        self._lines += chunk.count(b"\n")
        if self._lines > self._cap + 1:
            raise _Full
        return len(chunk)

    def flush(self) -> None:
        return None

    def taken(self) -> tuple[bytes, int, bool]:
        """The header and at most `cap` rows, their count, and whether rows were left out."""
        tsv = b"".join(self._parts)
        if self._lines <= self._cap + 1:
            return tsv, max(self._lines - 1, 0), False
        end = -1
        for _ in range(self._cap + 1):
            end = tsv.index(b"\n", end + 1)
        return tsv[:end + 1], self._cap, True


class QueryResult:
    """The answer to one query; serialise it once, or read its rows."""

    def __init__(self, raw: Any, label: str = "query", done: Callable[[], None] | None = None,
                 failure: Callable[[BaseException], GraphError] | None = None) -> None:
        self._raw = raw
        self._label = label
        self._done = done  # called once the answer has been read (a remote store's response is closed)
        self._failure = failure  # what an answer that cannot be read to its end is (else: the engine's error)
        if isinstance(raw, ox.QuerySolutions):
            self.kind: ResultKind = "select"
            self.variables = [v.value for v in raw.variables]
        elif isinstance(raw, ox.QueryBoolean):
            self.kind, self.variables = "ask", []
        else:
            self.kind, self.variables = "graph", []

    @property
    def boolean(self) -> bool:
        return bool(self._raw)

    def serialize(self, fmt: str) -> bytes:
        """Serialise with the engine's own writer; `fmt` is a key of RESULT_FORMATS or RDF_FORMATS."""
        target = RDF_FORMATS[fmt] if self.kind == "graph" else RESULT_FORMATS[fmt]
        with self._reading():
            out: bytes = self._raw.serialize(format=target)
        return out

    def capped(self, fmt: str, cap: int) -> Answer:
        """At most `cap` rows or triples, serialised; `truncated` says whether more were left out."""
        with self._reading():
            if self.kind == "ask":
                return Answer("ask", fmt, self.serialize(fmt), 1, False)
            if self.kind == "select" and fmt in NATIVE_RESULTS:
                return self._native(fmt, cap)
            taken = list(itertools.islice(self._raw, cap + 1))
            truncated = len(taken) > cap
            taken = taken[:cap]
            if self.kind == "graph":
                body = _rdfxml(taken) if fmt == "rdfxml" else ox.serialize(taken, format=RDF_FORMATS[fmt]) or b""
            else:
                rows = [[_neutral(solution[v]) for v in self.variables] for solution in taken]
                body = results.write(fmt, self.variables, rows, truncated)
        return Answer(self.kind, fmt, body, len(taken), truncated)

    def _native(self, fmt: str, cap: int) -> Answer:
        """SELECT solutions written by the engine alone: its TSV writer, stopped after `cap` rows, read back by its
        parser into the asked format (no Python object per row or term)."""
        rows = _Rows(cap)
        with suppress(_Full):
            self._raw.serialize(rows, format=ox.QueryResultsFormat.TSV)
        tsv, count, truncated = rows.taken()
        read = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
        body = read.serialize(format=RESULT_FORMATS[fmt]) or b""
        if truncated and fmt == "json":
            body = results.mark_truncated(body)
        return Answer("select", fmt, body, count, truncated)

    def rows(self) -> list[dict[str, str]]:
        """SELECT solutions as {variable: lexical value}; unbound variables are left out."""
        with self._reading():
            return [
                {name: solution[name].value for name in self.variables if solution[name] is not None}
                for solution in self._raw
            ]

    def written_rows(self, limit: int) -> tuple[list[list[str]], set[str]] | None:
        """SELECT solutions as SPARQL terms (UNDEF when unbound) and the IRIs among them; None when a solution holds a
        blank node or a triple term (no query can name them), or there are more than `limit`."""
        rows: list[list[str]] = []
        iris: set[str] = set()
        solutions = self.solutions()
        try:
            for solution in solutions:
                if len(rows) >= limit:
                    return None
                row = []
                for name in self.variables:
                    term = solution[name]
                    if isinstance(term, ox.NamedNode):
                        iris.add(term.value)
                    elif term is not None and not isinstance(term, ox.Literal):
                        return None
                    row.append("UNDEF" if term is None else str(term))
                rows.append(row)
        finally:
            solutions.close()
        return rows, iris

    def solutions(self) -> Generator[Any, None, None]:
        """SELECT solutions with the engine's terms."""
        with self._reading():
            yield from self._raw

    def triples(self) -> list[Any]:
        """A CONSTRUCT's triples with the engine's terms."""
        with self._reading():
            return list(self._raw)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Read the answer, once. The engine's result is let go of in the reading thread, whatever happens: pyo3
        leaks an object dropped on a thread not its own (a result held in a reference cycle is dropped by whichever
        thread collects the garbage)."""
        try:
            with _engine_errors(self._label):
                try:
                    yield
                except (SyntaxError, OSError, RuntimeError, ValueError) as error:
                    if self._failure is None:
                        raise
                    raise self._failure(error) from None
        finally:
            self._raw = None
            if self._done:
                self._done()


class Store(Protocol):
    """What the service and CLI need of a store; EmbeddedStore is the default implementation."""

    updates_see_union: bool  # an update's WHERE sees the union of the graphs (else they are named with USING)
    sort_classes: bool  # queries need graph/ordering.py's sort classes (the engine may abort without them)

    def query(self, sparql: str, *, union: bool = True, substitutions: dict[str, terms.Term] | None = None,
              base_iri: str | None = None, prefixes: dict[str, str] | None = None,
              default_graphs: list[str] | None = None, named_graphs: list[str] | None = None) -> QueryResult: ...

    def update(self, sparql: str, base_iri: str | None = None) -> None: ...

    def dump(self, fmt: str, graph: str | None = None, prefixes: dict[str, str] | None = None) -> bytes: ...

    def stats(self) -> Stats: ...

    def has_graph(self, graph: str) -> bool: ...

    def __len__(self) -> int: ...

    def quads_except(self, graphs: Iterable[str]) -> Iterator[ox.Quad]: ...

    def replace_graphs(self, staging: EmbeddedStore, graphs: list[str]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def stats_of(store: Store) -> Stats:
    """Triples per named graph and instances per class, by two queries."""
    per_graph = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                            union=False).rows()
    per_class = store.query("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c").rows()
    return Stats({r["g"]: int(r["n"]) for r in per_graph}, {r["c"]: int(r["n"]) for r in per_class})


_ONE_CLASS = (f"SELECT ?p WHERE {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} "
              f"BIND({ordering.sort_class('?o')} AS ?class) }} GROUP BY ?p HAVING (COUNT(DISTINCT ?class) = 1)")


class _engine_errors:
    """Turn the engine's exceptions into the graph package's errors."""

    def __init__(self, label: str, failure: type[GraphError] = QueryError) -> None:
        self.label = label
        self.failure = failure

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        if isinstance(error, SyntaxError):
            raise QuerySyntaxError(str(error)) from None
        if isinstance(error, (OSError, RuntimeError, ValueError)):
            raise self.failure(f"{self.label} failed: {error}") from None


class EmbeddedStore:
    """A pyoxigraph store, in memory or on disk."""

    updates_see_union = False
    sort_classes = True

    def __init__(self, path: Path | None = None, read_only: bool = False) -> None:
        try:
            if path:
                self._store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
            else:
                self._store = ox.Store()
        except OSError as error:
            raise StoreError(f"cannot open store at {path}: {error}") from None
        self.path = path

    def __len__(self) -> int:
        return len(self._store)

    def has_graph(self, graph: str) -> bool:
        return self._store.contains_named_graph(ox.NamedNode(graph))

    def subjects(self) -> frozenset[str]:
        return frozenset(q.subject.value for q in self._store if isinstance(q.subject, ox.NamedNode))

    def parse_bytes(self, data: bytes, fmt: str, graph: str | None, source: str, base_iri: str | None = None) -> int:
        """Add RDF from a request body to `graph` (None: the default graph); return how many triples."""
        if fmt == "rdfxml" and b"<!doctype" in data[:4096].lower():
            raise ParseError(source, None, None, "RDF/XML with a DOCTYPE is refused (entity expansion)")
        if fmt == "jsonld" and data.lstrip(b" \t\r\n")[:1] not in (b"{", b"["):  # the engine reads `null` as no triples
            raise ParseError(source, 1, 1, "a JSON-LD document is a JSON object or array")
        target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        try:
            quads = [ox.Quad(q.subject, q.predicate, q.object, target)
                     for q in ox.parse(data, format=RDF_FORMATS[fmt], base_iri=base_iri)]
        except SyntaxError as error:
            raise ParseError(source, error.lineno, error.offset, str(error)) from None
        self._store.extend(quads)
        return len(quads)

    def parse_into(self, path: Path, graph: str, source: str, base: str = DEFAULT_BASE) -> int:
        """Add a file's triples to `graph` (its own graphs, for N-Quads and TriG); return how many."""
        if path.suffix not in FILE_FORMATS:
            known = ", ".join(sorted(FILE_FORMATS))
            raise ParseError(source, None, None, f"unsupported file type {path.suffix!r}; use one of {known}")
        fmt = RDF_FORMATS[FILE_FORMATS[path.suffix]]
        target = ox.NamedNode(graph)
        try:
            quads = [_rebase(q, target, base) for q in ox.parse(path=str(path), format=fmt, base_iri=graph)]
        except SyntaxError as error:
            raise ParseError(source, error.lineno, error.offset, str(error)) from None
        except OSError as error:
            raise ParseError(source, None, None, f"cannot read the file: {error.strerror or error}") from None
        self._store.extend(quads)
        return len(quads)

    def query(self, sparql: str, *, union: bool = True, substitutions: dict[str, terms.Term] | None = None,
              base_iri: str | None = None, prefixes: dict[str, str] | None = None,
              default_graphs: list[str] | None = None, named_graphs: list[str] | None = None) -> QueryResult:
        """Run a query; explicit `default_graphs`/`named_graphs` (the protocol's dataset) override FROM clauses.
        A term the engine refuses (an IRI with a space, say) is a QueryError, as a failing query is."""
        dataset: dict[str, Any] = {}
        with _engine_errors("query"):
            bound: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
                ox.Variable(k): _engine_term(v) for k, v in (substitutions or {}).items()}
            if default_graphs is not None or named_graphs is not None:
                dataset = {"default_graph": [ox.NamedNode(g) for g in default_graphs or []],
                           "named_graphs": [ox.NamedNode(g) for g in named_graphs or []]}
                union = False
            raw = self._store.query(sparql, use_default_graph_as_union=union, substitutions=bound or None,
                                    base_iri=base_iri, prefixes=prefixes, **dataset)
        return QueryResult(raw)

    def one_class_predicates(self) -> frozenset[str]:
        """The predicates all of whose objects, in every graph, fall in one sort class (graph/ordering.py)."""
        return frozenset(row["p"] for row in self.query(_ONE_CLASS, union=False).rows())

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        """Run an update as one transaction: if any operation fails, nothing changes."""
        with _engine_errors("update", UpdateError):
            self._store.update(sparql, base_iri=base_iri)

    def neighbourhood(self, subjects: Iterable[str], into: EmbeddedStore) -> None:
        """Copy into `into` every quad about `subjects`, the quads of their blank-node objects, and the types of
        their IRI objects: what the shapes need to judge those subjects."""
        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        pending: list[Any] = [ox.NamedNode(s) for s in subjects]
        seen: set[Any] = set(pending)
        while pending:
            node = pending.pop()
            for quad in self._store.quads_for_pattern(node, None, None, None):
                into._store.add(quad)
                target = quad.object
                if isinstance(target, ox.BlankNode) and target not in seen:
                    seen.add(target)
                    pending.append(target)
                elif isinstance(target, ox.NamedNode):
                    into._store.extend(self._store.quads_for_pattern(target, rdf_type, None, None))

    def only(self, graph: str) -> EmbeddedStore:
        """A new in-memory store holding just this graph's quads."""
        copy = EmbeddedStore()
        copy._store.extend(self._quads_in([graph]))
        return copy

    def clear_graph(self, graph: str) -> None:
        self._store.clear_graph(ox.NamedNode(graph))

    def quads_except(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        skip = {ox.NamedNode(g) for g in graphs}
        return (q for q in self._store if q.graph_name not in skip)

    def copy_from(self, other: Store, graphs: Iterable[str] = ()) -> None:
        """Copy every quad of `other` outside `graphs` into this store."""
        self._store.extend(other.quads_except(graphs))

    def fill_from(self, other: EmbeddedStore) -> None:
        """Copy every quad of `other` into this new store in bulk (no transaction: for a store nobody reads yet)."""
        with _engine_errors("copy", StoreError):
            self._store.bulk_extend(other.quads_except(()))

    def replace_graphs(self, staging: EmbeddedStore, graphs: list[str]) -> None:
        """Make `graphs` hold exactly what they hold in `staging`, all or nothing.

        An empty store is bulk-loaded (fast, not one transaction) with the last graph written in a transaction
        after the rest: a store holds that graph only when the whole load got through. In memory, the quads go in
        by subject: the engine keeps each quad as a node of linked lists, allocated in turn, and walks a subject's
        list faster when its nodes lie side by side, not its asserted ones here and its entailed ones far off.
        """
        if len(self._store) == 0:
            self._store.bulk_extend(staging._quads_in(graphs[:-1]) if self.path else
                                    staging._quads_by_subject(graphs[:-1]))
            self._store.flush()
            self._store.extend(staging._quads_in(graphs[-1:]))
            return
        self.update(_replace_update(staging, graphs))

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        self._store.extend(quads)

    def add_triples(self, triples: Iterable[Any], graph: str) -> None:
        """Add triples (of a CONSTRUCT's answer) to `graph`."""
        target = ox.NamedNode(graph)
        with _engine_errors("add"):
            self._store.extend([ox.Quad(t.subject, t.predicate, t.object, target) for t in triples])

    def count_in(self, graphs: Iterable[str]) -> int:
        return sum(1 for _ in self._quads_in(graphs))

    def blank_node_groups(self, graphs: Iterable[str]) -> Iterator[list[ox.Quad]]:
        """The quads of `graphs` in groups: each quad without blank nodes alone, and together the quads of blank
        nodes linked to each other (so that a group sent on its own keeps them one node each)."""
        parent: dict[Any, Any] = {}

        def root(node: Any) -> Any:
            while parent.setdefault(node, node) != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        grouped: dict[Any, list[ox.Quad]] = defaultdict(list)
        quads = list(self._quads_in(graphs))
        for quad in quads:
            blanks = [t for t in (quad.subject, quad.object) if isinstance(t, ox.BlankNode)]
            if len(blanks) == 2:
                parent[root(blanks[0])] = root(blanks[1])
        for quad in quads:
            blank = next((t for t in (quad.subject, quad.object) if isinstance(t, ox.BlankNode)), None)
            if blank is None:
                yield [quad]
            else:
                grouped[root(blank)].append(quad)
        yield from grouped.values()

    def _quads_in(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        for graph in graphs:
            yield from self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))

    def _quads_by_subject(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        """The quads of `graphs`, each subject's together, the subjects in the order first met (only the subjects
        are held in memory, not the quads)."""
        names = [ox.NamedNode(graph) for graph in graphs]
        wanted = set(names)
        subjects = dict.fromkeys(q.subject for name in names
                                 for q in self._store.quads_for_pattern(None, None, None, name))
        for subject in subjects:
            yield from (q for q in self._store.quads_for_pattern(subject, None, None, None) if q.graph_name in wanted)

    def graphs_of(self, subject: str) -> list[str]:
        """The named graphs in which an IRI or blank node is described."""
        node = ox.BlankNode(subject[2:]) if subject.startswith("_:") else ox.NamedNode(subject)
        return sorted({q.graph_name.value for q in self._store.quads_for_pattern(node, None, None, None)
                       if isinstance(q.graph_name, ox.NamedNode)})

    def dump(self, fmt: str, graph: str | None = None, prefixes: dict[str, str] | None = None) -> bytes:
        """One graph; without `graph`, the whole dataset in a dataset format, else the union graph (each triple once).
        `prefixes` shorten IRIs in the formats that have prefixes."""
        target = RDF_FORMATS[fmt]
        with _engine_errors("dump"):
            if graph is None and fmt in DATASET_FORMATS:
                out: bytes = self._store.dump(format=target, prefixes=prefixes) or b""
            elif graph is None:
                union = self._store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
                assert isinstance(union, ox.QueryTriples)
                out = ox.serialize(union, format=target, prefixes=prefixes) or b""
            else:
                out = self._store.dump(format=target, from_graph=ox.NamedNode(graph), prefixes=prefixes) or b""
        return out

    def checksum(self) -> str:
        """SHA-256 of the sorted N-Quads: equal checksums mean equal stores."""
        lines = sorted(self.dump("nquads").splitlines())
        return hashlib.sha256(b"\n".join(lines)).hexdigest()

    def stats(self) -> Stats:
        return stats_of(self)

    def flush(self) -> None:
        if self.path:
            self._store.flush()

    def close(self) -> None:
        """Release the engine (for an on-disk store: its files and lock); the store is unusable afterwards."""
        del self._store

    def checkpoint(self, target: Path) -> None:
        """A consistent copy of an on-disk store at `target` (a new directory), hard-linked where possible."""
        try:
            self._store.backup(str(target))
        except OSError as error:
            raise StoreError(f"cannot make a checkpoint of the store at {target}: {error}") from None


def is_iri(value: str) -> bool:
    """Whether `value` is an absolute IRI (RFC 3987) as the engine reads one: what may be bound as a term, or written
    between angle brackets in SPARQL."""
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


def _rdfxml(triples: list[Any]) -> bytes:
    """RDF/XML by the engine's writer, refused (UnrepresentableError) when XML 1.0 cannot carry the triples, with
    carriage returns written as references (the writer leaves them bare, and a parser would read line ends)."""
    for triple in triples:
        xml_limits.check_predicate(triple.predicate.value)
        if isinstance(triple.object, ox.Literal):
            xml_limits.check_text(triple.object.value, "RDF/XML")
    body: bytes = ox.serialize(triples, format=ox.RdfFormat.RDF_XML) or b""
    return body.replace(b"\r", b"&#13;")


def _neutral(term: Any) -> terms.Term | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return terms.IRI(term.value)
    if isinstance(term, ox.BlankNode):
        return terms.BlankNode(term.value)
    if isinstance(term, ox.Literal):
        return terms.Literal(term.value, term.datatype.value, term.language)
    return terms.Literal(str(term))  # an RDF 1.2 triple term, written as text


def _engine_term(term: terms.Term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, terms.IRI):
        return ox.NamedNode(term.value)
    if isinstance(term, terms.BlankNode):
        return ox.BlankNode(term.value)
    datatype = ox.NamedNode(term.datatype) if term.datatype else None
    return ox.Literal(term.value, datatype=datatype, language=term.language)


def _rebase(quad: ox.Quad, graph: ox.NamedNode, base: str) -> ox.Quad:
    graph_name = graph if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name
    if base == DEFAULT_BASE:
        return ox.Quad(quad.subject, quad.predicate, quad.object, graph_name)

    def move(term: Any) -> Any:
        if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE):
            return ox.NamedNode(base + term.value[len(DEFAULT_BASE):])
        return term

    return ox.Quad(move(quad.subject), move(quad.predicate), move(quad.object), graph_name)


def insert_data(staging: EmbeddedStore, graph: str | None) -> str:
    """The INSERT DATA body (N-Triples, engine-written) of everything in `staging`, into `graph` or the default."""
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in staging._store)
    lines = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
    return f"INSERT DATA {{ GRAPH <{graph}> {{\n{lines}}} }}" if graph else f"INSERT DATA {{\n{lines}}}"


def _replace_update(staging: EmbeddedStore, graphs: list[str]) -> str:
    """One SPARQL Update (one transaction) that drops `graphs` and inserts their staged content."""
    by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in staging._quads_in(graphs):
        assert isinstance(quad.graph_name, ox.NamedNode)
        by_graph[quad.graph_name.value].append(ox.Triple(quad.subject, quad.predicate, quad.object))
    drops = [f"DROP SILENT GRAPH <{g}>" for g in graphs]
    blocks = [f"GRAPH <{g}> {{\n{(ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES) or b'').decode()}}}"
              for g, ts in by_graph.items()]
    inserts = [f"INSERT DATA {{\n{chr(10).join(blocks)}\n}}"] if blocks else []
    return " ;\n".join(drops + inserts)
