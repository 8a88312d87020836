"""Checks on query and update text before the engine sees it: nesting depth and remote access.

A lexer (strings, IRIs and comments skipped) finds how deeply brackets nest (pyoxigraph 0.5 crashes the whole
process on a few thousand nested '{') and which endpoints SERVICE and LOAD would reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graph.errors import QueryTooComplexError, RemoteAccessRefusedError

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
_REMOTE = {"SERVICE", "LOAD"}


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield kind, match.group()


def check(text: str, max_depth: int, allowed_endpoints: frozenset[str]) -> None:
    """Raise QueryTooComplexError or RemoteAccessRefusedError; return quietly when the text may run."""
    depth = deepest = 0
    expecting: str | None = None  # the keyword whose target comes next
    for kind, value in _tokens(text):
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > max_depth:
                raise QueryTooComplexError(f"brackets nest deeper than {max_depth} levels")
        elif kind == "close":
            depth -= 1
        if expecting and not (kind == "word" and value.upper() == "SILENT"):
            _check_target(expecting, kind, value, allowed_endpoints)
            expecting = None
        elif kind == "word" and value.upper() in _REMOTE:
            expecting = value.upper()


def _check_target(keyword: str, kind: str, value: str, allowed: frozenset[str]) -> None:
    if kind != "iri":
        raise RemoteAccessRefusedError(f"{keyword} needs the full IRI of an allowed endpoint, not {value!r}")
    endpoint = value[1:-1]
    if endpoint not in allowed:
        raise RemoteAccessRefusedError(f"{keyword} to <{endpoint}> is not allowed on this server")
