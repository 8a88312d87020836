"""Named queries: queries/*.rq files whose '#+' YAML header declares a summary and typed parameters.

Parameters are bound as RDF terms through the engine's substitutions, never spliced into the text. The engine
substitutes only projected variables, so every parameter's variable appears in the SELECT clause; an optional
parameter is tested with COALESCE(test, true), since BOUND() does not see a substituted value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from graph import assets
from graph.errors import NamedQueryError
from graph.lexer import tokens
from graph.namespaces import STANDARD_PREFIXES, Namespaces
from graph.pool import Job
from graph.store import QueryResult, Store, is_iri
from graph.terms import IRI, Literal, Term

XSD = STANDARD_PREFIXES["xsd"]
PARAM_TYPES = ("iri", "string", "integer", "decimal", "date", "language", "enum")
_LANGUAGE = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"
    required: bool = False
    default: str | None = None
    example: str | None = None
    description: str = ""
    values: tuple[str, ...] = ()

    def bind(self, raw: str) -> Term:
        """The RDF term for a raw value, or NamedQueryError naming this parameter."""
        try:
            return _BINDERS[self.type](self, raw)
        except (ValueError, InvalidOperation):
            raise NamedQueryError(f"parameter '{self.name}' must be a valid {self.type}: {raw!r}", self.name) from None


def _enum(param: Param, raw: str) -> Term:
    if raw not in param.values:
        raise ValueError(raw)
    return Literal(raw)


def _iri(raw: str) -> str:
    if not is_iri(raw):
        raise ValueError(raw)
    return raw


def _checked(pattern: re.Pattern[str], raw: str) -> str:
    if not pattern.match(raw):
        raise ValueError(raw)
    return raw


_BINDERS: dict[str, Callable[[Param, str], Term]] = {
    "iri": lambda p, raw: IRI(_iri(raw)),
    "string": lambda p, raw: Literal(raw),
    "integer": lambda p, raw: Literal(str(int(raw)), XSD + "integer"),
    "decimal": lambda p, raw: Literal(str(Decimal(raw)), XSD + "decimal"),
    "date": lambda p, raw: Literal(date.fromisoformat(raw).isoformat(), XSD + "date"),
    "language": lambda p, raw: Literal(_checked(_LANGUAGE, raw).lower()),
    "enum": _enum,
}


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: dict[str, Param] = field(default_factory=dict)

    def bindings(self, args: dict[str, str]) -> dict[str, Term]:
        unknown = sorted(set(args) - set(self.params))
        if unknown:
            raise NamedQueryError(f"unknown parameter '{unknown[0]}' for query '{self.name}'", unknown[0])
        bound = {}
        for name, param in self.params.items():
            raw = args.get(name, param.default)
            if raw is None and param.required:
                raise NamedQueryError(f"missing required parameter '{name}'", name)
            if raw is not None:
                bound[name] = param.bind(raw)
        return bound

    def run(self, store: Store, args: dict[str, str], ns: Namespaces | None = None) -> QueryResult:
        substitutions = self.bindings(args)
        return store.query((ns or Namespaces()).rebase(self.text), substitutions=substitutions)

    def job(self, args: dict[str, str], ns: Namespaces, cap: int) -> Job:
        """The query with its parameters bound, for the worker pool; SELECT answers as SPARQL JSON, graphs as
        N-Triples."""
        return Job(ns.rebase(self.text), {"select": "json", "ask": "json", "graph": "ntriples"}, cap,
                   substitutions=self.bindings(args))

    def plain(self, ns: Namespaces | None = None) -> str:
        """The query as plain SPARQL that answers as the operation does without arguments: the summary as a comment
        instead of the header, and each default (or a required parameter's example) in a VALUES block that opens
        the WHERE clause, since a plain query has no substitutions."""
        body = "\n".join(line for line in self.text.splitlines() if not line.startswith("#+"))
        text = f"# {' '.join(self.summary.split())}\n{body}"
        values = {n: p.default or (p.example if p.required else None) for n, p in self.params.items()}
        bound = {name: self.params[name].bind(raw) for name, raw in values.items() if raw is not None}
        return (ns or Namespaces()).rebase(with_values(text, bound, self.name) if bound else text)


def with_values(text: str, bound: dict[str, Term], name: str) -> str:
    """`text` with a VALUES block of `bound` just inside the '{' of its WHERE clause."""
    block = f"VALUES ({' '.join('?' + v for v in bound)}) {{ ({' '.join(map(_sparql, bound.values()))}) }}"
    found = with_block(text, block)
    if found is None:
        raise NamedQueryError(f"{name}: no 'WHERE {{' to bind the parameters' defaults in")
    return found


def with_block(text: str, block: str) -> str | None:
    """`text` with `block` just inside the '{' of its WHERE clause; None when it has no 'WHERE {'."""
    for where, after in pairwise(tokens(text)):
        if where.keyword == "WHERE" and where.depth == 0 and after.text == "{":
            return f"{text[:after.start + 1]}\n  {block}{text[after.start + 1:]}"
    return None


_CLAUSE_ENDS = frozenset({"WHERE", "HAVING", "LIMIT", "OFFSET", "VALUES", "FROM"})


def substituted(text: str, bound: dict[str, Term]) -> str:
    """`text` with each bound variable replaced by its term, as the engine's substitutions do, for a store that
    takes plain SPARQL: in a projection `?v` becomes `(term AS ?v)`, so the answer still binds it, and in GROUP BY
    and ORDER BY `(term)`, as their grammar asks."""
    out: list[str] = []
    end, clause, depth = 0, "", -1  # the clause (and its depth) where a bare variable needs more than its term
    for token in tokens(text):
        if token.keyword == "SELECT":
            clause, depth = "projection", token.depth
        elif token.keyword in ("GROUP", "ORDER"):
            clause, depth = "modifier", token.depth
        elif token.keyword in _CLAUSE_ENDS or token.text in "{}":
            clause = ""
        name = token.text[1:] if token.kind == "word" and token.text[:1] in "?$" else None
        if name in bound:
            term = _sparql(bound[name])
            if clause and token.depth == depth:
                term = f"({term} AS {token.text})" if clause == "projection" else f"({term})"
            out += [text[end:token.start], term]
            end = token.start + len(token.text)
    return "".join([*out, text[end:]])


def _sparql(term: Term) -> str:
    """A term in SPARQL syntax; a JSON string is a valid SPARQL string literal."""
    if isinstance(term, IRI):
        return f"<{term.value}>"
    assert isinstance(term, Literal), "parameters bind IRIs and literals only"
    text = json.dumps(term.value, ensure_ascii=False)
    if term.language:
        return f"{text}@{term.language}"
    return f"{text}^^<{term.datatype}>" if term.datatype else text


def parse_named_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line[2:] for line in text.splitlines() if line.startswith("#+"))
    meta: dict[str, Any] = yaml.safe_load(header) or {}
    if "summary" not in meta:
        raise NamedQueryError(f"{path.name}: the '#+' header needs a summary")
    params = {name: _param(name, spec or {}) for name, spec in (meta.get("params") or {}).items()}
    return NamedQuery(path.stem, text, meta["summary"], meta.get("description", ""),
                      tuple(meta.get("tags", ())), params)


def _param(name: str, spec: dict[str, Any]) -> Param:
    kind = spec.get("type", "string")
    if kind not in PARAM_TYPES:
        raise NamedQueryError(f"parameter '{name}' has unknown type {kind!r}", name)

    def text(key: str) -> str | None:
        return None if spec.get(key) is None else str(spec[key])

    return Param(name, kind, bool(spec.get("required", False)), text("default"), text("example"),
                 spec.get("description", ""), tuple(str(v) for v in spec.get("values", ())))


def load_named_queries(paths: list[Path] | None = None) -> dict[str, NamedQuery]:
    """Every named query by name (the file stem)."""
    return {q.name: q for q in map(parse_named_query, assets.query_files() if paths is None else paths)}
