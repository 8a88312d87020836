"""The SPARQL query page at /sparql for browsers: editor, examples, answers as tables, errors, downloads, assets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from graph import EmbeddedStore, NamedQuery, NamedQueryError, Param
from graph.named_queries import parse_named_query
from service.app import create_app
from service.settings import Settings

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"}
RESULTS_JSON = {"accept": "application/sparql-results+json"}
QUERY_FILES = sorted((Path(__file__).resolve().parent.parent / "queries").glob("*.rq"))
REGIONS = ("SELECT ?region ?label WHERE { ?region a ecrn:Region ; rdfs:label ?label FILTER(LANG(?label) = 'en') } "
           "ORDER BY ?label LIMIT 5")
CHEMCLUST = "<https://w3id.org/ecrn/id/project/chemclust>"


class Page(HTMLParser):
    """What the tests read from a page: elements with their attributes and text, and the rows of table cells."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self.open: list[tuple[str, list[str]]] = []
        self.rows: list[list[str]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        texts: list[str] = []
        self.elements.append((tag, {k: v or "" for k, v in attrs}, texts))
        if tag in self.VOID:
            return
        self.open.append((tag, texts))
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for _, texts in self.open:
            texts.append(data)
        if any(name == "td" for name, _ in self.open):
            self.rows[-1][-1] += data

    def find(self, tag: str, **attrs: str) -> Iterator[tuple[dict[str, str], str]]:
        for name, found, texts in self.elements:
            if name == tag and all(found.get(k.rstrip("_")) == v for k, v in attrs.items()):
                yield found, "".join(texts).strip()

    def one(self, tag: str, **attrs: str) -> tuple[dict[str, str], str]:
        found = list(self.find(tag, **attrs))
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]

    def cells(self) -> list[list[str]]:
        """The body rows of the results table, each cell's text without its language or datatype note."""
        return [[cell.split(" @")[0].split(" ^^")[0].strip() for cell in row] for row in self.rows if row]


def page_of(client: TestClient, query: str | None = None, status: int = 200) -> Page:
    response = client.get("/sparql", params={"query": query} if query is not None else {}, headers=BROWSER)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    return Page(response.text)


def values(response: httpx.Response) -> list[list[str]]:
    body = response.json()
    return [[b[v]["value"] if v in b else "" for v in body["head"]["vars"]] for b in body["results"]["bindings"]]


def test_the_query_files_are_found() -> None:
    assert QUERY_FILES, "no queries/*.rq found"


def test_the_page_has_the_editor_the_run_button_and_the_prefixes(client: TestClient) -> None:
    page = page_of(client)
    textarea, text = page.one("textarea", id="query")
    assert textarea["name"] == "query" and "ecrn:Region" in text
    assert page.one("label", for_="query")[1] == "Query"
    assert page.one("button", id="run")[0]["type"] == "submit"
    form, _ = page.one("form", id="query-form")
    assert form["method"] == "get" and form["action"] == "/sparql"
    prefixes = {attrs["data-prefix"]: attrs["data-iri"] for attrs, _ in page.find("button", class_="insert")}
    assert prefixes["ecrn"] == "https://w3id.org/ecrn/def/"
    assert {"rdfs", "skos", "dcterms", "org", "foaf", "schema", "prov", "dcat", "geo", "xsd", "owl"} <= set(prefixes)


def test_the_starter_query_runs(client: TestClient) -> None:
    _, starter = page_of(client).one("textarea", id="query")
    assert values(client.get("/sparql", params={"query": starter}, headers=RESULTS_JSON))


def test_every_query_file_is_an_example_titled_by_its_summary(client: TestClient) -> None:
    examples = {text for _, text in page_of(client).find("a", class_="example")}
    assert examples == {parse_named_query(path).summary for path in QUERY_FILES}


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_every_example_runs_as_a_plain_query_and_answers_as_its_named_query(
        client: TestClient, store: EmbeddedStore, path: Path) -> None:
    named = parse_named_query(path)
    link = next(a for a, text in page_of(client).find("a", class_="example") if text == named.summary)
    example = parse_qs(urlsplit(link["href"]).query)["query"][0]
    response = client.get("/sparql", params={"query": example}, headers={
        "accept": "application/sparql-results+json, application/n-triples"})
    assert response.status_code == 200, response.text
    expected = named.run(store, {})
    if expected.kind == "graph":
        assert set(response.text.splitlines()) == set(expected.serialize("ntriples").decode().splitlines())
    else:
        assert _unordered(response.json()) == _unordered(json.loads(expected.serialize("json")))


def _unordered(results: dict[str, Any]) -> list[str]:
    """Rows as comparable text; GROUP_CONCAT has no defined order, so each value's words are sorted."""
    bindings: list[dict[str, dict[str, str]]] = results["results"]["bindings"]
    return sorted(json.dumps({k: {**t, "value": sorted(t["value"].split())} for k, t in b.items()}, sort_keys=True)
                  for b in bindings)


