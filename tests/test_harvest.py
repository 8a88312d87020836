"""`ecrn-kg harvest` against a real local SPARQL endpoint (Oxigraph): graphs, provenance, replacement and the cache."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from rdflib.plugins.sparql import prepareQuery
from typer.testing import CliRunner, Result

from graph import EmbeddedStore, Namespaces, assets
from graph.errors import HarvestError
from graph.harvest import RECIPES, Recipe, cache_for, graph_of, harvest, recipes
from service.__main__ import cli
from tests.conftest import free_port
from tests.oxigraph_server import oxigraph_server

NS = Namespaces()
PREFIXES = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX eurio: <http://data.europa.eu/s66#> PREFIX ecrn: <https://w3id.org/ecrn/def/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
NUTS_CODE = "http://data.europa.eu/nuts/code/"
CHEMCLUST = "https://w3id.org/ecrn/id/project/chemclust"

# What the endpoint holds for the nuts recipe: the EU NUTS IRIs that data/nuts.ttl matches, with the codes, names and
# parents data/nuts.ttl gives their units, so it is as true as our data.
NUTS_FROM_OUR_DATA = PREFIXES + """CONSTRUCT {
  ?code skos:prefLabel ?label ; skos:notation ?notation ; skos:broader ?up }
WHERE { ?unit a ecrn:NutsUnit ; skos:closeMatch ?code ; skos:notation ?notation ; skos:prefLabel ?label .
        OPTIONAL { ?unit skos:broader/skos:closeMatch ?up } }"""

# Test fixture, not facts: the item, record and unit IRIs under example.org are made up, so nothing here claims what
# Wikidata or CORDIS hold. The NUTS codes and ChemClust's title (in another case) are those of data/.
FIXTURE = """@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix eurio: <http://data.europa.eu/s66#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://example.org/fixture/item/saxony-anhalt> wdt:P605 "DEE" .
<http://example.org/fixture/item/unknown> wdt:P605 "ZZ9" .
<http://example.org/fixture/nuts/ZZ9> skos:prefLabel "a unit no region of ours has" ; skos:notation "ZZ9" .
<http://example.org/fixture/record/chemclust> a eurio:Project ; eurio:acronym "ChemClust" ;
    eurio:title "Improving innovation capacity in European chemical clusters" .
<http://example.org/fixture/record/other> a eurio:Project ; eurio:title "A project that is none of ours" .
"""


@pytest.fixture(scope="module")
def reference(store: EmbeddedStore) -> bytes:
    """The endpoint's data: NUTS units from our data, and the fixture."""
    return store.query(NUTS_FROM_OUR_DATA).serialize("turtle") + FIXTURE.encode()


@pytest.fixture(scope="module")
def loaded(store: EmbeddedStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An on-disk store holding the loaded graph, to copy for each test."""
    path = tmp_path_factory.mktemp("harvest") / "store"
    disk = EmbeddedStore(path)
    disk.fill_from(store)
    disk.flush()
    disk.close()
    return path


@pytest.fixture
def target(loaded: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(loaded, tmp_path / "store"))


@pytest.fixture
def memory(store: EmbeddedStore) -> EmbeddedStore:
    copy = EmbeddedStore()
    copy.fill_from(store)
    return copy


@contextmanager
def endpoint(location: Path, data: bytes) -> Iterator[str]:
    """A real Oxigraph server holding `data`; yield its query endpoint."""
    with oxigraph_server(location) as url:
        posted = httpx.post(f"{url}/store", params={"graph": "urn:x-test:reference"}, content=data,
                            headers={"content-type": "text/turtle"})
        assert posted.status_code in (201, 204), posted.text
        yield f"{url}/query"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["harvest", *args])


@contextmanager
def opened(path: Path) -> Iterator[EmbeddedStore]:
    disk = EmbeddedStore(path)
    try:
        yield disk
    finally:
        disk.close()


def ask(disk: EmbeddedStore, query: str) -> bool:
    return disk.query(PREFIXES + query).boolean


def count(disk: EmbeddedStore, query: str) -> int:
    return int(disk.query(PREFIXES + query).rows()[0]["n"])


def rest(disk: EmbeddedStore) -> tuple[str, int]:
    """A checksum of every graph but the harvests, the entailments and the meta graph, and the entailments' size."""
    other = EmbeddedStore()
    other.copy_from(disk, graphs=[graph_of(name, NS) for name in recipes()] + [NS.entailment_graph, NS.meta_graph])
    entailed = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{NS.entailment_graph}> {{ ?s ?p ?o }} }}"
    return other.checksum(), count(disk, entailed)


