"""The SPARQL query page: an editor, the named queries as examples, and an answer shown as a table.

Without JavaScript the page's form GETs /sparql?query=… and the answer comes back as this page, its table rendered
here; with it, static/query.js runs the query by fetch and renders the same table in the browser.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from graph import Answer, GraphError, Namespaces, load_named_queries, overview
from service import html
from service.problems import ProblemError, graph_error_kind
from service.settings import Settings

log = logging.getLogger(__name__)
FORMATS: dict[str, str | None] = {"select": "json", "ask": "json", "graph": "ntriples"}
PREFIXES = ("ecrn", "rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "org", "foaf", "schema", "prov", "dcat", "geo")
MORE_PREFIXES = {"geo": overview.GEO}  # W3C Basic Geo: geo:lat and geo:long, as the map reads them
DOWNLOADS = {"select": [("JSON", "json"), ("CSV", "csv")], "ask": [("JSON", "json"), ("CSV", "csv")],
             "graph": [("Turtle", "turtle"), ("N-Triples", "ntriples"), ("JSON-LD", "jsonld")]}
STARTER = "SELECT ?region ?label WHERE {\n  ?region a ecrn:Region ; rdfs:label ?label\n}\nORDER BY ?label\nLIMIT 10\n"
XSD = "http://www.w3.org/2001/XMLSchema#"
_NT_TERM = re.compile(r'<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?')
_NT_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}


@dataclass(frozen=True)
class Cell:
    """One term of an answer: 'uri', 'literal' or 'bnode', with a literal's language tag or datatype as a note."""

    kind: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Table:
    kind: str
    columns: list[str]
    rows: list[list[Cell | None]]
    truncated: bool

    @property
    def caption(self) -> str:
        if self.kind == "ask":
            return "Answer to the ASK query"
        unit = "triple" if self.kind == "graph" else "row"
        return f"{len(self.rows)} {unit}{'' if len(self.rows) == 1 else 's'}"


@dataclass(frozen=True)
class Example:
    name: str
    summary: str
    text: str


@dataclass(frozen=True)
class Prefix:
    name: str
    iri: str
    declared: bool  # the endpoint declares it: queries may use it without a PREFIX line


def prefixes(settings: Settings) -> list[Prefix]:
    """The prefixes the page offers to insert, the ecrn one under the configured base."""
    declared = Namespaces(settings.base_iri).prefixes()
    known = {**MORE_PREFIXES, **declared}
    return [Prefix(name, known[name], name in declared) for name in PREFIXES]


@cache
def examples(base: str) -> tuple[Example, ...]:
    """The named queries of queries/*.rq, each as a plain query that answers as its REST operation does."""
    ns = Namespaces(base)
    return tuple(Example(q.name, q.summary, q.plain(ns)) for q in load_named_queries().values())


def page(request: Request, settings: Settings, query: str | None, *, table: Table | None = None,
         error: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    """The page with `query` in the editor (a starter query when None), and an answer or an error."""
    headers = {"Result-Truncated": f"true; limit={settings.row_cap}"} if table and table.truncated else None
    context = {"sparql": _starter(settings) if query is None else query, "examples": examples(settings.base_iri),
               "prefixes": prefixes(settings), "table": table, "error": error, "cap": settings.row_cap,
               "base": settings.base_iri, "downloads": DOWNLOADS}
    return html.render(request, settings, "query.html", context, status=status, headers=headers)


def answered(request: Request, settings: Settings, query: str, answer: Answer) -> HTMLResponse:
    return page(request, settings, query, table=table_of(answer))


def failed(request: Request, settings: Settings, query: str, error: GraphError | ProblemError) -> HTMLResponse:
    """The page with the query kept in the editor and the error as its problem response would state it."""
    if isinstance(error, ProblemError):
        status, title = error.status, error.title
    else:
        status, title, _ = graph_error_kind(error)
    if status >= 500:
        log.error("%s: %s", title, error)
    return page(request, settings, query, error={"status": status, "title": title, "detail": str(error)},
                status=status)


def _starter(settings: Settings) -> str:
    lines = [f"PREFIX {p.name}: <{p.iri}>" for p in prefixes(settings) if p.name in ("ecrn", "rdfs")]
    return "\n".join(lines) + "\n\n" + STARTER


def table_of(answer: Answer) -> Table:
    """An answer in one of FORMATS as a table: bindings, yes or no, or subject, predicate, object."""
    if answer.kind == "graph":
        triples = [_triple(line) for line in answer.body.decode().splitlines() if line.strip()]
        return Table("graph", ["subject", "predicate", "object"], triples, answer.truncated)
    body = json.loads(answer.body)
    if answer.kind == "ask":
        return Table("ask", ["answer"], [[Cell("literal", "yes" if body["boolean"] else "no")]], False)
    columns = body["head"]["vars"]
    rows = [[_json_cell(binding[c]) if c in binding else None for c in columns]
            for binding in body["results"]["bindings"]]
    return Table("select", columns, rows, answer.truncated)


def _json_cell(term: dict[str, str]) -> Cell:
    kind = {"typed-literal": "literal"}.get(term["type"], term["type"])
    return Cell(kind, term["value"], _note(term.get("xml:lang"), term.get("datatype")))


def _note(language: str | None, datatype: str | None) -> str:
    if language:
        return "@" + language
    return "^^" + datatype.replace(XSD, "xsd:") if datatype else ""


def _triple(line: str) -> list[Cell | None]:
    """The three terms of an N-Triples line (as the engine writes them: one triple per line)."""
    return [_nt_cell(match) for match in list(_NT_TERM.finditer(line))[:3]]


def _nt_cell(match: re.Match[str]) -> Cell:
    iri, blank, literal, language, datatype = match.groups()
    if iri is not None:
        return Cell("uri", _unescape(iri))
    if blank is not None:
        return Cell("bnode", blank)
    return Cell("literal", _unescape(literal), _note(language, datatype))


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        return chr(int(code, 16)) if code else _ECHAR.get(match.group(3), match.group(3))

    return _NT_ESCAPE.sub(one, text)