def test_a_select_answer_is_a_table_of_its_rows(client: TestClient) -> None:
    page = page_of(client, REGIONS)
    expected = values(client.get("/sparql", params={"query": REGIONS}, headers=RESULTS_JSON))
    assert len(expected) == 5
    assert page.cells() == expected
    assert [text for _, text in page.find("th", scope="col")] == ["region", "label"]
    assert page.one("caption")[1] == "5 rows"
    assert page.one("textarea", id="query")[1] == REGIONS
    assert page.one("input", id="site-search")[0].get("value", "") == ""  # the site's search box stays empty
    region = expected[0][0]
    assert page.one("a", href="/doc/" + region.split("/id/", 1)[1])[1] == region


@pytest.mark.parametrize(("query", "answer"), [
    (f"ASK {{ {CHEMCLUST} a ecrn:Project }}", "yes"),
    (f"ASK {{ {CHEMCLUST} a ecrn:Region }}", "no"),
])
def test_an_ask_answer_is_yes_or_no(client: TestClient, query: str, answer: str) -> None:
    assert client.get("/sparql", params={"query": query}, headers=RESULTS_JSON).json()["boolean"] is (answer == "yes")
    assert page_of(client, query).cells() == [[answer]]


def test_a_construct_answer_is_a_table_of_triples(client: TestClient) -> None:
    query = f"CONSTRUCT {{ {CHEMCLUST} ?p ?o }} WHERE {{ {CHEMCLUST} ?p ?o FILTER(isLiteral(?o)) }}"
    page = page_of(client, query)
    triples = client.get("/sparql", params={"query": query}, headers={"accept": "application/n-triples"}).text
    assert len(page.cells()) == len(triples.strip().splitlines()) > 0
    assert [text for _, text in page.find("th", scope="col")] == ["subject", "predicate", "object"]
    assert {row[0] for row in page.cells()} == {CHEMCLUST.strip("<>")}


def test_a_malformed_query_is_400_with_the_parsers_message_in_the_page(client: TestClient) -> None:
    query = "SELECT * WHERE { ?s ?p }"
    problem = client.get("/sparql", params={"query": query}).json()
    page = page_of(client, query, status=400)
    _, shown = page.one("div", class_="problem")
    assert problem["detail"] in shown and "1:" in shown and problem["title"] in shown  # Virtuoso: "line 1:"
    assert page.one("textarea", id="query")[1] == query
    assert not list(page.find("table", id="results"))


def test_the_download_links_answer_json_and_csv(client: TestClient) -> None:
    links = {text: attrs["href"] for attrs, text in page_of(client, REGIONS).find("a") if text in ("JSON", "CSV")}
    json_answer, csv_answer = client.get(links["JSON"], headers=BROWSER), client.get(links["CSV"], headers=BROWSER)
    assert json_answer.headers["content-type"].startswith("application/sparql-results+json")
    assert len(json_answer.json()["results"]["bindings"]) == 5
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert csv_answer.text.splitlines()[0] == "region,label"


def test_a_truncated_answer_is_cut_at_the_row_cap_and_says_so(store: EmbeddedStore) -> None:
    with TestClient(create_app(Settings(row_cap=2, query_workers=1), store=store)) as small:
        response = small.get("/sparql", params={"query": REGIONS}, headers=BROWSER)
    assert response.headers["result-truncated"] == "true; limit=2"
    page = Page(response.text)
    assert len(page.cells()) == 2
    assert "more than 2 rows" in page.one("p", class_="truncated")[1]


def test_clients_other_than_browsers_get_what_they_got_before(client: TestClient) -> None:
    for accept in ("*/*", None):
        described = client.get("/sparql", headers={"accept": accept} if accept else {})
        assert described.headers["content-type"].startswith("text/turtle")
    answer = client.get("/sparql", params={"query": REGIONS}, headers=RESULTS_JSON)
    assert answer.headers["content-type"].startswith("application/sparql-results+json")
    assert client.get("/sparql", params={"query": REGIONS}, headers={"accept": "*/*"}).json()["results"]


def test_a_format_parameter_wins_over_a_browsers_accept(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": REGIONS, "format": "json"}, headers=BROWSER)
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    link, _ = page_of(client).one("a", href="/sparql?format=turtle")  # the service description, for a browser too
    assert client.get(link["href"], headers=BROWSER).headers["content-type"].startswith("text/turtle")


def test_every_asset_of_the_page_is_served_here(client: TestClient) -> None:
    page = page_of(client, REGIONS)
    assets = [a["src"] for a, _ in page.find("script")] + [a["href"] for a, _ in page.find("link")]
    assert any(a.endswith("/query.js") for a in assets) and any(a.endswith("/query.css") for a in assets)
    for asset in assets:
        assert not asset.startswith(("http:", "https:", "//")), asset
        assert client.get(asset).status_code == 200, asset


def test_a_parameters_default_is_bound_as_one_term_in_the_plain_query(store: EmbeddedStore) -> None:
    hostile = 'x" } ; DROP ALL # \\ "'
    echo = NamedQuery("echo", "SELECT ?p WHERE { }", "echo", params={"p": Param("p", default=hostile)})
    assert store.query(echo.plain()).rows() == [{"p": hostile}]


def test_a_plain_query_needs_a_where_clause_to_bind_defaults_in() -> None:
    bare = NamedQuery("bare", "SELECT ?p {}", "bare", params={"p": Param("p", default="x")})
    with pytest.raises(NamedQueryError, match="WHERE"):
        bare.plain()
