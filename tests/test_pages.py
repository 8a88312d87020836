"""HTML pages for people: home, resources, lists with facets, search, map, network; links, languages, offline."""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from lxml.html import HtmlElement

from graph import EmbeddedStore, load_default
from service.app import create_app
from service.settings import Settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PAGES = ["/", "/regions", "/organisations?country=DE", "/projects", "/practices", "/transfers", "/policies",
         "/events", "/people", "/search?q=chem", "/map", "/network", "/doc/region/saxony-anhalt",
         "/doc/organisation/ecrn", "/doc/project/chemclust", "/doc/def/Region"]
STATIC = Path(__file__).resolve().parent.parent / "service" / "static"


def page(client: TestClient, path: str, **headers: str) -> HtmlElement:
    response = client.get(path, headers={**BROWSER, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return lxml_html.fromstring(response.text)


def texts(tree: HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in tree.xpath(xpath)]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_accessible_markup(client: TestClient, path: str) -> None:
    tree = page(client, path)
    assert tree.get("lang") == "en"
    assert len(tree.xpath("//h1")) == 1
    assert tree.xpath("//a[@class='skip']/@href") == ["#main"] and tree.xpath("//main[@id='main']")
    labelled = set(tree.xpath("//label/@for"))
    for control in tree.xpath("//input[not(@type='hidden')] | //textarea | //select"):
        assert control.get("id") in labelled or control.get("aria-label"), lxml_html.tostring(control)
    for svg in tree.xpath("//svg"):
        assert svg.get("role") == "img" and svg.xpath("./title"), "every picture has a text alternative"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_works_offline(client: TestClient, path: str) -> None:
    tree = page(client, path)
    assets = tree.xpath("//script/@src | //link/@href | //img/@src")
    assert assets and not [a for a in assets if re.match(r"(https?:)?//", a)]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_internal_links_of_the_home_and_a_region_page_resolve(client: TestClient) -> None:
    checked = set()
    for path in ("/", "/doc/region/saxony-anhalt"):
        for href in page(client, path).xpath("//a/@href"):
            if href.startswith("/") and href not in checked:
                checked.add(href)
                response = client.get(href, headers=BROWSER)
                assert response.status_code == 200, href
    assert len(checked) > 50


def _contrast(foreground: str, background: str = "#ffffff") -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_text_colours_meet_wcag_aa_contrast_on_white_and_on_the_tint() -> None:
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--(\w+):\s*(#[0-9a-f]{6})", css))
    assert {"ink", "muted", "link", "tint"} <= colours.keys()
    for name in ("ink", "muted", "link"):
        for background in ("#ffffff", colours["tint"]):
            assert _contrast(colours[name], background) >= 4.5, (name, background)
    assert _contrast("#ffffff", colours["link"]) >= 4.5, "button text on the link colour"


def test_home_counts_what_the_api_lists(client: TestClient) -> None:
    counts = {a.get("href"): int(a.findtext("strong")) for a in page(client, "/").xpath("//ul[@class='counts']//a")}
    for kind in ("regions", "organisations", "projects", "practices", "transfers"):
        assert counts[f"/{kind}"] == client.get(f"/api/{kind}").json()["total"] > 0


def test_a_resource_page_shows_every_fact_with_its_graph_and_sources(client: TestClient) -> None:
    tree = page(client, "/doc/region/saxony-anhalt")
    described = client.get("/api/regions/saxony-anhalt").json()
    assert texts(tree, "//h1") == [described["label"]]
    shown = texts(tree, "//section[@aria-labelledby='facts-heading']//th")
    for prop in described["properties"]:
        if prop["label"] and prop["label"] not in ("type", "source"):
            assert prop["label"] in shown
    assert set(tree.xpath("//ul[@class='sources']//a/@href")) == set(described["sources"])
    graphs = {parse_qs(urlsplit(h).query)["graph"][0] for h in tree.xpath("//span[@class='graph']/a/@href")}
    assert "https://w3id.org/ecrn/graph/data/regions" in graphs
    incoming = texts(tree, "//section[@aria-labelledby='incoming-heading']//li")
    assert any("ChemClust partnership" in line for line in incoming)


def test_a_page_shows_labels_in_the_chosen_language_and_switches(client: TestClient) -> None:
    german = page(client, "/doc/region/saxony-anhalt?lang=de")
    assert texts(german, "//h1") == ["Sachsen-Anhalt"] and german.xpath("//h1/@lang") == ["de"]
    switch = german.xpath("//nav[@class='languages']//a")
    assert {a.get("hreflang") for a in switch} >= {"en", "de", "pl", "it", "cs", "nl", "es"}
    assert [a.get("hreflang") for a in switch if a.get("aria-current")] == ["de"]
    internal = [h for h in german.xpath("//main//a/@href")
                if h.startswith("/doc/") and not re.search(r"\.(ttl|jsonld|nt|rdf)$", h)]
    assert internal and all("lang=de" in h for h in internal), "the chosen language is kept when following links"
    by_header = page(client, "/doc/region/saxony-anhalt", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert texts(by_header, "//h1") == ["Sachsen-Anhalt"]


def test_conflicting_sources_are_shown_as_alternative_values(client: TestClient) -> None:
    tree = page(client, "/doc/organisation/ecrn")
    alternatives = texts(tree, "//section[@aria-labelledby='alternatives-heading']//li")
    assert any("2004" in a for a in alternatives) and any("2008" in a for a in alternatives)


def test_an_amount_of_money_is_shown_with_its_currency(client: TestClient) -> None:
    facts = texts(page(client, "/doc/project/chemclust"), "//section[@aria-labelledby='facts-heading']//li")
    assert any(re.fullmatch(r"1762400(\.0+)? EUR from projects", f) for f in facts), facts


def test_a_facet_link_filters_the_list_as_the_api_does(client: TestClient) -> None:
    tree = page(client, "/organisations")
    germany = next(a for a in tree.xpath("//aside//a") if a.text == "DE")
    filtered = page(client, germany.get("href"))
    api = client.get("/api/organisations", params={"country": "DE", "limit": 1000}).json()
    shown = filtered.xpath("//ol[@class='items']//a/@href")
    assert sorted(shown) == sorted(f"/doc/organisation/{item['slug']}" for item in api["items"])
    assert filtered.xpath("//aside//a[@aria-current]")[0].text == "DE"


def test_a_long_list_pages(client: TestClient) -> None:
    total = client.get("/api/organisations").json()["total"]
    assert total > 50
    first = page(client, "/organisations")
    assert len(first.xpath("//ol[@class='items']/li")) == 50
    second = page(client, first.xpath("//a[@rel='next']/@href")[0])
    assert len(second.xpath("//ol[@class='items']/li")) == total - 50
    assert second.xpath("//ol[@class='items']/@start") == ["51"]


def test_the_search_page_shows_what_the_search_api_finds(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "chemical parks"}).json()["results"]
    tree = page(client, "/search?q=chemical+parks")
    expected = [h["iri"].replace("https://w3id.org/ecrn/id/", "/doc/").replace("https://w3id.org/ecrn/def/",
                                                                                "/doc/def/") for h in hits]
    assert len(hits) > 3 and tree.xpath("//ol[@class='items']//a/@href")[:len(hits)] == expected
    assert tree.xpath("//input[@id='site-search']/@data-suggest") == ["/api/suggest"]


def test_a_word_typed_in_part_finds_the_labels_that_begin_with_it(client: TestClient) -> None:
    suggested = client.get("/api/suggest", params={"q": "Saxo", "limit": 50}).json()["suggestions"]
    tree = page(client, "/search?q=Saxo")
    assert suggested and texts(tree, "//ol[@class='items']//a") == [s["label"] for s in suggested]
    assert "begin with" in texts(tree, "//main/p")[0]


def test_the_network_shows_every_transfer_to_a_region(client: TestClient) -> None:
    tree = page(client, "/network")
    rows = texts(tree, "//table//tbody/tr/td[3]")
    transfers = client.get("/api/transfers", params={"limit": 1000}).json()["items"]
    assert transfers and {t["label"] for t in transfers} <= set(rows)
    nodes = tree.xpath("//svg//a[@class='node']/@href")
    assert "/doc/region/usti-region" in nodes and "/doc/project/s3chem" in nodes
    assert tree.xpath("//svg//path[@class='edge']")


def test_the_map_says_that_the_sources_give_no_coordinates(client: TestClient) -> None:
    tree = page(client, "/map")
    assert not tree.xpath("//svg") and "give none" in " ".join(texts(tree, "//main//p"))


@pytest.fixture
def with_coordinates(fresh_store: EmbeddedStore) -> Iterator[TestClient]:
    """The real graph plus test coordinates (not facts: made up for this test) for two regions."""
    fresh_store.update("""PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> INSERT DATA { GRAPH <urn:test> {
        <https://w3id.org/ecrn/id/region/saxony-anhalt> geo:lat 52.0 ; geo:long 11.7 .
        <https://w3id.org/ecrn/id/region/asturias> geo:lat 43.3 ; geo:long -5.9 . } }""")
    with TestClient(create_app(Settings(), store=fresh_store)) as test_client:
        yield test_client


def test_the_map_places_regions_by_their_coordinates(with_coordinates: TestClient) -> None:
    tree = page(with_coordinates, "/map")
    points = {a.get("href"): (float(a.find("circle").get("cx")), float(a.find("circle").get("cy")))
              for a in tree.xpath("//svg//a[@class='node']")}
    north_east, south_west = points["/doc/region/saxony-anhalt"], points["/doc/region/asturias"]
    assert north_east[0] > south_west[0] and north_east[1] < south_west[1]


@pytest.mark.parametrize("path", [*PAGES, "/sparql", "/catalog", "/releases", "/sitemap.xml", "/.well-known/void",
                                  "/dumps/SHA256SUMS", "/dumps/ecrn-kg.nq.gz", "/api/regions", "/health"])
def test_head_answers_wherever_get_does_with_the_same_headers_and_no_body(client: TestClient, path: str) -> None:
    got, head = client.get(path, headers=BROWSER), client.head(path, headers=BROWSER)
    assert head.status_code == got.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]


def test_pages_forbid_scripts_from_elsewhere(client: TestClient) -> None:
    policy = client.get("/", headers=BROWSER).headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src" not in policy  # scripts: only this host's, no inline


def test_an_iri_of_another_scheme_is_shown_but_never_linked(client: TestClient) -> None:
    query = "SELECT ?x { VALUES ?x { <javascript:alert(1)> <https://example.org/x> } }"
    tree = page(client, "/sparql?" + urlencode({"query": query}))
    hrefs = tree.xpath("//table[@id='results']//a/@href")
    assert hrefs == ["https://example.org/x"]
    assert "javascript:alert(1)" in " ".join(texts(tree, "//table[@id='results']//td"))


@pytest.mark.parametrize("path", ["/doc/region/a%20b", "/doc/region/a%3Eb", "/doc/region/a%7Bb",
                                  "/api/regions/a%20b"])
def test_a_path_that_makes_no_iri_is_404_and_no_worker_dies(client: TestClient, path: str) -> None:
    restarts = client.app.state.pool.restarts  # type: ignore[attr-defined]
    assert client.get(path, headers=BROWSER).status_code == 404
    assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 404
    assert client.app.state.pool.restarts == restarts  # type: ignore[attr-defined]


def test_a_bad_offset_shows_the_first_page(client: TestClient) -> None:
    tree = page(client, "/regions?offset=%C2%B2")
    assert tree.xpath("//ol[@class='items']/@start") == ["1"]


def test_a_fact_from_a_graph_named_without_a_slash_is_shown(fresh_store: EmbeddedStore) -> None:
    fresh_store.update("INSERT DATA { GRAPH <urn:notes> { <https://w3id.org/ecrn/id/region/saxony-anhalt> "
                       "<http://www.w3.org/2004/02/skos/core#note> \"a test note\"@en } }")
    with TestClient(create_app(Settings(), store=fresh_store)) as fresh:
        facts = texts(page(fresh, "/doc/region/saxony-anhalt"), "//section[@aria-labelledby='facts-heading']//li")
    assert "a test note from urn:notes" in facts


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[TestClient]:
    """The graph minted under another base, as a deployment that configures ECRN_BASE_IRI has it."""
    base = "https://kg.example.org/ecrn/"
    moved = EmbeddedStore()
    load_default(moved, base)
    with TestClient(create_app(Settings(base_iri=base), store=moved)) as client:
        yield client


def test_under_another_base_the_home_counts_and_the_links_follow_it(elsewhere: TestClient) -> None:
    tree = page(elsewhere, "/")
    counts = {a.get("href"): int(a.findtext("strong")) for a in tree.xpath("//ul[@class='counts']//a")}
    assert counts["/regions"] == elsewhere.get("/api/regions").json()["total"] > 0
    assert "/doc/project/chemclust" in tree.xpath("//a/@href")
    region = page(elsewhere, "/id/region/saxony-anhalt")
    assert texts(region, "//h1") == ["Saxony-Anhalt"]


def test_under_another_base_the_example_queries_still_answer(elsewhere: TestClient) -> None:
    tree = page(elsewhere, "/sparql")
    example = next(a for a in tree.xpath("//a[@class='example']") if "partner regions" in a.text_content())
    assert len(page(elsewhere, example.get("href")).xpath("//table[@id='results']/tbody/tr")) == 10
