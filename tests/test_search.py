"""Full-text search and suggestions: accents, ranking, languages, kinds, hostile input, updates."""

import pytest
from fastapi.testclient import TestClient

from graph import EmbeddedStore
from service.app import create_app
from service.settings import Settings

ID = "https://w3id.org/ecrn/id/"


def search(client: TestClient, q: str, **params: str) -> list[dict[str, str]]:
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    results: list[dict[str, str]] = response.json()["results"]
    return results


def test_words_match_whatever_their_accents(client: TestClient) -> None:
    assert search(client, "usti")[0]["iri"] == ID + "region/usti-region"
    assert search(client, "Ústí")[0]["iri"] == ID + "region/usti-region"


def test_a_name_in_a_label_ranks_above_a_mention_in_a_description(client: TestClient) -> None:
    top = [r["iri"] for r in search(client, "CeChemNet", limit="2")]
    assert set(top) == {ID + "practice/cechemnet", ID + "organisation/cechemnet"}


def test_things_rank_before_the_nodes_that_connect_them(client: TestClient) -> None:
    kinds = [r["kind"] for r in search(client, "Masovia", limit="5")]
    assert kinds[0] == "region" and "partnership" not in kinds[:2]


def test_the_kind_filter(client: TestClient) -> None:
    assert {r["kind"] for r in search(client, "chemical", kind="practice")} == {"practice"}


@pytest.mark.parametrize(("params", "headers", "label"), [
    ({}, {}, "Ústí Region"),
    ({"lang": "cs"}, {}, "Ústecký kraj"),
    ({}, {"accept-language": "cs-CZ, cs;q=0.9, en;q=0.5"}, "Ústecký kraj"),
    ({"lang": "xx"}, {}, "Ústí Region"),
])
def test_labels_come_in_the_asked_language_falling_back_to_english(client: TestClient, params: dict[str, str],
                                                                    headers: dict[str, str], label: str) -> None:
    response = client.get("/api/search", params={"q": "usti", "kind": "region", **params}, headers=headers)
    assert response.json()["results"][0]["label"] == label


def test_suggestions_complete_the_last_word(client: TestClient) -> None:
    labels = [s["label"] for s in client.get("/api/suggest", params={"q": "Schlesw"}).json()["suggestions"]]
    assert "Schleswig-Holstein" in labels


@pytest.mark.parametrize("q", ['" OR * NEAR(', "label : x", "a*) OR (b", "'; DROP TABLE docs; --"])
def test_search_syntax_in_the_query_is_just_words(client: TestClient, q: str) -> None:
    assert client.get("/api/search", params={"q": q}).status_code == 200
    assert client.get("/api/suggest", params={"q": q}).status_code == 200


def test_a_query_without_words_is_400(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "!!!"})
    assert response.status_code == 400 and response.json()["parameter"] == "q"


def test_the_index_follows_writes(fresh_store: EmbeddedStore) -> None:
    with TestClient(create_app(Settings(write_token="t"), store=fresh_store)) as client:
        assert search(client, "Quokkaland") == []
        update = """INSERT DATA { GRAPH <https://w3id.org/ecrn/graph/contrib> { <https://w3id.org/ecrn/id/region/q>
          a <https://w3id.org/ecrn/def/Region> ; <http://www.w3.org/2000/01/rdf-schema#label> "Quokkaland"@en ;
          <http://purl.org/dc/terms/source> <https://example.org/q> } }"""
        assert client.post("/sparql", data={"update": update}, headers={"authorization": "Bearer t"}).status_code == 204
        assert [r["iri"] for r in search(client, "quokkaland")] == [ID + "region/q"]
