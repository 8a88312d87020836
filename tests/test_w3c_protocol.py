"""The official W3C SPARQL 1.1 Protocol test manifest, one test per entry, over HTTP against a real uvicorn server.

The manifest and its data files are read at collection time from the shared W3C test suite checkout beside the repo
(../shared/w3c-rdf-tests, see its PROVENANCE.txt); they are not copied here. Each entry's requests are sent exactly
as the manifest gives them (method, headers, body bytes in the stated character encoding), with the manifest's path
prefix "/sparql/" mapped to our one endpoint "/sparql", and no Accept header (the manifest sends none).

One documented deviation: the manifest predates authentication, and our server only runs updates for a bearer
token, so every request that is an update (an application/sparql-update body, an `update` parameter in the URL or
in a form-shaped body, or a body that parses as a SPARQL Update) also carries `Authorization: Bearer <token>`.
That way a 4xx expected of a bad update can never be earned by a mere 401.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.sparql.parser import parseUpdate

from graph import EmbeddedStore
from graph.remote import VIRTUOSO, Endpoints, RemoteStore
from service.app import create_app
from service.backend import Backend
from service.settings import Settings
from tests.conftest import serve_in_thread
from tests.oxigraph_server import oxigraph_server
from tests.virtuoso_server import virtuoso_server

PROTOCOL = Path(__file__).resolve().parents[2] / "shared" / "w3c-rdf-tests" / "sparql" / "sparql11" / "protocol"
MANIFEST = PROTOCOL / "manifest.ttl"
TOKEN = "w3c-test-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")

SRX = "{http://www.w3.org/2005/sparql-results#}"
RESULT_TYPES = {"application/sparql-results+json": "json", "application/json": "json",
                "application/sparql-results+xml": "xml", "application/xml": "xml",
                "text/csv": "csv", "text/tab-separated-values": "tsv"}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
             "application/ld+json": "json-ld"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]  # accepted status classes: 2 for hts:StatusCode2xx, …
    fmt: str | None  # mf:expectedFormat: "boolean", "tabular" or "RDF"
    boolean: bool | None  # mf:expectedBoolean

    def describe(self) -> str:
        body = "" if self.body is None else f" body={self.body!r}"
        return f"{self.method} {self.path} headers={self.headers}{body}"


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    graphs: dict[str, Path]  # ut:graphData: named graph IRI -> N-Triples file
    requests: list[Request]


def _request(manifest: rdflib.Graph, node: rdflib.term.Node) -> Request:
    headers: dict[str, str] = {}
    for header_list in manifest.objects(node, HT.headers):
        for header in Collection(manifest, header_list):
            headers[str(manifest.value(header, HT.fieldName))] = str(manifest.value(header, HT.fieldValue))
    content = manifest.value(node, HT.body)
    body = None
    if content is not None:
        encoding = str(manifest.value(content, CNT.characterEncoding) or "UTF-8")
        body = str(manifest.value(content, CNT.chars)).encode(encoding)
    response = manifest.value(node, HT.resp)
    statuses = frozenset(int(str(s).removesuffix("xx")[-1]) for s in manifest.objects(response, MF.expectedStatus))
    fmt, boolean = manifest.value(response, MF.expectedFormat), manifest.value(response, MF.expectedBoolean)
    path = str(manifest.value(node, HT.absolutePath))
    assert path.startswith("/sparql/"), path
    return Request(str(manifest.value(node, HT.methodName)), "/sparql" + path.removeprefix("/sparql/"), headers, body,
                   statuses, None if fmt is None else str(fmt), None if boolean is None else bool(boolean.toPython()))


def load_manifest() -> list[Entry]:
    if not MANIFEST.is_file():  # fail collection loudly: CI always has ../shared beside the repo
        raise FileNotFoundError(f"W3C SPARQL Protocol manifest not found at {MANIFEST}")
    manifest = rdflib.Graph().parse(MANIFEST, format="turtle")
    root = next(manifest.subjects(RDF.type, MF.Manifest))
    entries: list[Entry] = []
    for entry in Collection(manifest, manifest.value(root, MF.entries)):
        graphs = {str(manifest.value(data, RDFS.label)): PROTOCOL / str(manifest.value(data, UT.graph)).rsplit("/")[-1]
                  for data in manifest.objects(entry, UT.graphData)}
        action = manifest.value(entry, MF.action)
        requests = [_request(manifest, r) for r in Collection(manifest, manifest.value(action, HT.requests))]
        entries.append(Entry(str(entry).rsplit("#")[-1], str(manifest.value(entry, MF.name)), graphs, requests))
    return entries


ENTRIES = load_manifest()


@pytest.fixture(scope="module", params=["embedded", "remote", "virtuoso"])
def w3c_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on loopback serving a fresh, empty store that accepts updates: in memory, a remote
    Oxigraph server (its plain default graph, as the protocol's tests expect), and Virtuoso (which has none: its
    default graph is the union of its graphs)."""
    settings = Settings(write_token=TOKEN, query_workers=2, union_default_graph=False)
    with ExitStack() as stack:
        store: Backend = EmbeddedStore()
        if request.param == "remote":
            url = stack.enter_context(oxigraph_server(tmp_path_factory.mktemp("w3c-protocol"), union=False))
            store = RemoteStore(Endpoints(f"{url}/query", f"{url}/update"), union=False)
        if request.param == "virtuoso":
            url = stack.enter_context(virtuoso_server(tmp_path_factory.mktemp("w3c-protocol-virtuoso")))
            store = RemoteStore(Endpoints(f"{url}/sparql", f"{url}/sparql"), dialect=VIRTUOSO)
        yield stack.enter_context(serve_in_thread(create_app(settings, store=store)))


