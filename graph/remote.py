"""A remote SPARQL 1.1 triplestore as the store: queries and updates by the SPARQL Protocol (SPARQLWrapper).

The remote store serves either the union of its named graphs as the default graph, to queries and updates, as
the embedded store does (Oxigraph: `--union-default-graph`; Fuseki: `unionDefaultGraph`; Virtuoso and GraphDB by
default), or its own default graph; `union` says which (ECRN_UNION_DEFAULT_GRAPH). Answers are
read as SPARQL JSON or N-Triples, cut at the row cap while they stream in, and written again by the engine's own
serializers, so every format, the cap and its signal are those of the embedded store. A load sends each batch in
one SPARQL Update to temporary graphs, then moves them into place with one more: readers see the old graphs or
the new ones.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import socket
import threading
import time
import urllib.error
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
from SPARQLWrapper import POST, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException, Unauthorized

from graph import terms
from graph.errors import (
    GraphError,
    QueryError,
    QuerySyntaxError,
    QueryTimeoutError,
    StoreError,
    UpdateError,
)
from graph.lexer import tokens
from graph.named_queries import substituted
from graph.namespaces import STANDARD_PREFIXES
from graph.store import EmbeddedStore, QueryResult, ResultKind, Stats, stats_of

BATCH = 20_000  # quads per update of a load
LOAD_SECONDS = 3600.0  # the time an update of a load may take (moving a million quads takes the store a while)
Progress = Callable[[int, int], None]  # (quads sent, quads in all)
INCOMING = "urn:ecrn:sandbox:incoming"  # where `surroundings` puts the triples pointing to its nodes
_ACCEPT: dict[ResultKind, str] = {"select": "application/sparql-results+json", "ask": "application/sparql-results+json",
                                  "graph": "application/n-triples"}
_POSITION = re.compile(r"(\bat (?=\d+:\d)|\bline )(\d+)(:\d+)?")  # Oxigraph: "at 1:24"; Virtuoso: "line 1" only
_ECHO = re.compile(r"\s*SPARQL query:.*", re.DOTALL)  # Virtuoso repeats the query after its message
XSD_DECIMAL = ox.NamedNode(STANDARD_PREFIXES["xsd"] + "decimal")
_FORMS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "graph", "DESCRIBE": "graph"}


@dataclass(frozen=True)
class Dialect:
    """What a store needs beside SPARQL 1.1; the defaults suit Oxigraph, Fuseki and the like."""

    batch: int = BATCH  # quads per update of a load
    pragma: str = ""  # put before each query, on its first line
    drops_all: bool = True  # False: DROP and CLEAR of ALL and NAMED are sent graph by graph
    keeps_dataset: bool = False  # an operation's USING or WITH holds for the operations after it in the request
    sort_classes: bool = True  # ORDER BY keys get a sort class first (graph/ordering.py: Oxigraph may abort without)


# Virtuoso's SPARQL compiler stops at 10,000 lines of SQL: about 1,000 quads in an INSERT. Its DESCRIBE gives the
# triples of a resource's own Concise Bounded Description, as Oxigraph's, only in that mode ("sql:describe-mode").
# It takes DROP ALL (and CLEAR ALL, DROP NAMED, CLEAR NAMED) and does nothing, and carries an operation's dataset
# into the operations after it. Its sort never aborts, and it fails to compile the sort classes of aggregate keys
# (SQ156, or SP031 on a projected aggregate).
DIALECTS = {"sparql": Dialect(),
            "virtuoso": Dialect(batch=1_000, pragma='DEFINE sql:describe-mode "CBD" ', drops_all=False,
                                keeps_dataset=True, sort_classes=False)}
VIRTUOSO = DIALECTS["virtuoso"]


@dataclass(frozen=True)
class Endpoints:
    """Where the remote store answers, and how to sign in (HTTP Basic)."""

    query: str
    update: str | None = None
    user: str | None = None
    password: str | None = None


def kind_of(sparql: str) -> ResultKind:
    """The kind of answer a query gives, from its first query form keyword (the engine parses it for real)."""
    for token in tokens(sparql):
        if token.depth == 0 and token.keyword in _FORMS:
            kind: ResultKind = _FORMS[token.keyword]  # type: ignore[assignment]
            return kind
    raise QuerySyntaxError("no SELECT, ASK, CONSTRUCT or DESCRIBE in the query")


class RemoteStore:
    """A SPARQL 1.1 triplestore reached over HTTP."""

    path = None  # nothing of it lives on this machine

    def __init__(self, endpoints: Endpoints, timeout: float = 30.0, union: bool = True,
                 mark: Path | None = None, dialect: Dialect = DIALECTS["sparql"]) -> None:
        """`union`: the store serves the union of its graphs as default graph, to updates too (see the module);
        `mark`: a file renewed after each update, in a directory the processes serving this store share."""
        self.endpoints = endpoints
        self.dialect = dialect
        self.timeout = timeout
        self.updates_see_union = union
        self.sort_classes = dialect.sort_classes
        self.mark = mark
        self.progress: Progress | None = None  # told of each batch a load sends

    def __len__(self) -> int:
        """Quads in named graphs, and in the default graph of a store that does not serve the union as it."""
        pattern = "{ GRAPH ?g { ?s ?p ?o } }" + ("" if self.updates_see_union else " UNION { ?s ?p ?o }")
        rows = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}").rows()
        return int(rows[0]["n"])

    def query(self, sparql: str, *, union: bool = True, substitutions: dict[str, terms.Term] | None = None,
              base_iri: str | None = None, prefixes: dict[str, str] | None = None,
              default_graphs: list[str] | None = None, named_graphs: list[str] | None = None,
              deadline: float | None = None) -> QueryResult:
        """Run a query on the remote store; `union` is the remote store's own setting (see the module)."""
        if substitutions:
            sparql = substituted(sparql, substitutions)
        base_iri, sparql = _based(sparql, base_iri)
        prologue = _prologue(base_iri, prefixes)
        kind = kind_of(sparql)
        parameters = [("default-graph-uri", g) for g in default_graphs or []]
        parameters += [("named-graph-uri", g) for g in named_graphs or []]
        try:
            response = self._send(self.dialect.pragma + prologue + sparql, self.endpoints.query, _ACCEPT[kind],
                                  parameters, deadline, QueryError)
        except QuerySyntaxError as error:
            raise QuerySyntaxError(_POSITION.sub(_lines_up(prologue.count("\n")), str(error))) from None
        body = _Body(response, deadline)
        return QueryResult(body.parsed(kind), "remote query", done=body.close, failure=body.failure)

    def update(self, sparql: str, base_iri: str | None = None, deadline: float | None = None) -> None:
        """Run an update; the remote store runs one request as one transaction (Oxigraph, Fuseki, …)."""
        if not self.endpoints.update:
            raise StoreError("no update endpoint of the remote store is configured (ECRN_REMOTE_UPDATE_URL)")
        if not self.dialect.drops_all:
            sparql = self._graph_by_graph(sparql)
        base_iri, sparql = _based(sparql, base_iri)
        text = f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql
        try:
            self._send(text, self.endpoints.update, "*/*", [], deadline, UpdateError).close()
        finally:
            if self.mark:
                _renew(self.mark)

    @property
    def state(self) -> str | None:
        """Names the last update through any process sharing the mark (None: no mark, or no update yet)."""
        if not self.mark:
            return None
        try:
            found = self.mark.stat()
        except FileNotFoundError:
            return None
        return f"{found.st_ino}-{found.st_mtime_ns}"

    def has_graph(self, graph: str) -> bool:
        return self.query(f"ASK WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").boolean

    def stats(self) -> Stats:
        return stats_of(self)

    def copy(self, deadline: float | None = None) -> EmbeddedStore:
        """The store's quads in a new in-memory store (blank nodes keep the remote store's labels): every named
        graph, and the default graph of a store that does not serve the union as its default graph."""
        local = EmbeddedStore()
        local.add_quads(self._quads("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", deadline))
        if not self.updates_see_union:
            local.add_quads(ox.Quad(row["s"], row["p"], row["o"]) for row in self.query(
                "SELECT ?s ?p ?o WHERE { ?s ?p ?o }", deadline=deadline).solutions())
        return local

    def surroundings(self, iris: Iterable[str], graphs: Iterable[str], deadline: float) -> EmbeddedStore | None:
        """What checking a write that names `iris` needs, in a new in-memory store: every quad about them, about
        the blank nodes they lead to (two deep) and about the nodes they point to; for each of those nodes, one
        triple pointing to it from elsewhere by each property with a range (RDFS entailment hangs on it); and the
        whole of `graphs` (each there, even if empty). None when blank nodes lead deeper (then only a copy of the
        store will do)."""
        values = " ".join(f"<{i}>" for i in sorted(iris) if terms.ABSOLUTE_IRI.match(i))
        local = EmbeddedStore()
        named = " ".join(f"<{g}>" for g in graphs)
        local.update(" ;\n".join(f"CREATE SILENT GRAPH {g}" for g in named.split()))  # a graph may be empty
        if not values:
            return local
        about = self._anywhere("?s ?p ?o", "g")  # (the blank node filters go inside: Virtuoso fails on them outside)
        rows = self.query(f"""SELECT ?s ?p ?o ?g ?deep WHERE {{
          {{ VALUES ?g {{ {named} }} GRAPH ?g {{ ?s ?p ?o }} }}
          UNION {{ VALUES ?s {{ {values} }} {about} }}
          UNION {{ VALUES ?c {{ {values} }} {self._anywhere("?c ?q ?s", "h")} FILTER(!isLiteral(?s)) {about} }}
          UNION {{ VALUES ?c {{ {values} }} {self._anywhere("?c ?q ?b FILTER(isBlank(?b))", "h")}
                   {self._anywhere("?b ?r ?s FILTER(isBlank(?s))", "i")} {about} BIND(isBlank(?o) AS ?deep) }}
        }}""", deadline=deadline).solutions()
        nodes = set()
        for row in rows:
            if row["deep"] is not None and row["deep"].value == "true":
                rows.close()
                return None
            local.add_quads([ox.Quad(row["s"], row["p"], row["o"], row["g"] or ox.DefaultGraph())])
            if isinstance(row["s"], ox.NamedNode):
                nodes.add(row["s"].value)
        reached = " ".join(f"<{n}>" for n in sorted(nodes))
        incoming = self.query(f"""SELECT ?x ?p ?o WHERE {{ {{
          SELECT ?p ?o (SAMPLE(?y) AS ?x) WHERE {{
            VALUES ?o {{ {reached} }} GRAPH ?k {{ ?p <http://www.w3.org/2000/01/rdf-schema#range> ?range }}
            {self._anywhere("?y ?p ?o", "h")} FILTER(?y NOT IN ({", ".join(values.split())}))
          }} GROUP BY ?p ?o }} }}""", deadline=deadline).solutions()
        local.add_triples((ox.Triple(row["x"], row["p"], row["o"]) for row in incoming), INCOMING)
        return local

    def quads_except(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        return self.copy().quads_except(graphs)

    def dump(self, fmt: str, graph: str | None = None, prefixes: dict[str, str] | None = None) -> bytes:
        return self.copy().dump(fmt, graph, prefixes)

    def checksum(self) -> str:
        return self.copy().checksum()

    def replace_graphs(self, staging: EmbeddedStore, graphs: list[str]) -> None:
        """Make `graphs` hold exactly what they hold in `staging`: batches of quads go to temporary graphs (a blank
        node's quads all in one batch, so it stays one node), then one update moves them all into place."""
        load = f"urn:uuid:{uuid.uuid4()}"
        temporary = {g: f"{load}:{i}" for i, g in enumerate(graphs)}
        total, sent = staging.count_in(graphs), 0
        try:
            for batch in _batches(staging, graphs, self.dialect.batch):
                self.update(_inserts({temporary[g]: texts for g, texts in batch.items()}),
                            deadline=time.monotonic() + LOAD_SECONDS)
                sent += sum(ground.count("\n") + blank.count("\n") for ground, blank in batch.values())
                if self.progress:
                    self.progress(sent, total)
            self.update(" ;\n".join(f"MOVE SILENT GRAPH <{temporary[g]}> TO GRAPH <{g}>" for g in graphs),
                        deadline=time.monotonic() + LOAD_SECONDS)
        except GraphError:
            with contextlib.suppress(GraphError):
                self.update(" ;\n".join(f"DROP SILENT GRAPH <{t}>" for t in temporary.values()))
            raise

    def flush(self) -> None:
        """Nothing to do: the remote store commits each update."""

    def close(self) -> None:
        """Nothing to release: each request has its own connection."""

    def _graph_by_graph(self, sparql: str) -> str:
        """The update with each DROP or CLEAR of ALL or NAMED written as one of each graph the store has now (the
        store keeps no empty graph and serves their union as default graph, so that is all of them)."""
        found = list(tokens(sparql))
        spans = []
        for i, token in enumerate(found):
            after = [t.keyword for t in found[i + 1:i + 3]]
            if token.keyword in ("DROP", "CLEAR") and token.depth == 0:
                target = 1 if after[:1] == ["SILENT"] else 0
                if len(after) > target and after[target] in ("ALL", "NAMED"):
                    last = found[i + 1 + target]
                    spans.append((token.start, last.start + len(last.text), token.keyword))
        if not spans:
            return sparql
        graphs = [r["g"] for r in self.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g").rows()]
        out: list[str] = []
        end = 0
        for start, stop, verb in spans:
            each = " ;\n".join(f"{verb} SILENT GRAPH <{g}>" for g in graphs) or "INSERT DATA {}"
            out += [sparql[end:start], each]
            end = stop
        return "".join([*out, sparql[end:]])

    def _anywhere(self, pattern: str, graph: str) -> str:
        """The pattern in any named graph (bound to ?graph), and in the default graph of a store that does not
        serve the union as it."""
        named = f"GRAPH ?{graph} {{ {pattern} }}"
        return f"{{ {named} }}" if self.updates_see_union else f"{{ {{ {named} }} UNION {{ {pattern} }} }}"

    def _quads(self, select: str, deadline: float | None) -> Iterator[ox.Quad]:
        for row in self.query(select, deadline=deadline).solutions():
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

    def _send(self, text: str, endpoint: str, accept: str, parameters: list[tuple[str, str]], deadline: float | None,
              failure: type[QueryError]) -> Any:
        """POST the request (form-encoded); the open response, or the store's refusal as our error."""
        wrapper = SPARQLWrapper(endpoint, updateEndpoint=endpoint)
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setQuery(text)
        wrapper.setOnlyConneg(True)
        wrapper.addCustomHttpHeader("Accept", accept)
        for name, value in parameters:
            wrapper.addParameter(name, value)
        if self.endpoints.user:
            wrapper.setCredentials(self.endpoints.user, self.endpoints.password or "")
        left = self.timeout if deadline is None else deadline - time.monotonic()
        if left <= 0:
            raise QueryTimeoutError("the time limit passed before the remote store was asked")
        wrapper.setTimeout(max(1, round(left + 0.5)))
        try:
            return wrapper.query().response
        except QueryBadFormed as error:
            message = said(error)
            raise (QuerySyntaxError(message) if failure is QueryError else failure(message)) from None
        except Unauthorized:
            raise StoreError("the remote store refused the configured credentials") from None
        except SPARQLWrapperException as error:
            raise failure(f"the remote store failed: {said(error)}") from None
        except urllib.error.HTTPError as error:
            raise _http_error(error, failure) from None
        except (urllib.error.URLError, OSError) as error:
            if _timed_out(error):
                raise QueryTimeoutError("the remote store did not answer within the time limit") from None
            raise StoreError(f"the remote store cannot be reached: {getattr(error, 'reason', error)}") from None


class _Body:
    """A response body read as the engine's results; closed at the deadline, so reading it stops there."""

    def __init__(self, response: Any, deadline: float | None) -> None:
        self.response = response
        self.timer = None if deadline is None else threading.Timer(max(0.0, deadline - time.monotonic()), self.cut)
        self.stopped = False
        if self.timer:
            self.timer.daemon = True
            self.timer.start()

    def cut(self) -> None:
        self.stopped = True
        with contextlib.suppress(AttributeError, OSError):  # http.client keeps the socket behind its file object
            self.response.fp.raw._sock.shutdown(socket.SHUT_RDWR)

    def parsed(self, kind: ResultKind) -> Any:
        if kind == "graph":
            return _Triples(self)
        try:
            answer = io.BufferedReader(_Labels(self.response))
            parsed = ox.parse_query_results(answer, format=ox.QueryResultsFormat.JSON)
            if kind == "ask" and isinstance(parsed, ox.QuerySolutions):  # Virtuoso 7: a row for true, none for false
                return _boolean(next(parsed, None) is not None)
            return parsed
        except (SyntaxError, OSError, ValueError) as error:
            parsed = None  # let go of it in this thread: the error's frames, dropped on another one, would hold it
            self.close()
            raise self.failure(error) from None

    def failure(self, error: BaseException) -> GraphError:
        if self.stopped:
            return QueryTimeoutError("the query ran past its time limit and was stopped")
        return QueryError(f"the remote store's answer could not be read: {error}")

    def close(self) -> None:
        if self.timer:
            self.timer.cancel()
        self.response.close()


class _Labels(io.RawIOBase):
    """A SPARQL JSON answer as it streams in, Virtuoso's blank node labels ("nodeID://b1") read as labels ("b1")."""

    MARK, LABEL = b'"bnode", "value": "nodeID://', b'"bnode", "value": "'

    def __init__(self, response: Any) -> None:
        self.response = response
        self.ready = b""
        self.held = b""  # the end of what came in, while it may be the start of a MARK

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.ready:
            chunk = self.response.read(65536)
            if not chunk:
                self.ready, self.held = self.held, b""
                break
            text = (self.held + chunk).replace(self.MARK, self.LABEL)
            keep = next((n for n in range(len(self.MARK) - 1, 0, -1) if text.endswith(self.MARK[:n])), 0)
            self.ready, self.held = text[: len(text) - keep], text[len(text) - keep:]
        size = min(len(self.ready), len(buffer))
        buffer[:size] = self.ready[:size]
        self.ready = self.ready[size:]
        return size


class _Triples:
    """The triples of a CONSTRUCT or DESCRIBE answer, read as they come."""

    def __init__(self, body: _Body) -> None:
        self.body = body

    def __iter__(self) -> Iterator[ox.Triple]:
        try:
            for quad in ox.parse(self.body.response, format=ox.RdfFormat.N_TRIPLES):
                yield quad.triple
        except (SyntaxError, OSError, ValueError) as error:
            raise self.body.failure(error) from None
        finally:
            self.body.close()

    def serialize(self, format: ox.RdfFormat) -> bytes:
        return ox.serialize(list(self), format=format) or b""


def _boolean(value: bool) -> Any:
    """An ASK answer (the engine makes them only by parsing one)."""
    text = b'{"head": {}, "boolean": %s}' % (b"true" if value else b"false")
    return ox.parse_query_results(text, format=ox.QueryResultsFormat.JSON)


def _renew(mark: Path) -> None:
    """A new mark: a new file put in place, so its inode changes."""
    mark.parent.mkdir(parents=True, exist_ok=True)
    partial = mark.with_name(f".{mark.name}.{uuid.uuid4().hex}")
    partial.write_text(str(uuid.uuid4()))
    os.replace(partial, mark)


def _based(text: str, base_iri: str | None) -> tuple[str | None, str]:
    """The base of a query or update, and its text with the BASE declarations it opens with blanked (positions in it
    stay): Virtuoso takes one BASE, before any PREFIX, where SPARQL takes any number (pyoxigraph's SERVICE sends
    one, so a query the service prologues with its own base and prefixes would have two)."""
    found = tokens(text)
    cut = 0
    for token in found:
        iri = next(found, None) if token.keyword == "BASE" else None
        if iri is None or iri.kind != "iri":
            break
        base_iri, cut = urljoin(base_iri or "", iri.text[1:-1]), iri.start + len(iri.text)
    return base_iri, re.sub(r"[^\n]", " ", text[:cut]) + text[cut:]


def _prologue(base_iri: str | None, prefixes: dict[str, str] | None) -> str:
    """The base and prefixes declared on one line of their own (a parser's line numbers then move by one)."""
    declared = [f"BASE <{base_iri}>"] if base_iri else []
    declared += [f"PREFIX {p}: <{ns}>" for p, ns in (prefixes or {}).items()]
    return " ".join(declared) + "\n" if declared else ""


def _lines_up(lines: int) -> Callable[[re.Match[str]], str]:
    """A replacement giving a parser's position in the query as the client wrote it."""
    return lambda match: f"{match.group(1)}{int(match.group(2)) - lines}{match.group(3) or ''}"


def _batches(staging: EmbeddedStore, graphs: list[str], size: int) -> Iterator[dict[str, tuple[str, str]]]:
    """N-Triples per graph, about `size` quads a batch; the quads of blank nodes linked to each other stay in one."""
    groups = staging.blank_node_groups(graphs)
    batch: dict[str, list[ox.Triple]] = {}
    count = 0
    for group in groups:
        for quad in group:
            assert isinstance(quad.graph_name, ox.NamedNode)
            batch.setdefault(quad.graph_name.value, []).append(quad.triple)
        count += len(group)
        if count >= size:
            yield _written(batch)
            batch, count = {}, 0
    if batch:
        yield _written(batch)


def _written(batch: dict[str, list[ox.Triple]]) -> dict[str, tuple[str, str]]:
    """N-Triples per graph: the triples without blank nodes, and those with."""
    def text(triples: list[ox.Triple]) -> str:
        return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()

    def blank(t: ox.Triple) -> bool:
        return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)

    return {g: (text([t for t in ts if not blank(t)]), text([_pointed(t) for t in ts if blank(t)]))
            for g, ts in batch.items()}


def _pointed(triple: ox.Triple) -> ox.Triple:
    """The triple with a whole xsd:decimal written with a point: Virtuoso stores "1000"^^xsd:decimal in a template
    as an xsd:integer (the same value: stores that keep values, as Oxigraph, write it "1000" again)."""
    value = triple.object
    if not isinstance(value, ox.Literal) or value.datatype != XSD_DECIMAL or "." in value.value:
        return triple
    return ox.Triple(triple.subject, triple.predicate, ox.Literal(f"{value.value}.0", datatype=XSD_DECIMAL))


def _inserts(batch: dict[str, tuple[str, str]]) -> str:
    """One update adding a batch to its graphs: INSERT DATA with the triples without blank nodes; INSERT … WHERE
    with the others, for Virtuoso refuses blank nodes in INSERT DATA (and the graphs bound in the WHERE: it misreads
    some blank nodes in a template whose graphs are constants). Only there: Virtuoso reads constants of a template
    that it deems equal as one ("2014-01"^^xsd:gYearMonth as "2014"^^xsd:gYear)."""
    data = "\n".join(f"GRAPH <{g}> {{\n{ground}}}" for g, (ground, _) in batch.items() if ground)
    blank = [(g, text) for g, (_, text) in batch.items() if text]
    blocks = "\n".join(f"GRAPH ?g{i} {{\n{text}}}" for i, (_, text) in enumerate(blank))
    names = " ".join(f"BIND(<{g}> AS ?g{i})" for i, (g, _) in enumerate(blank))
    updates = [f"INSERT DATA {{\n{data}\n}}"] if data else []
    updates += [f"INSERT {{\n{blocks}\n}} WHERE {{ {names} }}"] if blank else []
    return " ;\n".join(updates)


def said(error: SPARQLWrapperException) -> str:
    """What the endpoint said (SPARQLWrapper keeps it only in its message, as a bytes literal), on one line."""
    head, _, body = str(error).partition("\n\nResponse:\n")
    try:
        text = ast.literal_eval(body).decode("utf-8", "replace") if body else head
    except (ValueError, SyntaxError, AttributeError):
        text = body or head
    return " ".join(_ECHO.sub("", text).split())[:1000]


def _http_error(error: urllib.error.HTTPError, failure: type[QueryError]) -> GraphError:
    if error.code in (408, 503, 504):
        return QueryTimeoutError(f"the remote store gave up on the request ({error.code})")
    if error.code in (401, 403):
        return StoreError("the remote store refused the configured credentials")
    return failure(f"the remote store answered {error.code}")


def _timed_out(error: BaseException) -> bool:
    reason = getattr(error, "reason", error)
    return isinstance(reason, TimeoutError | socket.timeout)
