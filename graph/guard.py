"""Checks on query and update text before the engine sees it, and the protocol's dataset for updates.

pyoxigraph 0.5 crashes the whole process on a few thousand nested '{', and on a few thousand computed ORDER BY keys, so
nesting and sort keys are bounded here; SERVICE and LOAD
may only reach allowlisted endpoints; each SERVICE call brings back a capped number of rows; using-graph-uri parameters
become USING clauses.
"""

from __future__ import annotations

from graph.errors import QueryTooComplexError, RemoteAccessRefusedError, UpdateDatasetError
from graph.lexer import Token, token_list, tokens
from graph.store import is_iri

_REMOTE = {"SERVICE", "LOAD"}
_AFTER_ORDER = {"LIMIT", "OFFSET", "VALUES"}
MAX_SORT_KEYS = 256


def check(text: str, max_depth: int, allowed_endpoints: frozenset[str]) -> frozenset[str]:
    """The remote endpoints the text reaches (all allowed); QueryTooComplexError or RemoteAccessRefusedError."""
    expecting: str | None = None  # the keyword whose target comes next
    remote: set[str] = set()
    sorting, keys, previous = -1, 0, ""  # the depth of the ORDER BY clause being read, its keys so far
    for token in token_list(text):
        if token.kind == "open" and token.depth + 1 > max_depth:
            raise QueryTooComplexError(f"brackets nest deeper than {max_depth} levels")
        if token.keyword == "BY" and previous == "ORDER":
            sorting, keys = token.depth, 0
        elif token.depth < sorting or (token.depth == sorting and token.keyword in _AFTER_ORDER):
            sorting = -1
        elif token.depth == sorting and (token.kind == "open" or token.text[:1] in "?$"):
            keys += 1  # a key is a variable, or has one bracket at the clause's depth: ASC(…), (…), f(…)
            if keys > MAX_SORT_KEYS:
                raise QueryTooComplexError(f"an ORDER BY has more than {MAX_SORT_KEYS} keys")
        previous = token.keyword
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


def cap_services(text: str, cap: int) -> str:
    """The text with every SERVICE clause limited to `cap` rows, asked of the endpoint and enforced here too.

    `SERVICE <e> { P }` becomes `{ SELECT * WHERE { SERVICE <e> { SELECT * WHERE { P } LIMIT cap } } LIMIT cap }`:
    the inner LIMIT is sent to the endpoint (pyoxigraph forwards the pattern as it is), the outer one stops reading an
    endpoint that ignores it. Only outermost clauses change (a SERVICE inside one is the endpoint's to run), so the
    text nests at most 3 levels deeper. A clause the lexer cannot delimit is left as it is, for the engine to refuse.
    """
    found = list(tokens(text))
    before: dict[int, str] = {}  # token index -> text to put before the token
    after: dict[int, str] = {}
    inside = -1  # index of the closing bracket of the SERVICE clause being passed over
    for i, token in enumerate(found):
        if token.keyword != "SERVICE" or i < inside or not (span := _service_braces(found, i)):
            continue
        opening, inside = span
        before[i], after[opening] = "{ SELECT * WHERE { ", " SELECT * WHERE { "
        before[inside], after[inside] = f" }} LIMIT {cap} ", f" }} LIMIT {cap} }}"
    return _splice(text, found, before, after)


def _service_braces(found: list[Token], at: int) -> tuple[int, int] | None:
    """The indexes of the '{' and '}' around the pattern of the SERVICE keyword at `at`; None if not well-formed."""
    target = at + 2 if at + 1 < len(found) and found[at + 1].keyword == "SILENT" else at + 1
    opening = target + 1
    if opening >= len(found) or found[target].kind != "iri" or found[opening].text != "{":
        return None
    depth = found[opening].depth
    closing = next((j for j in range(opening + 1, len(found)) if found[j].kind == "close" and found[j].depth == depth),
                   None)
    return (opening, closing) if closing is not None and found[closing].text == "}" else None


def _splice(text: str, found: list[Token], before: dict[int, str], after: dict[int, str]) -> str:
    parts, done = [], 0
    for i in sorted(before.keys() | after.keys()):
        token = found[i]
        parts += [text[done:token.start], before.get(i, ""), token.text, after.get(i, "")]
        done = token.start + len(token.text)
    return "".join(parts) + text[done:]


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
