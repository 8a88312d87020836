"""A small SPARQL lexer: enough to find brackets, keywords and IRIs while skipping strings and comments."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_TOKENS = re.compile(
    r'''(?P<comment>\#[^\n]*)
      | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
                    |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\s]*>)
      | (?P<open>[{(\[])
      | (?P<close>[})\]])
      | (?P<word>[A-Za-z_][\w-]*(?::[\w.-]*)?|:[\w.-]*|[?$]\w+)
      | (?P<space>\s+)
      | (?P<other>.)''',
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # comment, string, iri, open, close, word, other
    text: str
    start: int
    depth: int  # bracket depth before this token

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def tokens(text: str) -> Iterator[Token]:
    """The meaningful tokens of a query or update, with their position and bracket depth."""
    depth = 0
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        if kind == "close":
            depth -= 1
        yield Token(kind, match.group(), match.start(), depth)
        if kind == "open":
            depth += 1
