"""A small SPARQL lexer: enough to find brackets, keywords and IRIs while skipping strings and comments."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

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


class Token(NamedTuple):  # a tuple: made for every token of every query, it must be cheap
    kind: str  # comment, string, iri, open, close, word, other
    text: str
    start: int
    depth: int  # bracket depth before this token
    keyword: str  # the word in upper case; "" for the other kinds


def tokens(text: str) -> Iterator[Token]:
    """The meaningful tokens of a query or update, with their position and bracket depth."""
    depth = 0
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        if kind == "close":
            depth -= 1
        value = match.group()
        yield Token(kind, value, match.start(), depth, value.upper() if kind == "word" else "")
        if kind == "open":
            depth += 1


@lru_cache(maxsize=2)  # a query of 100 kB single-character tokens makes 16 MB of them
def token_list(text: str) -> tuple[Token, ...]:
    """All the tokens of a text, kept for the last two texts: the checks and the rewrite of a query each read them."""
    return tuple(tokens(text))
