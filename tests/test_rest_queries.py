"""Named queries as REST: listed, typed, paginated with Link headers, safe against hostile values."""

import re

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from graph import EmbeddedStore, assets, load_named_queries
from service.app import create_app
from service.settings import Settings

QUERIES = load_named_queries()


def test_every_query_file_is_listed_with_its_parameters(client: TestClient) -> None:
    listed = {q["name"]: q for q in client.get("/api/queries").json()}
    assert set(listed) == {p.stem for p in assets.query_files()}
    assert {p["name"] for p in listed["chemclust-partner-regions"]["parameters"]} == {"project", "date", "current",
                                                                                           "lang"}
    assert listed["transfers"]["parameters"][0]["values"] == ["exchanged", "planned", "adopted", "implemented",
                                                             "unknown"]


def test_accept_language_names_the_regions_and_each_falls_back_to_english(client: TestClient) -> None:
    response = client.get("/api/queries/chemclust-partner-regions", headers={"accept-language": "de, pl;q=0.8"})
    labels = {row["region"].rsplit("/", 1)[1]: row["label"] for row in response.json()["rows"]}
    assert labels["saxony-anhalt"] == "Sachsen-Anhalt" and labels["masovia"] == "Masovia"
    assert response.headers["content-language"] == "de" and "Accept-Language" in response.headers["vary"]
    polish = client.get("/api/queries/ecrn-members", params={"lang": "pl"}, headers={"accept-language": "de"})
    labels = {row["region"].rsplit("/", 1)[1]: row["label"] for row in polish.json()["rows"]}
    assert labels["masovia"] == "Mazowieckie" and labels["saxony-anhalt"] == "Saxony-Anhalt"


def test_every_query_is_an_openapi_operation_named_after_its_file(client: TestClient) -> None:
    operations = {op["operationId"]: op for path in client.get("/openapi.json").json()["paths"].values()
                  for op in path.values()}
    for name, query in QUERIES.items():
        assert operations[name]["summary"] == query.summary
        documented = {p["name"] for p in operations[name]["parameters"]}
        assert set(query.params) | {"limit", "offset", "format"} == documented


def test_a_construct_query_answers_json_ld_that_parses_back_to_its_graph(client: TestClient,
                                                                         store: EmbeddedStore) -> None:
    response = client.get("/api/queries/transfer-network", params={"status": "planned"})
    assert response.headers["content-type"] == "application/ld+json"
    expected = QUERIES["transfer-network"].run(store, {"status": "planned"}).serialize("ntriples")
    answered = rdflib.Graph().parse(data=response.text, format="json-ld")
    assert len(answered) > 5 and isomorphic(answered, rdflib.Graph().parse(data=expected, format="nt"))
    assert client.get("/api/queries/transfer-network", params={"format": "csv"}).status_code == 400


SELECTS = sorted(name for name, query in QUERIES.items() if "CONSTRUCT" not in query.text)


@pytest.mark.parametrize("name", SELECTS)
def test_every_competency_query_answers_as_rest_what_it_answers_in_the_store(client: TestClient, store: EmbeddedStore,
                                                                             name: str) -> None:
    rest = client.get(f"/api/queries/{name}", params={"limit": 1000}).json()
    direct = QUERIES[name].run(store, {}).rows()
    assert rest["total"] == len(direct) > 0
    assert [sorted(r) for r in rest["rows"]] == [sorted(r) for r in direct]


def test_typed_values_become_json_numbers(client: TestClient) -> None:
    (row,) = client.get("/api/queries/chemclust-budget").json()["rows"]
    assert row["totalBudget"] == 1762400 and row["euContribution"] == 1342200 and row["start"] == "2010-01-01"


def test_parameters_filter(client: TestClient) -> None:
    rows = client.get("/api/queries/transfers", params={"status": "adopted"}).json()["rows"]
    assert {r["targetRegionLabel"] for r in rows} == {"Lombardy", "Masovia"}


def test_pages_follow_link_headers_and_cover_the_answer_once(client: TestClient) -> None:
    everything = client.get("/api/queries/good-practices", params={"limit": 1000}).json()["rows"]
    seen, url = [], "/api/queries/good-practices?limit=4"
    while url:
        response = client.get(url)
        seen += response.json()["rows"]
        found = re.search(r'<([^>]+)>; rel="next"', response.headers["link"])
        url = found.group(1) if found else ""
    assert seen == everything and len(everything) == 15


def test_csv_output(client: TestClient) -> None:
    response = client.get("/api/queries/chemclust-pilot-actions", params={"format": "csv"})
    lines = response.text.strip().splitlines()
    assert response.headers["content-type"].startswith("text/csv") and lines[0].startswith("project,pilotAction")
    assert len(lines) == 4


@pytest.mark.parametrize(("name", "params", "parameter"), [
    ("chemclust-budget", {"project": "not an iri"}, "project"),
    ("chemclust-budget", {"projekt": "x"}, "projekt"),
    ("ecrn-members", {"date": "2014-13-45"}, "date"),
    ("ecrn-members", {"date": '2014-01-01" } ; DROP ALL ; #'}, "date"),
    ("transfers", {"status": "adopted' } UNION { ?s ?p ?o"}, "status"),
    ("chemclust-budget", {"project": "http://x/> } ; DROP ALL ; <"}, "project"),
    ("region-projects", {"region": "http://a/%zz"}, "region"),  # IRIs the engine refuses: once a 500
    ("region-projects", {"region": "http://a:b/"}, "region"),
    ("region-projects", {"region": "http://a/\u009e"}, "region"),
])
def test_bad_and_hostile_parameters_are_400_naming_the_parameter(client: TestClient, name: str,
                                                                 params: dict[str, str], parameter: str) -> None:
    response = client.get(f"/api/queries/{name}", params=params)
    assert response.status_code == 400 and response.json()["parameter"] == parameter


def test_a_hostile_string_is_a_value_not_syntax(client: TestClient, store: EmbeddedStore) -> None:
    before = len(store)
    response = client.get("/api/queries/chemclust-budget", params={"project": "urn:x:%22%7D%20DROP%20ALL"})
    assert response.status_code == 200 and response.json()["rows"] == []
    assert len(store) == before


def test_unknown_query_is_404(client: TestClient) -> None:
    assert client.get("/api/queries/no-such-query").status_code == 404


def test_paging_parameters_are_checked(client: TestClient) -> None:
    assert client.get("/api/queries/good-practices", params={"limit": 0}).status_code == 400
    assert client.get("/api/queries/good-practices", params={"offset": "x"}).status_code == 400
    assert client.get("/api/queries/good-practices", params={"format": "xml"}).status_code == 400


def test_the_row_cap_cuts_and_says_so(store: EmbeddedStore) -> None:
    with TestClient(create_app(Settings(row_cap=10), store=store)) as capped:
        response = capped.get("/api/queries/good-practices", params={"limit": 10})
    body = response.json()
    assert body["truncated"] is True and body["total"] is None and len(body["rows"]) == 10
    assert response.headers["result-truncated"] == "true; limit=10"