def test_the_recipes_are_found_and_are_not_named_queries() -> None:
    assert set(recipes()) == {"eurio", "nuts", "wikidata"}
    assert not {p.resolve() for p in RECIPES.glob("*.rq")} & {p.resolve() for p in assets.query_files()}


@pytest.mark.parametrize("name", sorted(recipes()))
def test_a_recipe_is_sparql_1_1_with_and_without_its_values(name: str, store: EmbeddedStore) -> None:
    recipe = recipes()[name]
    for text in (recipe.text, recipe.values, recipe.query(store, NS)):
        prepareQuery(text)  # rdflib's parser, and the engine's
        EmbeddedStore().query(text)
    sent = recipe.query(store, NS)
    assert "VALUES (" in sent and "UNDEF" not in sent


def test_a_hostile_title_is_bound_as_a_literal_not_spliced_into_the_query() -> None:
    hostile = 'x") } } DROP ALL ; # \\ \n'
    local = EmbeddedStore()
    local.update(f"""{PREFIXES} INSERT DATA {{ GRAPH <urn:x-test:ours> {{ <{CHEMCLUST}> a ecrn:Project ;
        dcterms:title {json.dumps(hostile)} }} GRAPH <urn:x-test:theirs> {{ <urn:x-test:record> a eurio:Project ;
        eurio:title {json.dumps(hostile.upper())} }} }}""")
    sent = recipes()["eurio"].query(local, NS)
    prepareQuery(sent)
    answer = local.query(sent).serialize("ntriples").decode()
    assert f"<urn:x-test:record> <http://www.w3.org/2002/07/owl#sameAs> <{CHEMCLUST}>" in answer


@pytest.mark.slow
def test_harvest_fills_one_graph_per_recipe_with_provenance_and_leaves_the_rest(
        target: Path, reference: bytes, tmp_path: Path) -> None:
    with opened(target) as disk:
        before = rest(disk)
    with endpoint(tmp_path / "endpoint", reference) as url:
        result = run("--store", str(target), "--endpoint", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("harvested 3 recipes, ") and "(3 live, 0 from the cache)" in result.stdout
    assert f"harvested nuts from {url}: " in result.stderr
    nuts, wikidata, eurio = (graph_of(name, NS) for name in ("nuts", "wikidata", "eurio"))
    with opened(target) as disk:
        assert ask(disk, f"""ASK {{ GRAPH <{nuts}> {{ <{NUTS_CODE}DEE> skos:prefLabel "Sachsen-Anhalt"@de ;
            skos:notation "DEE" . <{NUTS_CODE}DEE0> skos:broader <{NUTS_CODE}DEE> .
            <{NUTS_CODE}ES12> skos:broader <{NUTS_CODE}ES1> . <{NUTS_CODE}ES1> skos:notation "ES1" }} }}""")
        assert ask(disk, f"""ASK {{ GRAPH <{wikidata}> {{
            <{NUTS_CODE}DEE> owl:sameAs <http://example.org/fixture/item/saxony-anhalt> }} }}""")
        assert ask(disk, f"""ASK {{ GRAPH <{eurio}> {{ <http://example.org/fixture/record/chemclust> owl:sameAs
            <{CHEMCLUST}> ; eurio:acronym "ChemClust" }} }}""")
        assert not ask(disk, """ASK { { ?s ?p ?o } UNION { ?o ?p ?s } FILTER(?s IN (
            <http://example.org/fixture/nuts/ZZ9>, <http://example.org/fixture/item/unknown>,
            <http://example.org/fixture/record/other>)) }""")
        for graph in (nuts, wikidata, eurio):
            assert ask(disk, f"""ASK {{ GRAPH <{graph}> {{ <{graph}> dcterms:source <{url}> ;
                prov:wasGeneratedBy ?harvest . ?harvest a prov:Activity ; prov:used <{url}>, ?query ;
                prov:startedAtTime ?start ; prov:endedAtTime ?end . ?query prov:value ?text
                FILTER(DATATYPE(?end) = xsd:dateTime && ?start <= ?end && CONTAINS(?text, "VALUES")) }} }}""")
        assert rest(disk) == before
    assert {p.name for p in cache_for(target).iterdir()} == {"eurio.ttl", "nuts.ttl", "wikidata.ttl"}


@pytest.mark.slow
def test_a_second_harvest_replaces_the_first(target: Path, reference: bytes, tmp_path: Path) -> None:
    nuts = graph_of("nuts", NS)
    triples = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{nuts}> {{ ?s ?p ?o }} }}"
    with endpoint(tmp_path / "endpoint", reference) as url:
        assert run("nuts", "--store", str(target), "--endpoint", url).exit_code == 0
        with opened(target) as disk:
            first = count(disk, triples)
        gone = f"{PREFIXES}DELETE WHERE {{ GRAPH ?g {{ <{NUTS_CODE}DEE> skos:notation ?n }} }}"
        deleted = httpx.post(url.replace("/query", "/update"), content=gone,
                             headers={"content-type": "application/sparql-update"})
        assert deleted.status_code == 204, deleted.text
        assert run("nuts", "--store", str(target), "--endpoint", url).exit_code == 0
    with opened(target) as disk:
        assert count(disk, triples) == first - 1
        assert count(disk, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{nuts}> prov:wasGeneratedBy ?a }}") == 1
        assert not ask(disk, f"ASK {{ <{NUTS_CODE}DEE> skos:notation ?n }}")


