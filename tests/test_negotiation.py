"""Content negotiation is a pure function: a table of Accept headers and what they get."""

import pytest

from service.negotiation import by_format, choose, parse_accept

CASES = [
    # accept, kind, expected format (None = 406)
    (None, "select", "json"),
    ("", "select", "json"),
    ("*/*", "graph", "turtle"),
    ("application/sparql-results+xml", "select", "xml"),
    ("text/csv", "select", "csv"),
    ("text/tab-separated-values", "ask", "tsv"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "select", "xml"),
    ("text/turtle;q=0.1, application/ld+json", "graph", "jsonld"),
    ("application/rdf+xml", "graph", "rdfxml"),
    ("application/n-triples", "graph", "ntriples"),
    ("text/*", "graph", "turtle"),
    ("text/*", "select", "csv"),
    ("application/*;q=0.8, text/csv", "select", "csv"),
    ("text/turtle", "select", None),
    ("image/png", "graph", None),
    ("*/*;q=0", "select", None),
    ("*/*, application/sparql-results+json;q=0", "select", "json"),
    ("text/html, */*;q=0.1", "select", "json"),
    ("application/sparql-results+json;q=abc, text/csv;q=0.2", "select", "csv"),
]


@pytest.mark.parametrize(("accept", "kind", "expected"), CASES)
def test_choose_picks_the_best_acceptable_format(accept: str | None, kind: str, expected: str | None) -> None:
    choice = choose(accept, kind)
    assert (choice[0] if choice else None) == expected


def test_an_explicitly_refused_type_is_never_chosen() -> None:
    assert choose("*/*, application/sparql-results+json;q=0, application/json;q=0", "select") == (
        "xml", "application/sparql-results+xml")


def test_accept_ranges_are_ordered_by_quality_then_position() -> None:
    assert [r.type for r in parse_accept("a/b;q=0.5, c/d, e/f;q=0.9")] == ["c/d", "e/f", "a/b"]


@pytest.mark.parametrize(("fmt", "kind", "expected"), [
    ("csv", "select", ("csv", "text/csv")),
    ("text/turtle", "graph", ("turtle", "text/turtle")),
    ("turtle", "select", None),
    ("nonsense", "graph", None),
    ("json-ld", "graph", ("jsonld", "application/ld+json")),
    ("xml", "graph", ("rdfxml", "application/rdf+xml")),
    ("xml", "select", ("xml", "application/sparql-results+xml")),
    ("N3", "graph", ("turtle", "text/turtle")),
])
def test_format_parameter_accepts_names_and_media_types(fmt: str, kind: str, expected: object) -> None:
    assert by_format(fmt, kind) == expected


def test_a_long_accept_header_is_chosen_for_but_not_remembered() -> None:
    from service.negotiation import _remembered

    long = ", ".join(f"application/x-unknown-{n};q=0.9" for n in range(30)) + ", text/csv"
    assert len(long) > 512
    _remembered.cache_clear()
    assert choose(long, "select") == ("csv", "text/csv") == choose("text/csv", "select")
    assert _remembered.cache_info().currsize == 1  # the short one only
