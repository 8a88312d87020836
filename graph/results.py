"""What the engine's results writers do not do: say in a JSON body that the row cap cut the answer short; write
SPARQL XML results only when XML 1.0 can hold them (the engine would write ill-formed XML); quote a CSV field that holds
an IRI with a comma (the engine leaves IRIs unquoted).
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


def mark_truncated(body: bytes) -> bytes:
    """A JSON results document that also says, in its head and body, that rows were left out."""
    document = json.loads(body)
    document["head"]["link"] = [TRUNCATED_LINK]
    document["truncated"] = True
    return json.dumps(document, ensure_ascii=False).encode()


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


def write(fmt: str, variables: list[str], rows: Sequence[Row], truncated: bool) -> bytes:
    """SPARQL XML or CSV results of `rows`."""
    return _WRITERS[fmt](variables, rows, truncated)


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


_WRITERS = {"xml": _xml, "csv": _csv}
