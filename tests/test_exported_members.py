"""The public API of the graph package is a contract: changing it is a decision, not an accident."""

import graph


def test_graph_exports_exactly_the_documented_members() -> None:
    assert sorted(graph.__all__) == sorted([
        "DEFAULT_BASE", "IRI", "Answer", "EmbeddedStore", "GraphError", "Job", "Literal", "LoadSummary",
        "NamedQuery", "NamedQueryError", "Namespaces", "Param", "ParseError", "Problem", "QueryError", "QueryPool",
        "QueryResult", "QuerySyntaxError", "QueryTimeoutError", "QueryTooComplexError", "RemoteAccessRefusedError",
        "RemoteEndpointError",
        "Report", "Stats", "Store", "StoreError", "Term", "UnrepresentableError", "UpdateDatasetError", "UpdateError",
        "ValidationError", "backups", "guard", "harvest", "load_default", "load_files",
        "load_named_queries", "open_store", "ordering", "validate_files", "writes",
    ])
    for name in graph.__all__:
        assert hasattr(graph, name), name