@pytest.mark.slow
def test_with_the_endpoint_stopped_the_cached_harvest_is_loaded_and_said_so(
        target: Path, loaded: Path, reference: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with endpoint(tmp_path / "endpoint", reference) as url:
        assert run("wikidata", "--store", str(target), "--endpoint", url, "--cache", str(cache)).exit_code == 0
    fresh = Path(shutil.copytree(loaded, tmp_path / "fresh"))
    result = run("wikidata", "--store", str(fresh), "--endpoint", url, "--cache", str(cache))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"warning: wikidata: {url} cannot be reached")
    assert "out of the cache" in result.stderr and "(0 live, 1 from the cache)" in result.stdout
    wikidata = graph_of("wikidata", NS)
    harvested = f"""SELECT ?end WHERE {{ GRAPH <{wikidata}> {{
        <{NUTS_CODE}DEE> owl:sameAs <http://example.org/fixture/item/saxony-anhalt> .
        <{wikidata}> dcterms:source <{url}> ; prov:wasGeneratedBy/prov:endedAtTime ?end }} }}"""
    with opened(target) as live, opened(fresh) as cached:
        assert live.query(PREFIXES + harvested).rows() == cached.query(PREFIXES + harvested).rows() != []


@pytest.mark.slow
def test_with_neither_endpoint_nor_cache_harvest_fails_and_changes_nothing(target: Path, tmp_path: Path) -> None:
    with opened(target) as disk:
        before = disk.checksum()
    dead = f"http://127.0.0.1:{free_port()}/query"
    result = run("nuts", "--store", str(target), "--endpoint", dead, "--cache", str(tmp_path / "cache"))
    assert result.exit_code == 1 and isinstance(result.exception, HarvestError)
    message = str(result.exception)
    assert message.startswith(f"nuts: {dead} cannot be reached") and "no cached harvest" in message
    with opened(target) as disk:
        assert disk.checksum() == before
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_a_query_the_endpoint_rejects_is_an_error_and_changes_nothing(
        memory: EmbeddedStore, reference: bytes, tmp_path: Path) -> None:
    broken = Recipe("broken", "a query with a syntax error", "http://unused.example/", "SELECT ?x WHERE { }",
                    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p }")
    before = memory.checksum()
    with (endpoint(tmp_path / "endpoint", reference) as url,
          pytest.raises(HarvestError, match=f"^{re.escape(url)} refused the query: error at ")):
        harvest(memory, [broken], NS, tmp_path / "cache", url)
    assert memory.checksum() == before and not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_an_answer_about_our_own_iris_is_refused(memory: EmbeddedStore, reference: bytes, tmp_path: Path) -> None:
    claims = Recipe("claims", "a recipe that claims things about our region", "http://unused.example/",
                    "SELECT ?x WHERE { }", f"CONSTRUCT {{ <{NS.base}id/region/masovia> ?p ?o }} WHERE {{ ?s ?p ?o }}")
    before = memory.checksum()
    with (endpoint(tmp_path / "endpoint", reference) as url,
          pytest.raises(HarvestError, match="about this graph's own IRIs")):
        harvest(memory, [claims], NS, tmp_path / "cache", url)
    assert memory.checksum() == before


def test_an_unknown_recipe_is_an_error(tmp_path: Path) -> None:
    result = run("nust", "--store", str(tmp_path / "store"))
    assert result.exit_code == 1 and "unknown recipe 'nust'" in str(result.exception)
