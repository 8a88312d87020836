"""Content negotiation: pure functions over a table of media types and format names."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from graph.errors import NamedQueryError

# Media type -> format name, per kind of answer; the first entry of each table is the default.
RESULT_MEDIA_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/n-quads": "nquads",
    "application/trig": "trig",
}
# A linked-data document: RDF for machines (Turtle for */*), HTML for people who ask for it, as browsers do.
DOCUMENT_MEDIA_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/ld+json": "jsonld",
    "application/n-triples": "ntriples",
    "application/rdf+xml": "rdfxml",
}
TABLES = {"select": RESULT_MEDIA_TYPES, "ask": RESULT_MEDIA_TYPES, "graph": GRAPH_MEDIA_TYPES,
          "document": DOCUMENT_MEDIA_TYPES}


@dataclass(frozen=True)
class MediaRange:
    type: str
    q: float
    order: int

    def matches(self, media_type: str) -> bool:
        if self.type in ("*/*", media_type):
            return True
        return self.type.endswith("/*") and media_type.startswith(self.type[:-1])


def parse_accept(header: str | None) -> list[MediaRange]:
    """Media ranges of an Accept header, best first; an absent or empty header accepts anything."""
    ranges = []
    for order, part in enumerate((header or "*/*").split(",")):
        fields = [f.strip() for f in part.split(";")]
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if fields[0]:
            ranges.append(MediaRange(fields[0].lower(), q, order))
    return sorted(ranges, key=lambda r: (-r.q, r.order)) or [MediaRange("*/*", 1.0, 0)]


def choose(accept: str | None, kind: str) -> tuple[str, str] | None:
    """The (format name, media type) to answer a `kind` result with, or None when nothing fits (406). A client
    sends the same Accept header with each request: the choice for a short one is remembered."""
    if accept is not None and len(accept) > _REMEMBERED_ACCEPT:
        return _choose(accept, kind)
    return _remembered(accept, kind)


def _choose(accept: str | None, kind: str) -> tuple[str, str] | None:
    table = TABLES[kind]
    for media_range in parse_accept(accept):
        if media_range.q == 0:
            continue
        for media_type, fmt in table.items():
            if media_range.matches(media_type) and not _refused(accept, media_type):
                return fmt, media_type
    return None


_REMEMBERED_ACCEPT = 512  # characters
_remembered = functools.lru_cache(maxsize=256)(_choose)


# Names clients put in a `format` parameter (SPARQLWrapper, Virtuoso, Fuseki styles), per kind of result.
FORMAT_ALIASES: dict[str, dict[str, str]] = {
    "select": {"srj": "json", "srx": "xml", "sparql-results+json": "json", "sparql-results+xml": "xml"},
    "graph": {"ttl": "turtle", "n3": "turtle", "nt": "ntriples", "n-triples": "ntriples", "json-ld": "jsonld",
              "json": "jsonld", "xml": "rdfxml", "rdf": "rdfxml", "rdf+xml": "rdfxml", "nq": "nquads"},
}
FORMAT_ALIASES["ask"] = FORMAT_ALIASES["select"]


def prefers_html(accept: str | None) -> bool:
    """True when the client asks for HTML before any RDF or results format, as a browser does."""
    chosen = choose(accept, "document")
    return chosen is not None and chosen[0] == "html"


def by_format(fmt: str, kind: str) -> tuple[str, str] | None:
    """An explicit `format` parameter: a format name, a client's alias or a media type, if it suits the kind."""
    wanted = FORMAT_ALIASES[kind].get(fmt.lower(), fmt.lower())
    for media_type, name in TABLES[kind].items():
        if wanted in (name, media_type):
            return name, media_type
    return None


def media_type_of(fmt: str) -> str:
    """The canonical media type of a format name (the first table entry that names it)."""
    for table in (RESULT_MEDIA_TYPES, GRAPH_MEDIA_TYPES):
        for media_type, name in table.items():
            if name == fmt:
                return media_type
    raise KeyError(fmt)


def _refused(accept: str | None, media_type: str) -> bool:
    """True when the header names this exact type with q=0."""
    return any(r.type == media_type and r.q == 0 for r in parse_accept(accept))


_LANGUAGE_RANGE = re.compile(r"^[a-z]{1,8}(-[a-z0-9]{1,8})*$")


def choose_language(lang: str | None, accept_language: str | None) -> str:
    """The language of labels: `lang`, else the first choice of Accept-Language, else English; as a primary subtag,
    so that 'de-AT' asks for German labels. Each label falls back to English where the chosen language has none."""
    if lang is not None:
        if not _LANGUAGE_RANGE.match(lang.lower()):
            raise NamedQueryError(f"lang must be a language tag such as 'de' or 'pl', not {lang!r}", "lang")
        return lang.lower().split("-")[0]
    for language in parse_accept(accept_language or "en"):
        if language.q > 0 and _LANGUAGE_RANGE.match(language.type):
            return language.type.split("-")[0]
    return "en"
