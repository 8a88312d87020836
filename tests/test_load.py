"""Loading: one graph per file, atomic failure with a position, entailments, rebasing, instant reopen."""

import itertools
from pathlib import Path

import pytest

import graph.load
from graph import EmbeddedStore, Namespaces, ParseError, ValidationError, load_files, open_store
from tests.conftest import TEST_DATA

ORG = "http://www.w3.org/ns/org#"
TINY = "https://w3id.org/ecrn/graph/tests/data/tiny"


@pytest.fixture
def tiny() -> EmbeddedStore:
    store = EmbeddedStore()
    load_files(store, [TEST_DATA / "tiny.ttl"])
    return store


def test_each_file_gets_its_own_named_graph(tiny: EmbeddedStore) -> None:
    graphs = tiny.stats().triples_per_graph
    assert graphs[TINY] == 8
    assert "https://w3id.org/ecrn/graph/ontology/ecrn" in graphs


def test_a_superclass_query_finds_entailed_instances(tiny: EmbeddedStore) -> None:
    rows = tiny.query(f"SELECT ?o WHERE {{ ?o a <{ORG}Organization> }}").rows()
    assert rows == [{"o": "https://w3id.org/ecrn/id/organisation/tiny-agency"}]


def test_entailments_live_in_their_own_graph(tiny: EmbeddedStore) -> None:
    asserted = tiny.query(f"ASK {{ ?o a <{ORG}Organization> }}", union=False).boolean
    entailed = tiny.query(f"ASK {{ GRAPH <https://w3id.org/ecrn/graph/entailments> {{ ?o a <{ORG}Organization> }} }}",
                          union=False).boolean
    assert (asserted, entailed) == (False, True)


def test_malformed_turtle_names_file_line_and_column_and_changes_nothing(tiny: EmbeddedStore) -> None:
    before = tiny.checksum()
    with pytest.raises(ParseError) as caught:
        load_files(tiny, [TEST_DATA / "tiny.ttl", TEST_DATA / "malformed.ttl"])
    assert caught.value.source.endswith("malformed.ttl")
    assert (caught.value.line, caught.value.column) == (6, 22)
    assert "malformed.ttl:6:22" in str(caught.value)
    assert tiny.checksum() == before


def test_data_that_breaks_the_shapes_is_refused_and_changes_nothing(tiny: EmbeddedStore) -> None:
    before = tiny.checksum()
    with pytest.raises(ValidationError) as caught:
        load_files(tiny, [TEST_DATA / "breaks-shapes.ttl"])
    assert any("target region" in p.message for p in caught.value.problems)
    assert any(f.endswith("breaks-shapes.ttl") for p in caught.value.problems for f in p.files)
    assert tiny.checksum() == before


def test_reloading_a_file_replaces_its_graph(tiny: EmbeddedStore) -> None:
    quads = len(tiny)
    load_files(tiny, [TEST_DATA / "tiny.ttl"])
    assert len(tiny) == quads
    assert tiny.stats().triples_per_graph[TINY] == 8


def test_n_quads_files_load_into_their_own_graph(tiny: EmbeddedStore) -> None:
    load_files(tiny, [TEST_DATA / "quads.nq"])
    label = "<https://w3id.org/ecrn/id/region/quad-region> <http://www.w3.org/2000/01/rdf-schema#label> ?o"
    rows = tiny.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ {label} }} }}", union=False).rows()
    assert rows == [{"g": "https://w3id.org/ecrn/graph/tests/data/quads"}]
    assert tiny.stats().triples_per_graph[TINY] == 8


@pytest.mark.parametrize("name", ["formats.jsonld", "formats.trig", "formats.nt", "quads.nq"])
def test_every_rdf_file_format_loads(name: str) -> None:
    store = EmbeddedStore()
    summary = load_files(store, [TEST_DATA / name])
    assert summary.triples_per_file[f"tests/data/{name}"] == 3
    assert store.query("SELECT ?r WHERE { ?r a <https://w3id.org/ecrn/def/Region> }").rows()


def test_a_configured_base_rebases_every_minted_iri() -> None:
    store = EmbeddedStore()
    load_files(store, [TEST_DATA / "tiny.ttl"], base="https://kg.example.org/")
    ns = Namespaces("https://kg.example.org/")
    agency = "<https://kg.example.org/id/organisation/tiny-agency>"
    assert store.query(f"ASK {{ {agency} a <https://kg.example.org/def/DevelopmentAgency> }}").boolean
    assert not store.query("ASK { ?s ?p ?o FILTER(STRSTARTS(STR(?s), 'https://w3id.org/ecrn/')) }").boolean
    assert store.has_graph(ns.meta_graph)


def test_an_on_disk_store_reopens_without_loading_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = open_store(tmp_path / "store")
    quads = len(first)
    del first

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("reopening must not load or validate again")

    monkeypatch.setattr(graph.load, "load_files", refuse)
    reopened = open_store(tmp_path / "store")
    assert len(reopened) == quads > 0


def test_a_missing_file_is_a_parse_error_naming_it() -> None:
    with pytest.raises(ParseError, match=r"no-such-file\.ttl"):
        load_files(EmbeddedStore(), [TEST_DATA / "no-such-file.ttl"])


def test_a_store_in_memory_holds_each_subjects_quads_one_after_another(store: EmbeddedStore) -> None:
    """The engine walks a subject's quads faster when they were stored side by side (graph/store.py): the asserted
    ones, their entailments and the ontology's statements about the same term."""
    subjects = [quad.subject for quad in store.quads_except(())]
    runs = 1 + sum(a != b for a, b in itertools.pairwise(subjects))
    assert len(subjects) > 5_000
    assert runs == len(set(subjects))
