"""Named queries: headers parse, parameters are typed and bound as terms, hostile values stay values."""

from pathlib import Path

import pytest

from graph import IRI, EmbeddedStore, Literal, NamedQuery, NamedQueryError, assets, load_named_queries
from graph.named_queries import Param, parse_named_query

XSD = "http://www.w3.org/2001/XMLSchema#"
HOSTILE = ['" } ; DROP ALL ; #', "x' . ?s ?p ?o", "<http://evil.example/>", "} UNION { ?s ?p ?o", "\\u0022 }"]
QUERIES = assets.query_files()


def test_the_queries_folder_is_not_empty() -> None:
    assert QUERIES


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_every_named_query_declares_itself_and_runs_with_its_defaults(path: Path, store: EmbeddedStore) -> None:
    query = parse_named_query(path)
    assert query.summary and query.name == path.stem
    result = query.run(store, {})
    if result.kind == "graph":
        assert result.serialize("ntriples").strip(), f"{path.name} answers an empty graph on the real graph"
    else:
        assert result.kind == "select" and result.rows(), f"{path.name} returns no rows on the real graph"


def sample(param: Param) -> str | None:
    return param.example or param.default or (param.values[0] if param.values else None)


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_every_parameter_binds_and_is_echoed_in_the_results(path: Path, store: EmbeddedStore) -> None:
    query = parse_named_query(path)
    for name, param in query.params.items():
        value = sample(param)
        assert value, f"{path.name}: parameter {name} needs an example or a default"
        result = query.run(store, {name: value})  # the engine refuses a substitution it cannot make
        if result.kind == "select":
            assert name in result.variables, f"{path.name}: project ?{name} so the engine can substitute it"
            result.rows()


@pytest.mark.parametrize(("param", "raw", "term"), [
    (Param("p", "iri"), "https://w3id.org/ecrn/id/region/masovia", IRI("https://w3id.org/ecrn/id/region/masovia")),
    (Param("p", "string"), "Ústí", Literal("Ústí")),
    (Param("p", "integer"), "0042", Literal("42", XSD + "integer")),
    (Param("p", "decimal"), "1342200.00", Literal("1342200.00", XSD + "decimal")),
    (Param("p", "date"), "2010-01-01", Literal("2010-01-01", XSD + "date")),
    (Param("p", "language"), "PL", Literal("pl")),
    (Param("p", "enum", values=("planned", "adopted")), "adopted", Literal("adopted")),
])
def test_values_are_bound_as_typed_terms(param: Param, raw: str, term: object) -> None:
    assert param.bind(raw) == term


@pytest.mark.parametrize("kind", ["iri", "integer", "decimal", "date", "language"])
@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_values_are_refused_by_typed_parameters(kind: str, raw: str) -> None:
    with pytest.raises(NamedQueryError) as caught:
        Param("p", kind).bind(raw)
    assert caught.value.param == "p"


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_strings_stay_one_literal(raw: str, store: EmbeddedStore) -> None:
    before = len(store)
    echo = NamedQuery("echo", "SELECT ?p WHERE { }", "echo", params={"p": Param("p", "string")})
    assert echo.run(store, {"p": raw}).rows() == [{"p": raw}]
    assert len(store) == before


def test_hostile_enum_value_is_refused() -> None:
    transfers = load_named_queries()["transfers"]
    with pytest.raises(NamedQueryError, match="status"):
        transfers.bindings({"status": "adopted' } ; DROP ALL"})


def test_unknown_and_missing_parameters_name_the_parameter() -> None:
    query = load_named_queries()["chemclust-budget"]
    with pytest.raises(NamedQueryError) as unknown:
        query.bindings({"projekt": "x"})
    assert unknown.value.param == "projekt"
    required = NamedQuery("q", "SELECT * {}", "q", params={"need": Param("need", "string", required=True)})
    with pytest.raises(NamedQueryError) as missing:
        required.bindings({})
    assert missing.value.param == "need"


def test_a_header_without_summary_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bare.rq"
    path.write_text("#+ tags: [x]\nSELECT * {}\n", encoding="utf-8")
    with pytest.raises(NamedQueryError, match="summary"):
        parse_named_query(path)
