"""The resource API: lists with filters (NUTS roll-up included), facets and pages; one resource described."""

import json
import re

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from graph import IRI, EmbeddedStore, resources

ID = "https://w3id.org/ecrn/id/"


def items(client: TestClient, kind: str, **params: str | list[str]) -> list[str]:
    response = client.get(f"/api/{kind}", params={"limit": "1000", **params})
    assert response.status_code == 200, response.text
    return [i["slug"] for i in response.json()["items"]]


@pytest.mark.parametrize("kind", ["regions", "organisations", "projects", "practices", "transfers", "policies",
                                  "events", "people"])
def test_every_kind_lists_its_resources(client: TestClient, kind: str) -> None:
    body = client.get(f"/api/{kind}").json()
    assert body["total"] > 0 and body["items"][0]["iri"].startswith(ID)


def test_country_filter_includes_things_through_their_region(client: TestClient) -> None:
    assert "saxony-anhalt" in items(client, "regions", country="DE")
    organisations = items(client, "organisations", country="CZ")
    assert "usti-regional-authority" in organisations and "idepa" not in organisations


@pytest.mark.parametrize(("code", "expected"), [("DEE", "saxony-anhalt"), ("PL12", "masovia"),
                                                ("PL9", "masovia"), ("UKD22", "cheshire-west-and-chester")])
def test_nuts_codes_roll_up_and_old_codes_find_the_region(client: TestClient, code: str, expected: str) -> None:
    assert expected in items(client, "regions", nuts=code)


def test_theme_type_project_and_year_filters(client: TestClient) -> None:
    assert set(items(client, "practices", theme="chemical-parks")) >= {"cechemnet"}
    chemclust_agencies = set(items(client, "organisations", type="DevelopmentAgency", project="chemclust"))
    assert chemclust_agencies == {"egeb", "isw", "idepa"}
    assert "chemclust-skills-conference-2012" in items(client, "events", **{"from": "2012", "to": "2012"})
    assert "ecrn-congress-7" not in items(client, "events", **{"from": "2012", "to": "2012"})


def test_text_filter_and_labels_in_the_language_asked_for(client: TestClient) -> None:
    response = client.get("/api/regions", params={"q": "maso", "lang": "pl"})
    assert [(i["slug"], i["label"], i["labelLanguage"]) for i in response.json()["items"]] == [
        ("masovia", "Mazowieckie", "pl")]
    assert response.headers["content-language"] == "pl" and "Accept-Language" in response.headers["vary"]


def test_accept_language_chooses_labels_and_each_falls_back_to_english(client: TestClient) -> None:
    response = client.get("/api/regions", headers={"accept-language": "de-AT, de;q=0.9, en;q=0.5"})
    labels = {i["slug"]: (i["label"], i["labelLanguage"]) for i in response.json()["items"]}
    assert labels["saxony-anhalt"] == ("Sachsen-Anhalt", "de") and labels["masovia"] == ("Masovia", "en")
    assert response.headers["content-language"] == "de"
    assert [i["slug"] for i in response.json()["items"]] == items(client, "regions")  # the order stays English


def test_the_lang_parameter_wins_over_accept_language(client: TestClient) -> None:
    response = client.get("/api/regions", params={"lang": "pl", "q": "maso"}, headers={"accept-language": "de"})
    assert response.json()["items"][0]["label"] == "Mazowieckie"


@pytest.mark.parametrize("lang", ["", "de_DE", "x" * 9, "de'} ; DROP ALL"])
def test_an_ill_formed_language_is_400_naming_lang(client: TestClient, lang: str) -> None:
    response = client.get("/api/regions", params={"lang": lang})
    assert response.status_code == 400 and response.json()["parameter"] == "lang"


def test_one_resource_in_german_with_english_fallbacks(client: TestClient) -> None:
    response = client.get("/api/regions/saxony-anhalt", headers={"accept-language": "de"})
    body = response.json()
    assert (body["label"], body["labelLanguage"]) == ("Sachsen-Anhalt", "de")
    country = next(p for p in body["properties"] if p["property"].endswith("countryCode"))
    assert country["label"] == "country code"  # the ontology has English labels only
    assert response.headers["content-language"] == "de"
    ministry = client.get("/api/organisations/ministry-science-economy-saxony-anhalt", params={"lang": "de"}).json()
    region = next(p for p in ministry["properties"] if p["property"] == "https://w3id.org/ecrn/def/region")
    assert [v["label"] for v in region["values"]] == ["Sachsen-Anhalt"]


