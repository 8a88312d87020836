"""The real graph in data/: it conforms, every resource has a source, one file per kind."""

from pathlib import Path

import pytest

from graph import EmbeddedStore, assets
from graph.load import default_files, validate_files

ID = "https://w3id.org/ecrn/id/"
PREFIXES = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "skos": "http://www.w3.org/2004/02/skos/core#"}
SHARED = Path(__file__).resolve().parents[2] / "shared"

# The classes each data file is about: a file holds its own kind of thing.
KINDS = {
    "regions": "Region", "nuts": "NutsUnit", "organisations": "Organization", "people": "Person",
    "memberships": "Membership", "projects": "Project", "programmes": "Programme", "catalogues": "Catalogue",
    "events": "Event", "outputs": "Output", "practices": "GoodPractice", "transfers": "Transfer",
    "policies": "PolicyInstrument",
}


def test_the_real_data_conforms_to_shapes_and_checks() -> None:
    report = validate_files(default_files())
    assert report.conforms, "\n".join(map(str, report.violations[:20]))


def test_every_minted_resource_names_a_source(store: EmbeddedStore) -> None:
    rows = store.query(f"""SELECT (COUNT(DISTINCT ?r) AS ?all) (COUNT(DISTINCT ?sourced) AS ?with) WHERE {{
        ?r ?p ?o FILTER(STRSTARTS(STR(?r), "{ID}"))
        OPTIONAL {{ ?r <http://purl.org/dc/terms/source> ?s FILTER(isIRI(?s)) BIND(?r AS ?sourced) }} }}""").rows()
    assert int(rows[0]["all"]) > 500
    assert rows[0]["all"] == rows[0]["with"]


def test_every_data_file_is_one_kind_of_thing() -> None:
    names = {p.stem for p in assets.data_files()}
    assert names == set(KINDS)


@pytest.mark.parametrize(("stem", "local_class"), sorted(KINDS.items()))
def test_each_file_holds_instances_of_its_kind(store: EmbeddedStore, stem: str, local_class: str) -> None:
    graph = f"https://w3id.org/ecrn/graph/data/{stem}"
    assert store.query(f"ASK {{ GRAPH <{graph}> {{ ?x a ?c FILTER(STRENDS(STR(?c), '{local_class}')) }} }}",
                       union=False).boolean


def test_inferred_and_conflicting_facts_are_marked(store: EmbeddedStore) -> None:
    counts = store.query("""SELECT ?level (COUNT(?x) AS ?n) WHERE { ?x <https://w3id.org/ecrn/def/certainty> ?level }
                            GROUP BY ?level""").rows()
    levels = {r["level"].rsplit("/", 1)[1]: int(r["n"]) for r in counts}
    assert levels["inferred"] > 10 and levels["conflicting"] >= 5
    start = store.query("""PREFIX ecrn: <https://w3id.org/ecrn/def/>
        SELECT ?v WHERE { <https://w3id.org/ecrn/id/project/chemclust> ecrn:alternativeValue [
        ecrn:property <http://schema.org/startDate> ; rdf:value ?v ] }""", prefixes=PREFIXES).rows()
    assert start == [{"v": "2009-12-31"}]


def test_no_partner_organisation_is_invented_for_teesside(store: EmbeddedStore) -> None:
    assert not store.query(f"""ASK {{ ?p <https://w3id.org/ecrn/def/project> <{ID}project/chemclust> ;
        <https://w3id.org/ecrn/def/partnerRegion> <{ID}region/teesside> ;
        <https://w3id.org/ecrn/def/partnerOrganisation> ?o }}""").boolean


def test_every_name_in_another_language_is_copied_from_the_sources(store: EmbeddedStore) -> None:
    """Names are copied exactly from the fact sheets; a translation no source gives would be invented."""
    sources = SHARED / "data"
    assert sorted(sources.glob("*.md")), f"no fact sheets in {sources}"
    text = " ".join(" ".join(p.read_text(encoding="utf-8").split()).lower() for p in sources.glob("*.md"))
    rows = store.query("""SELECT ?s ?name WHERE { GRAPH ?g { ?s ?p ?name } FILTER(STRSTARTS(STR(?g),
        "https://w3id.org/ecrn/graph/data/") && ?p IN (rdfs:label, skos:altLabel, skos:prefLabel)
        && LANG(?name) != "" && !LANGMATCHES(LANG(?name), "en")) }""", prefixes=PREFIXES).rows()
    assert len(rows) > 20
    unsourced = [(r["s"], r["name"]) for r in rows if " ".join(r["name"].split()).lower() not in text]
    assert not unsourced
