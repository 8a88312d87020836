"""The class diagram: DOT built from the ontology, the committed docs/ontology.dot kept current, SVG drawn by dot."""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph import Namespaces, diagram
from graph.ontology import Entry, Ontology, Ref, describe

DOCS = Path(__file__).resolve().parent.parent / "docs"
ONTOLOGY = describe(Namespaces())
LABELS = [entry.label for entry in ONTOLOGY.classes]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed (Debian: apt-get install graphviz)")


def texts(svg: bytes) -> set[str]:
    """The text of every <text> element of a well-formed SVG document."""
    return {element.text or "" for element in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")}


def test_the_committed_dot_source_is_what_the_ontology_gives_now() -> None:
    committed = (DOCS / "ontology.dot").read_text(encoding="utf-8")
    assert committed == diagram.dot_source(ONTOLOGY), "docs/ontology.dot is stale: run `make diagram`"


def test_the_committed_svg_shows_every_class() -> None:
    assert set(LABELS) <= texts((DOCS / "ontology.svg").read_bytes())


def test_the_dot_source_draws_classes_reused_classes_subclasses_and_object_properties() -> None:
    dot = diagram.dot_source(ONTOLOGY)
    for entry in ONTOLOGY.classes:
        assert f'"{entry.ref.name}" [label="{entry.label}",' in dot
        assert f'URL="./#{entry.ref.anchor}"' in dot
    for entry in ONTOLOGY.reused:
        assert f'"{entry.ref.name}" [label="{entry.ref.name}",' in dot
    assert '"foaf:Person" [label="foaf:Person", tooltip="foaf:Person", URL="http://xmlns.com/foaf/0.1/Person", ' \
           'style="dashed' in dot
    assert '"ecrn:RegionalAuthority" -> "ecrn:PublicAuthority" [arrowhead=empty];' in dot
    assert '"ecrn:Transfer" -> "ecrn:GoodPractice" [label="practice", URL="./#practice"' in dot
    assert '"ecrn:Transfer" -> "ecrn:Region" [label="source region"' in dot  # range inherited from ecrn:region
    assert '[label="vehicle"' not in dot  # a domain but no range


def test_quotes_and_backslashes_in_labels_are_escaped() -> None:
    odd = Entry(Ref("https://example.org/def/Odd", "ex:Odd", "Odd"), 'A "quoted" \\ label', "", ())
    tiny = Ontology(Ref("https://example.org/def/", "ex:", None), "", "", "", None, (odd,), (), (), (), ())
    assert '[label="A \\"quoted\\" \\\\ label",' in diagram.dot_source(tiny)


def test_without_graphviz_there_is_no_svg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    assert diagram.render_svg(diagram.dot_source(ONTOLOGY)) is None


@needs_dot
def test_the_diagram_is_served_as_svg_with_every_class(client: TestClient) -> None:
    response = client.get("/def/diagram.svg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert set(LABELS) <= texts(response.content)


@needs_dot
def test_the_documentation_embeds_the_diagram(client: TestClient) -> None:
    page = client.get("/def/", headers={"accept": "text/html"}).text
    assert "<svg" in page and "<?xml" not in page and 'href="./#Region"' in page
