"""Engine-neutral RDF terms, used to bind named-query parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass

ABSOLUTE_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


@dataclass(frozen=True)
class IRI:
    value: str


@dataclass(frozen=True)
class Literal:
    value: str
    datatype: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class BlankNode:
    value: str


Term = IRI | Literal | BlankNode
