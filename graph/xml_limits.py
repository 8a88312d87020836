"""What XML 1.0 cannot carry, for the formats written as XML (RDF/XML, SPARQL XML results).

XML 1.0 has no way to write most C0 control characters, U+FFFE or U+FFFF, not even as character references; RDF/XML
writes a predicate as an element name, so a predicate IRI must end in an XML local name (an NCName). An answer with
either is refused with UnrepresentableError rather than sent as ill-formed XML. A carriage return must be written as
`&#13;`: a parser reads a literal one as a line end.
"""

from __future__ import annotations

import re

from graph.errors import UnrepresentableError

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_START = ("A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d\u2070-\u218f"
          "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
LOCAL_NAME = re.compile(f"[{_START}][{_START}\\-.0-9\u00b7\u0300-\u036f\u203f\u2040]*$")
OTHER_FORMATS = "ask for JSON, Turtle or N-Triples instead"


def check_text(value: str, fmt: str) -> None:
    """Raise UnrepresentableError when `value` holds a character XML 1.0 cannot write."""
    found = FORBIDDEN.search(value)
    if found:
        raise UnrepresentableError(f"{fmt} is XML 1.0, which cannot hold the character U+{ord(found.group()):04X} "
                                   f"of a literal in this answer; {OTHER_FORMATS}")


def check_predicate(iri: str) -> None:
    """Raise UnrepresentableError when RDF/XML cannot write `iri` as a predicate (no XML local name at its end)."""
    if not LOCAL_NAME.search(iri):
        raise UnrepresentableError(f"RDF/XML cannot write the predicate <{iri}>: it does not end in an XML name; "
                                   f"{OTHER_FORMATS}")
