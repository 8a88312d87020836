"""The ontology at /def/: documentation for browsers, RDF for machines, 406 otherwise; the page works offline."""

from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

from graph import EmbeddedStore, assets
from service import ontology_docs
from service.app import create_app
from service.settings import Settings

ECRN = rdflib.Namespace("https://w3id.org/ecrn/def/")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
RDF_TYPES = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
             "application/rdf+xml": "xml"}
NEGOTIATION = [
    (BROWSER, "text/html"),
    ("text/html", "text/html"),
    ("application/xhtml+xml", "text/html"),
    ("text/turtle;q=0.5, text/html", "text/html"),
    ("*/*", "text/turtle"),
    (None, "text/turtle"),
    ("text/*", "text/turtle"),
    ("text/html;q=0, */*", "text/turtle"),
    ("text/html;q=0.5, application/ld+json", "application/ld+json"),
    *((media_type, media_type) for media_type in RDF_TYPES),
]
FILES = [("ecrn.ttl", "text/turtle"), ("ecrn.jsonld", "application/ld+json"), ("ecrn.nt", "application/n-triples"),
         ("ecrn.rdf", "application/rdf+xml"), ("index.html", "text/html")]


def ontology() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in assets.ontology_files():
        graph.parse(path)
    return graph


TERMS = sorted(s for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
               for s in ontology().subjects(RDF.type, kind) if s.startswith(ECRN))
CONCEPTS = sorted(s for kind in (SKOS.ConceptScheme, SKOS.Concept) for s in ontology().subjects(RDF.type, kind))


class Tags(HTMLParser):
    """Every start tag of a page with its attributes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def page(client: TestClient) -> str:
    response = client.get("/def/", headers={"accept": BROWSER})
    assert response.status_code == 200
    return response.text


def section(page: str, anchor: str) -> str:
    """The text of the element with this id, up to the next term's."""
    start = page.index(f'id="{anchor}"')
    ends = [i for i in (page.find('class="term"', start), page.find("<tr id=", start + 1)) if i > 0]
    return unescape(page[start:min(ends, default=len(page))])


@pytest.mark.parametrize(("accept", "media_type"), NEGOTIATION)
def test_def_negotiates_documentation_or_rdf(client: TestClient, accept: str | None, media_type: str) -> None:
    response = client.get("/def/", headers={"accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("media_type", RDF_TYPES)
def test_the_rdf_holds_the_ontology_and_its_schemes(client: TestClient, media_type: str) -> None:
    graph = rdflib.Graph().parse(data=client.get("/def/", headers={"accept": media_type}).content,
                                 format=RDF_TYPES[media_type])
    assert (ECRN[""], RDF.type, OWL.Ontology) in graph
    assert (ECRN.Region, RDFS.label, rdflib.Literal("Region", lang="en")) in graph
    assert (ECRN.themes, RDF.type, SKOS.ConceptScheme) in graph
    assert len(graph) == len(ontology())


def test_def_answers_406_as_a_problem_when_nothing_fits(client: TestClient) -> None:
    response = client.get("/def/", headers={"accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 406 and "text/html" in response.json()["detail"]
    assert "Accept" in response.headers["vary"]


def test_def_without_slash_redirects_to_def(client: TestClient) -> None:
    response = client.get("/def", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"].endswith("/def/")


@pytest.mark.parametrize(("name", "media_type"), FILES)
def test_a_file_name_chooses_one_representation(client: TestClient, name: str, media_type: str) -> None:
    response = client.get(f"/def/{name}", headers={"accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type


@pytest.mark.parametrize("path", ["/def/", "/def/index.html", "/def/ecrn.ttl"])
def test_head_answers_as_get_does_without_a_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_an_unknown_file_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/def/ecrn.xlsx")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.removeprefix(str(ECRN)))
def test_every_class_and_property_has_its_anchor_label_and_definition(page: str, term: rdflib.URIRef) -> None:
    text = section(page, term.removeprefix(str(ECRN)))
    graph = ontology()
    assert str(graph.value(term, RDFS.label)) in text
    assert str(graph.value(term, SKOS.definition)) in text


@pytest.mark.parametrize("term", CONCEPTS, ids=lambda t: t.removeprefix(str(ECRN)))
def test_every_scheme_and_concept_has_its_anchor_and_label(page: str, term: rdflib.URIRef) -> None:
    assert str(ontology().value(term, SKOS.prefLabel)) in section(page, term.removeprefix(str(ECRN)))


def test_ids_are_unique(page: str) -> None:
    ids = [attrs["id"] for _, attrs in Tags(page).tags if "id" in attrs]
    assert len(ids) == len(set(ids)) and len(ids) > len(TERMS)


def test_the_page_loads_nothing_from_elsewhere(page: str) -> None:
    tags = Tags(page).tags
    loaded = [attrs.get("src") for _, attrs in tags] + [attrs.get("href") for tag, attrs in tags if tag == "link"]
    assert not [url for url in loaded if url and url.lower().startswith(("http:", "https:", "//"))]
    assert not [tag for tag, _ in tags if tag == "script"] and "url(" not in page and "@import" not in page


def test_the_page_links_to_the_shapes_in_the_graph_store(client: TestClient, page: str) -> None:
    hrefs = [attrs.get("href") or "" for tag, attrs in Tags(page).tags if tag == "a"]
    shapes = [href for href in hrefs if href.startswith("../rdf-graph-store?graph=")]
    assert len(shapes) == len(assets.shape_files())
    for href in shapes:
        response = client.get(str(client.base_url.join("/def/").join(href)), headers={"accept": "text/turtle"})
        assert response.status_code == 200 and str(SH.NodeShape) in response.text


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[TestClient]:
    """The service at another base, on a machine without Graphviz."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ontology_docs, "render_svg", lambda dot: None)
        app = create_app(Settings(base_iri="https://example.org/kg/", query_workers=1), store=EmbeddedStore())
        with TestClient(app) as test_client:
            yield test_client


def test_the_ontology_moves_to_the_configured_base(elsewhere: TestClient) -> None:
    turtle = elsewhere.get("/def/ecrn.ttl").text
    assert "<https://example.org/kg/def/>" in turtle and "w3id.org/ecrn" not in turtle
    assert "https://example.org/kg/def/Region" in elsewhere.get("/def/", headers={"accept": BROWSER}).text


def test_without_graphviz_the_page_has_no_diagram_and_the_svg_is_a_503_problem(elsewhere: TestClient) -> None:
    page = elsewhere.get("/def/", headers={"accept": BROWSER})
    assert page.status_code == 200 and "<svg" not in page.text and 'id="Region"' in page.text
    response = elsewhere.get("/def/diagram.svg")
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert "Graphviz" in response.json()["detail"]

