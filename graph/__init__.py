"""Load, validate and store the ECRN knowledge graph. Knows nothing of HTTP."""

from graph import backups, guard, harvest, ordering, writes
from graph.errors import (
    GraphError,
    NamedQueryError,
    ParseError,
    QueryError,
    QuerySyntaxError,
    QueryTimeoutError,
    QueryTooComplexError,
    RemoteAccessRefusedError,
    RemoteEndpointError,
    StoreError,
    UnrepresentableError,
    UpdateDatasetError,
    UpdateError,
    ValidationError,
)
from graph.load import LoadSummary, load_default, load_files, open_store, validate_files
from graph.named_queries import NamedQuery, Param, load_named_queries
from graph.namespaces import DEFAULT_BASE, Namespaces
from graph.pool import Job, QueryPool
from graph.store import Answer, EmbeddedStore, QueryResult, Stats, Store
from graph.terms import IRI, Literal, Term
from graph.validate import Problem, Report

__all__ = [
    "DEFAULT_BASE",
    "IRI",
    "Answer",
    "EmbeddedStore",
    "GraphError",
    "Job",
    "Literal",
    "LoadSummary",
    "NamedQuery",
    "NamedQueryError",
    "Namespaces",
    "Param",
    "ParseError",
    "Problem",
    "QueryError",
    "QueryPool",
    "QueryResult",
    "QuerySyntaxError",
    "QueryTimeoutError",
    "QueryTooComplexError",
    "RemoteAccessRefusedError",
    "RemoteEndpointError",
    "Report",
    "Stats",
    "Store",
    "StoreError",
    "Term",
    "UnrepresentableError",
    "UpdateDatasetError",
    "UpdateError",
    "ValidationError",
    "backups",
    "guard",
    "harvest",
    "load_default",
    "load_files",
    "load_named_queries",
    "open_store",
    "ordering",
    "validate_files",
    "writes",
]