def is_update(request: Request) -> bool:
    """Whether the request carries a SPARQL Update (and so, here, the bearer token)."""
    media_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "").split(";")[0]
    if media_type.strip().lower() == "application/sparql-update" or "update" in parse_qs(urlsplit(request.path).query):
        return True
    if request.body is None:
        return False
    text = request.body.decode("utf-8", errors="replace")
    try:
        parseUpdate(text)
    except Exception:
        return "update" in parse_qs(text)
    return True


def reset(client: httpx.Client, graphs: dict[str, Path]) -> None:
    """Empty the store and load each data file into its named graph, through the service itself."""
    blocks = "\n".join(f"GRAPH <{iri}> {{\n{path.read_text(encoding='utf-8')}\n}}" for iri, path in graphs.items())
    update = f"CLEAR ALL ;\nINSERT DATA {{\n{blocks}\n}}" if graphs else "CLEAR ALL"
    response = client.post("/sparql", content=update.encode(),
                           headers={"content-type": "application/sparql-update", **AUTH})
    assert response.status_code == 204, f"could not reset the store: {response.status_code} {response.text}"


def check_format(request: Request, response: httpx.Response, context: str) -> None:
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.fmt == "RDF":
        assert media_type in RDF_TYPES, f"{context}: not an RDF media type: {media_type!r}"
        rdflib.Graph().parse(data=response.content, format=RDF_TYPES[media_type], publicID="http://example.org/")
        return
    assert request.fmt in ("boolean", "tabular"), f"{context}: unknown mf:expectedFormat {request.fmt!r}"
    kind = RESULT_TYPES.get(media_type)
    allowed = ("json", "xml") if request.fmt == "boolean" else ("json", "xml", "csv", "tsv")
    assert kind in allowed, f"{context}: {media_type!r} is not a {request.fmt} SPARQL results format"
    if kind == "json":
        answer = json.loads(response.content)
        assert isinstance(answer.get("head"), dict), f"{context}: SPARQL JSON results without a head"
        found = answer.get("boolean") if request.fmt == "boolean" else answer.get("results", {}).get("bindings")
        assert isinstance(found, bool if request.fmt == "boolean" else list), f"{context}: no {request.fmt} result"
    elif kind == "xml":
        root = ET.fromstring(response.content)
        assert root.tag == f"{SRX}sparql" and root.find(f"{SRX}head") is not None, f"{context}: not SPARQL XML"
        element = root.find(f"{SRX}boolean" if request.fmt == "boolean" else f"{SRX}results")
        assert element is not None, f"{context}: SPARQL XML results without a {request.fmt} result"
        found = element.text and element.text.strip() == "true"
    else:
        rows = list(csv.reader(io.StringIO(response.text), delimiter="," if kind == "csv" else "\t"))
        assert rows and all(rows[0]), f"{context}: {kind.upper()} results without a header line"
        found = None
    if request.fmt == "boolean" and request.boolean is not None:
        assert found is request.boolean, f"{context}: expected boolean {request.boolean}, got {found}"


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.id for entry in ENTRIES])
def test_w3c_protocol(entry: Entry, w3c_server: str) -> None:
    """One entry of the W3C SPARQL 1.1 Protocol manifest: its requests in order, each response as expected."""
    with httpx.Client(base_url=w3c_server, timeout=30) as client:
        for name in ("accept", "accept-encoding", "user-agent"):  # send only the manifest's own headers
            del client.headers[name]
        reset(client, entry.graphs)
        for number, request in enumerate(entry.requests, 1):
            headers = {**request.headers, **(AUTH if is_update(request) else {})}
            response = client.request(request.method, request.path, headers=headers, content=request.body,
                                      follow_redirects=3 in request.statuses)
            context = (f"{entry.id} ({entry.name!r}), request {number}: sent {request.describe()}; "
                       f"got {response.status_code} {response.headers.get('content-type')} {response.text[:500]!r}")
            assert response.status_code // 100 in request.statuses, \
                f"{context}: expected status class {sorted(f'{s}xx' for s in request.statuses)}"
            if request.fmt is not None:
                check_format(request, response, context)
