"""The errors of the graph package; every one derives from GraphError.

GraphError
├── ParseError          a file or request body is not valid RDF (file, line, column)
├── ValidationError     data breaks the SHACL shapes or a *-violation.rq check
├── QuerySyntaxError    a SPARQL query or update does not parse (message with position)
├── QueryError          a query or update is valid but fails while running
│   ├── QueryTimeoutError   it ran past its time limit and was stopped
│   ├── RemoteEndpointError a SERVICE endpoint failed (its answer is never passed on)
│   └── UpdateError         an update's operation fails (a graph that exists already, …): nothing changed
├── QueryTooComplexError  a query nests too deeply to be parsed safely
├── RemoteAccessRefusedError  SERVICE or LOAD towards an endpoint not on the allowlist
├── UpdateDatasetError  the protocol's using-graph-uri clashes with the update's own USING/WITH
├── NamedQueryError     a named query is unknown, or its parameters are missing or ill-typed
├── UnrepresentableError  an answer that the format asked for cannot carry (XML 1.0 and a control character, …)
├── HarvestError        a harvest that cannot be done (an unknown recipe, a refused query, no cache): nothing changed
│   └── EndpointUnavailableError  its endpoint cannot be reached, fails or answers what cannot be read
└── StoreError          the store cannot be opened, read or written
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.validate import Problem


class GraphError(Exception):
    """Root of the graph package's errors."""


@dataclass
class ParseError(GraphError):
    """RDF that does not parse; `source` is a file name relative to the assets or a request label."""

    source: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.column}" if self.line else self.source
        return f"{where}: {self.message}"


class ValidationError(GraphError):
    """Data that breaks the shapes or checks; `problems` holds every violation."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} violation(s)")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class QuerySyntaxError(GraphError):
    """A query or update that does not parse; the message is the parser's, with its position."""


class QueryError(GraphError):
    """A query or update that fails while it runs."""


class QueryTimeoutError(QueryError):
    """A query stopped at its time limit (or that found no free worker before it); `worker_seconds` is the time a
    worker spent on it (0 when it found none)."""

    def __init__(self, message: str, worker_seconds: float = 0.0) -> None:
        super().__init__(message)
        self.worker_seconds = worker_seconds


class RemoteEndpointError(QueryError):
    """A query that reaches a remote endpoint failed; what the endpoint said is not passed on."""


class UpdateError(QueryError):
    """An update operation that fails on the store's current state; the whole update changed nothing."""


class QueryTooComplexError(GraphError):
    """A query or update that nests brackets too deeply to be parsed safely."""


class RemoteAccessRefusedError(GraphError):
    """SERVICE or LOAD towards an endpoint that is not on the allowlist; refused before anything runs."""


class UpdateDatasetError(GraphError):
    """using-graph-uri parameters that are not IRIs, or that clash with the update's own USING or WITH."""


class NamedQueryError(GraphError):
    """An unknown named query, or a missing, unknown or ill-typed parameter."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class UnrepresentableError(GraphError):
    """An answer that the chosen format cannot carry by its specification; another format can."""


class StoreError(GraphError):
    """The store cannot be opened, read or written."""


class HarvestError(GraphError):
    """A harvest that cannot be done (an unknown recipe, a refused query, a failure with no cache): nothing changed."""


class EndpointUnavailableError(HarvestError):
    """An endpoint that cannot be reached, times out, fails (5xx) or answers what cannot be read."""