def test_facets_count_each_value(client: TestClient) -> None:
    facets = client.get("/api/organisations", params={"facet": ["type", "country"]}).json()["facets"]
    types = {f["label"]: f["count"] for f in facets["type"]}
    assert types["Development agency"] == len(items(client, "organisations", type="DevelopmentAgency"))
    assert sum(f["count"] for f in facets["country"]) >= len(items(client, "organisations", country="DE"))


def test_pages_link_to_each_other(client: TestClient) -> None:
    everything = items(client, "regions")
    seen, url = [], "/api/regions?limit=7"
    while url:
        response = client.get(url)
        seen += [i["slug"] for i in response.json()["items"]]
        found = re.search(r'<([^>]+)>; rel="next"', response.headers["link"])
        url = found.group(1) if found else ""
    assert seen == everything


def test_one_resource_with_labels_incoming_links_and_sources(client: TestClient) -> None:
    body = client.get("/api/regions/masovia").json()
    assert body["label"] == "Masovia" and body["sources"]
    country = next(p for p in body["properties"] if p["property"].endswith("countryCode"))
    assert country["values"][0]["value"] == "PL" and country["label"] == "country code"
    assert any(v["value"] == ID + "partnership/chemclust-masovia" for p in body["incoming"] for v in p["values"])
    assert all(not v["graph"].endswith("/entailments") for p in body["properties"] for v in p["values"])


@pytest.mark.parametrize(("path", "status"), [("/api/regions/nowhere", 404), ("/api/widgets", 400),
                                              ("/api/events?from=soon", 400), ("/api/regions?facet=colour", 400)])
def test_bad_requests(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status and response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("slug", ["%C2%9E", "a%25zz", "%EE%80%80"])  # a C1 control, a bad escape, private use
def test_a_slug_that_makes_no_iri_is_404_not_a_server_error(client: TestClient, slug: str) -> None:
    """Found by schemathesis: the engine refused the slug's IRI as a bound term, and the answer was 500."""
    response = client.get(f"/api/regions/{slug}")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("hostile", ["DE' } ; DROP ALL ; #", '"} UNION { ?s ?p ?o', "\\u0022"])
def test_hostile_filter_values_are_values_or_refused(client: TestClient, hostile: str) -> None:
    assert items(client, "regions", country=hostile) == []
    assert items(client, "regions", q=hostile) == []
    for name in ("theme", "type", "project"):
        response = client.get("/api/practices", params={name: hostile})
        assert response.status_code == 400 and response.json()["parameter"] == name


def test_a_filter_and_a_facet_on_the_same_field_count_within_the_filter(client: TestClient) -> None:
    facets = client.get("/api/organisations", params={"project": "chemclust", "facet": "project"}).json()["facets"]
    counts = {f["value"].rsplit("/", 1)[1]: f["count"] for f in facets["project"]}
    assert counts["chemclust"] == len(items(client, "organisations", project="chemclust"))


def test_json_ld_parses_back_to_the_same_triples(client: TestClient, store: EmbeddedStore) -> None:
    response = client.get("/api/practices/cechemnet", headers={"accept": "application/ld+json"})
    assert response.headers["content-type"] == "application/ld+json"
    document = rdflib.Graph().parse(data=response.text, format="json-ld")
    facts = store.query(resources.facts_query(), substitutions={"item": IRI(ID + "practice/cechemnet")})
    expected = rdflib.Graph().parse(data=facts.serialize("ntriples"), format="nt")
    assert len(expected) > 20 and isomorphic(document, expected)
    region = json.loads(response.text)["@context"]["region"]
    assert region == {"@id": "ecrn:region", "@type": "@id", "@container": "@set"}


def test_the_context_names_every_ontology_term(client: TestClient, store: EmbeddedStore) -> None:
    context = client.get("/context.jsonld").json()["@context"]
    terms = store.query("""SELECT ?t WHERE { ?t <http://www.w3.org/2000/01/rdf-schema#isDefinedBy> ?o ;
        a ?type FILTER(STRSTARTS(STR(?t), "https://w3id.org/ecrn/def/") && ?type IN (
        <http://www.w3.org/2002/07/owl#Class>, <http://www.w3.org/2002/07/owl#ObjectProperty>,
        <http://www.w3.org/2002/07/owl#DatatypeProperty>)) }""").rows()
    assert terms and all(r["t"].rsplit("/", 1)[1] in context for r in terms)
