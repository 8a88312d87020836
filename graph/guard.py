"""Checks on query and update text before the engine sees it, and the protocol's dataset for updates.

pyoxigraph 0.5 crashes the whole process on a few thousand nested '{', so nesting is bounded here; SERVICE and LOAD
may only reach allowlisted endpoints; using-graph-uri parameters become USING clauses.
"""

from __future__ import annotations

from graph.errors import QueryTooComplexError, RemoteAccessRefusedError, UpdateDatasetError
from graph.lexer import Token, tokens
from graph.store import is_iri

_REMOTE = {"SERVICE", "LOAD"}


def check(text: str, max_depth: int, allowed_endpoints: frozenset[str]) -> frozenset[str]:
    """The remote endpoints the text reaches (all allowed); QueryTooComplexError or RemoteAccessRefusedError."""
    expecting: str | None = None  # the keyword whose target comes next
    remote: set[str] = set()
    for token in tokens(text):
        if token.kind == "open" and token.depth + 1 > max_depth:
            raise QueryTooComplexError(f"brackets nest deeper than {max_depth} levels")
        if expecting and token.keyword != "SILENT":
            remote.add(_check_target(expecting, token, allowed_endpoints))
            expecting = None
        elif token.keyword in _REMOTE:
            expecting = token.keyword
    return frozenset(remote)


def _check_target(keyword: str, token: Token, allowed: frozenset[str]) -> str:
    if token.kind != "iri":
        raise RemoteAccessRefusedError(f"{keyword} needs the full IRI of an allowed endpoint, not {token.text!r}")
    endpoint = token.text[1:-1]
    if endpoint not in allowed:
        raise RemoteAccessRefusedError(f"{keyword} to <{endpoint}> is not allowed on this server")
    return endpoint


def with_using(text: str, default_graphs: list[str], named_graphs: list[str]) -> str:
    """The update with USING / USING NAMED clauses for the protocol's using-graph-uri parameters.

    The clauses go before the WHERE of every DELETE/INSERT operation; an update that names its own dataset
    (USING or WITH) cannot also take protocol parameters.
    """
    if not default_graphs and not named_graphs:
        return text
    for iri in default_graphs + named_graphs:
        if not is_iri(iri):
            raise UpdateDatasetError(f"not an absolute IRI: {iri!r}")
    clauses = "".join(f"USING <{g}> " for g in default_graphs) + "".join(f"USING NAMED <{g}> " for g in named_graphs)
    found = list(tokens(text))
    if any(t.keyword in ("USING", "WITH") and t.depth == 0 for t in found):
        raise UpdateDatasetError("the update names its dataset (USING or WITH) and the request does too")
    inserts = [t.start for i, t in enumerate(found)
               if t.keyword == "WHERE" and t.depth == 0 and not (i and found[i - 1].keyword == "DELETE")]
    for start in reversed(inserts):
        text = text[:start] + clauses + text[start:]
    return text
