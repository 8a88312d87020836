"""SPARQL 1.1 query results writers (JSON, XML, CSV, TSV) for a capped list of solutions.

The engine's own writer serialises a whole result; when the row cap cuts a result short it cannot say so, so
capped SELECT answers are written here, with the truncation stated in the body (JSON, XML) as well as in headers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from graph import xml_limits
from graph.terms import IRI, BlankNode, Term

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
TRUNCATED_LINK = "urn:ecrn:truncated"

Row = Sequence[Term | None]


def write(fmt: str, variables: list[str], rows: Sequence[Row], truncated: bool) -> bytes:
    return _WRITERS[fmt](variables, rows, truncated)


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, IRI):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype and term.datatype != XSD_STRING:
        out["datatype"] = term.datatype
    return out


def _json(variables: list[str], rows: Sequence[Row], truncated: bool) -> bytes:
    head: dict[str, object] = {"vars": variables}
    if truncated:
        head["link"] = [TRUNCATED_LINK]
    bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
    body: dict[str, object] = {"head": head, "results": {"bindings": bindings}}
    if truncated:
        body["truncated"] = True
    return json.dumps(body, ensure_ascii=False).encode()


def _xml_term(term: Term) -> str:
    if isinstance(term, IRI):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    xml_limits.check_text(term.value, "SPARQL XML")
    text = escape(term.value, {"\r": "&#13;"})  # a literal carriage return would be read as a line end
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{text}</literal>"
    if term.datatype and term.datatype != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype)}>{text}</literal>"
    return f"<literal>{text}</literal>"


def _xml(variables: list[str], rows: Sequence[Row], truncated: bool) -> bytes:
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out += [f"<variable name={quoteattr(v)}/>" for v in variables]
    if truncated:
        out.append(f"<link href={quoteattr(TRUNCATED_LINK)}/>")
    out.append("</head><results>")
    for row in rows:
        cells = [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                 for v, t in zip(variables, row, strict=True) if t is not None]
        out.append("<result>" + "".join(cells) + "</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode()


def _csv(variables: list[str], rows: Sequence[Row], truncated: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(variables)
    for row in rows:
        writer.writerow(["" if t is None else ("_:" + t.value if isinstance(t, BlankNode) else t.value) for t in row])
    return buffer.getvalue().encode()


def _tsv_term(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, IRI):
        return f"<{term.value}>"
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    text = json.dumps(term.value, ensure_ascii=False)  # a quoted, escaped string literal
    if term.language:
        return f"{text}@{term.language}"
    if term.datatype and term.datatype != XSD_STRING:
        return f"{text}^^<{term.datatype}>"
    return text


def _tsv(variables: list[str], rows: Sequence[Row], truncated: bool) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


_WRITERS = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}
