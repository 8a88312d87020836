"""JSON-LD of every resource: framed with the published context, valid against the schemas the shapes generate."""

import contextlib
import json
import socket
import threading
from typing import Any
from urllib.parse import quote

import pytest
import rdflib
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from rdflib.compare import isomorphic

from graph import IRI, EmbeddedStore, Namespaces, assets, resources
from graph.schemas import build

ID = "https://w3id.org/ecrn/id/"
SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"


@pytest.fixture(scope="module")
def components(client: TestClient) -> dict[str, Any]:
    schemas: dict[str, Any] = client.get("/openapi.json").json()["components"]["schemas"]
    return schemas


def applicable(store: EmbeddedStore, iri: str, components: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas of every shape whose target class the resource is an instance of, directly or by subclass."""
    classes = {r["c"] for r in store.query(f"SELECT ?c WHERE {{ <{iri}> a/{SUBCLASS}* ?c }}").rows()}
    return [s for s in components.values() if s.get("x-class") in classes]


def resources_of(client: TestClient, kind: str) -> list[str]:
    return [i["slug"] for i in client.get(f"/api/{kind}", params={"limit": 1000}).json()["items"]]


@pytest.mark.parametrize("kind", sorted(resources.KINDS))
def test_every_resource_is_valid_against_its_shapes_schemas_and_parses_back(
        client: TestClient, store: EmbeddedStore, components: dict[str, Any], kind: str) -> None:
    checked = 0
    for slug in resources_of(client, kind):
        iri = f"{ID}{resources.KINDS[kind].slug_kind}/{slug}"
        response = client.get(f"/api/{kind}/{slug}", params={"format": "jsonld"})
        document = response.json()
        assert document["@id"] == iri
        schemas = applicable(store, iri, components)
        assert schemas, f"no shape targets {iri}"
        for schema in schemas:
            errors = [e.message for e in Draft202012Validator(schema).iter_errors(document)]
            assert not errors, (iri, schema["title"], errors[:3])
        facts = store.query(resources.facts_query(), substitutions={"item": IRI(iri)}).serialize("ntriples")
        assert isomorphic(rdflib.Graph().parse(data=response.text, format="json-ld"),
                          rdflib.Graph().parse(data=facts, format="nt"))
        checked += 1
    assert checked >= 5


def test_a_property_added_to_a_shape_appears_in_the_schema_and_the_data_must_have_it(client: TestClient) -> None:
    graph = rdflib.Graph()
    for path in assets.ontology_files() + assets.shape_files():
        graph.parse(path)
    graph.parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <https://w3id.org/ecrn/def/shapes/Region> sh:property [ sh:path <https://w3id.org/ecrn/def/motto> ;
            sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ] .""", format="turtle")
    changed = build(graph, Namespaces()).schemas["Region"]
    assert "motto" in changed["required"] and changed["properties"]["motto"] == {"type": "string"}
    masovia = client.get("/api/regions/masovia", params={"format": "jsonld"}).json()
    assert not Draft202012Validator(changed).is_valid(masovia)


def test_the_shapes_decide_how_values_look(client: TestClient) -> None:
    chemclust = client.get("/api/projects/chemclust", params={"format": "jsonld"}).json()
    assert chemclust["label"]["en"] == "ChemClust"  # one label per language: a plain language map
    assert isinstance(chemclust["source"], list)  # sources repeat: always an array
    budget = chemclust["totalBudget"]  # a blank node, embedded, its amount typed by the context
    assert set(budget) >= {"value", "currency"} and isinstance(budget["value"], str)
    context = client.get("/context.jsonld").json()["@context"]
    assert context["value"] == {"@id": "schema:value", "@type": "xsd:decimal"}


def test_every_shape_target_class_has_a_component_and_resources_refer_to_them(client: TestClient,
                                                                              components: dict[str, Any]) -> None:
    targets = {str(c) for path in assets.shape_files() for c in rdflib.Graph().parse(path).objects(
        None, rdflib.URIRef("http://www.w3.org/ns/shacl#targetClass"))}
    assert targets == {s["x-class"] for s in components.values() if "x-class" in s}
    operation = client.get("/openapi.json").json()["paths"]["/api/{kind}/{slug}"]["get"]
    assert operation["responses"]["200"]["content"]["application/ld+json"]["schema"] == {
        "$ref": "#/components/schemas/Resource"}


def test_a_frame_shapes_the_document(client: TestClient) -> None:
    frame = json.dumps({"@explicit": True, "totalBudget": {"@explicit": True, "value": {}}})
    document = client.get(f"/api/projects/chemclust?frame={quote(frame)}").json()
    assert set(document) == {"@context", "@id", "@type", "totalBudget"}
    assert set(document["totalBudget"]) == {"@type", "value"}


@pytest.mark.parametrize(("frame", "message"), [("{", "not JSON"), ("[1]", "JSON object"),
                                                ('{"@embed": "@sometimes"}', "cannot be applied"),
                                                ('{"label": {}}', "cannot be applied")])  # pyld fails inside
def test_a_bad_frame_is_400(client: TestClient, frame: str, message: str) -> None:
    response = client.get("/api/projects/chemclust", params={"frame": frame})
    assert response.status_code == 400 and message in response.json()["detail"]
    assert response.json()["type"].endswith("bad-frame")


def test_a_frame_naming_a_remote_context_is_refused_without_fetching_it(client: TestClient) -> None:
    canary = socket.socket()
    canary.bind(("127.0.0.1", 0))
    canary.listen()
    canary.settimeout(0.5)
    connections: list[object] = []

    def watch() -> None:
        with contextlib.suppress(OSError):
            connections.append(canary.accept())

    watcher = threading.Thread(target=watch)
    watcher.start()
    url = f"http://127.0.0.1:{canary.getsockname()[1]}/context.jsonld"
    response = client.get("/api/projects/chemclust", params={"frame": json.dumps({"@context": url})})
    watcher.join()
    canary.close()
    assert response.status_code == 400 and response.json()["type"].endswith("bad-frame")
    assert connections == []
