"""Dereferenceable IRIs: 303 from things to documents, content negotiation, file extensions, a proxy's path prefix."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS

from graph import EmbeddedStore
from service.app import create_app
from service.settings import Settings
from tests.conftest import serve_in_thread

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
REGION = "https://w3id.org/ecrn/id/region/saxony-anhalt"
PARTNER_REGION = URIRef("https://w3id.org/ecrn/def/partnerRegion")
RDFLIB = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
          "application/rdf+xml": "xml"}


@pytest.mark.parametrize(("thing", "document"), [
    ("/id/region/saxony-anhalt", "/doc/region/saxony-anhalt"),
    ("/id/project/chemclust?lang=de", "/doc/project/chemclust?lang=de"),
    ("/def/Region", "/doc/def/Region"),
    ("/def/themes/innovation", "/doc/def/themes/innovation"),
])
def test_a_thing_answers_303_see_other_to_its_document(client: TestClient, thing: str, document: str) -> None:
    response = client.get(thing, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == document
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(("accept", "media_type"), [
    (BROWSER, "text/html"),
    ("*/*", "text/turtle"),
    (None, "text/turtle"),
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/rdf+xml;q=0.5, text/turtle;q=0.9", "text/turtle"),
    ("text/html;q=0.1, application/ld+json", "application/ld+json"),
])
def test_a_document_negotiates_its_format(client: TestClient, accept: str | None, media_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/id/region/saxony-anhalt", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]


def test_a_document_nobody_can_read_is_406_with_a_problem(client: TestClient) -> None:
    response = client.get("/doc/region/saxony-anhalt", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert "text/turtle" in response.json()["detail"]
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(("extension", "media_type"), [
    ("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("nt", "application/n-triples"),
    ("rdf", "application/rdf+xml"), ("html", "text/html")])
def test_a_file_extension_overrides_accept(client: TestClient, extension: str, media_type: str) -> None:
    response = client.get(f"/doc/region/saxony-anhalt.{extension}", headers={"Accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type


def test_every_rdf_format_holds_the_same_facts_and_incoming_links(client: TestClient) -> None:
    graphs = {}
    for media_type, rdflib_format in RDFLIB.items():
        response = client.get("/doc/region/saxony-anhalt", headers={"Accept": media_type})
        graphs[media_type] = Graph().parse(data=response.text, format=rdflib_format)
    turtle = graphs["text/turtle"]
    assert (URIRef(REGION), RDFS.label, Literal("Saxony-Anhalt", lang="en")) in turtle
    partnerships = set(turtle.subjects(PARTNER_REGION, URIRef(REGION)))
    assert len(partnerships) > 3, "incoming links are part of the document"
    for media_type, graph in graphs.items():
        assert isomorphic(graph, turtle), media_type


def test_the_document_names_its_alternates(client: TestClient) -> None:
    links = client.get("/doc/region/saxony-anhalt", headers={"Accept": "text/turtle"}).headers["link"]
    for extension in ("ttl", "jsonld", "nt", "rdf", "html"):
        assert f"</doc/region/saxony-anhalt.{extension}>; rel=\"alternate\"" in links


@pytest.mark.parametrize("accept", [BROWSER, "text/turtle"])
def test_an_iri_the_graph_says_nothing_about_is_404(client: TestClient, accept: str) -> None:
    response = client.get("/id/region/atlantis", headers={"Accept": accept})
    assert response.status_code == 404
    assert "atlantis" in response.text


@pytest.mark.parametrize("path", ["/doc/region/%C2%9E", "/doc/region/a%25zz"])
def test_a_path_that_makes_no_iri_is_404_not_a_server_error(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_a_browser_gets_the_problem_as_a_page_and_a_client_as_problem_json(client: TestClient) -> None:
    page = client.get("/doc/region/atlantis", headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html")
    assert lxml_html.fromstring(page.text).findtext(".//h1") == "Not found"
    problem = client.get("/doc/region/atlantis", headers={"Accept": "application/json"})
    assert problem.headers["content-type"] == "application/problem+json"


@pytest.fixture(scope="module")
def proxied(store: EmbeddedStore) -> Iterator[TestClient]:
    """The service as a reverse proxy serves it: under the path prefix /ecrn (the ASGI root path)."""
    with TestClient(create_app(Settings(), store=store), root_path="/ecrn") as proxied_client:
        yield proxied_client


def test_behind_a_proxy_iris_dereference_under_its_path_prefix(proxied: TestClient) -> None:
    response = proxied.get("/ecrn/id/region/saxony-anhalt", follow_redirects=False)
    assert response.headers["location"] == "/ecrn/doc/region/saxony-anhalt"
    page = lxml_html.fromstring(proxied.get("/ecrn/doc/region/saxony-anhalt", headers={"Accept": BROWSER}).text)
    local = [href for href in page.xpath("//a/@href") if href.startswith("/")]
    assert local and all(href.startswith("/ecrn/") for href in local)
    assert "/ecrn/doc/region/saxony-anhalt.ttl" in local
    assert "/ecrn/static/style.css" in page.xpath("//link[@rel='stylesheet']/@href")


def test_uvicorn_behind_a_prefix_stripping_proxy_keeps_redirects_and_links_under_the_prefix(
        store: EmbeddedStore) -> None:
    with serve_in_thread(create_app(Settings(), store=store), root_path="/ecrn") as base:
        response = httpx.get(f"{base}/id/region/saxony-anhalt", follow_redirects=False)
        assert response.headers["location"] == "/ecrn/doc/region/saxony-anhalt"
        page = httpx.get(f"{base}/doc/region/saxony-anhalt", headers={"Accept": BROWSER}).text
    local = [href for href in lxml_html.fromstring(page).xpath("//a/@href") if href.startswith("/")]
    assert local and all(href.startswith("/ecrn/") for href in local)


def test_rdflib_dereferences_an_iri_over_http(live_server: str) -> None:
    graph = Graph().parse(f"{live_server}/id/region/saxony-anhalt")
    assert (URIRef(REGION), RDFS.label, Literal("Saxony-Anhalt", lang="en")) in graph
