"""The official W3C SPARQL 1.1 Graph Store HTTP Protocol manifests, one test per entry, against a real uvicorn server.

The manifests are read at collection time from the shared W3C test suite checkout beside the repo
(../shared/w3c-rdf-tests, see its PROVENANCE.txt): manifest.ttl and the manifests it includes (mf:include),
manifest-direct.ttl and manifest-indirect.ttl; every entry of their mf:entries lists is one test, named by its local
name. Each entry's ht:Requests are sent in order, exactly as the manifest gives them (method, headers, body bytes in the
stated character encoding), with the manifest's path prefix "/gsp" mapped to our endpoint "/rdf-graph-store". Each
response must have one of the listed mf:expectedStatus codes (hts:OK is 200 only, hts:StatusCode2xx any 2xx); the
listed response headers (Content-Type compared as media type and charset); and, when the manifest gives an expected
body, content that parses (by its Content-Type) into a graph isomorphic to the expected one. mf:expectedLocation makes
the response's Location header (resolved against the request URL) the value of its template variable ($LOCATION$) in
later requests of the entry: percent-encoded as a query value in the request URI, as is in request bodies.

Before each entry the store is emptied through the service itself, with the SPARQL Update `DROP ALL`, not `CLEAR ALL`:
the store records empty graphs (sd:EmptyGraphs), CLEAR only removes triples (SPARQL 1.1 Update, 3.2.2), and an empty
graph left over from an earlier entry would rightly turn that entry's "PUT creates a graph: 201" into a 204.

Graphs are addressed both ways the protocol defines: indirectly (?graph=<IRI>, ?default) and directly (a path such
as /gsp/person/1.ttl becomes /rdf-graph-store/person/1.ttl, whose IRI is the graph's).

One deviation, by design of ecrn-kg: the manifests predate authentication and our server only writes for a bearer
token, so every PUT, POST and DELETE also carries `Authorization: Bearer <token>`. A 4xx the manifest expects can
therefore never be earned by a 401.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin

import httpx
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from graph import EmbeddedStore
from graph.remote import Endpoints, RemoteStore
from service.app import create_app
from service.backend import Backend
from service.settings import Settings
from tests.conftest import serve_in_thread
from tests.oxigraph_server import oxigraph_server
from tests.test_w3c_protocol import CNT, HT, MF, RDF_TYPES

GSP = (Path(__file__).resolve().parents[2] / "shared" / "w3c-rdf-tests" / "sparql" / "sparql11"
       / "graph-store-protocol")
MANIFEST = GSP / "manifest.ttl"
ENDPOINT = "/rdf-graph-store"
TOKEN = "w3c-gsp-test-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
WRITES = frozenset({"PUT", "POST", "DELETE"})

HTS = "http://www.w3.org/2011/http-statusCodes#"
STATUS_CODES = {
    "Continue": 100, "SwitchingProtocols": 101, "OK": 200, "Created": 201, "Accepted": 202,
    "NonAuthoritativeInformation": 203, "NoContent": 204, "ResetContent": 205, "PartialContent": 206,
    "MultipleChoices": 300, "MovedPermanently": 301, "Found": 302, "SeeOther": 303, "NotModified": 304,
    "UseProxy": 305, "TemporaryRedirect": 307, "PermanentRedirect": 308, "BadRequest": 400, "Unauthorized": 401,
    "PaymentRequired": 402, "Forbidden": 403, "NotFound": 404, "MethodNotAllowed": 405, "NotAcceptable": 406,
    "ProxyAuthenticationRequired": 407, "RequestTimeout": 408, "Conflict": 409, "Gone": 410, "LengthRequired": 411,
    "PreconditionFailed": 412, "RequestEntityTooLarge": 413, "RequestURITooLong": 414, "UnsupportedMediaType": 415,
    "RequestedRangeNotSatisfiable": 416, "ExpectationFailed": 417, "InternalServerError": 500,
    "NotImplemented": 501, "BadGateway": 502, "ServiceUnavailable": 503, "GatewayTimeout": 504,
    "HTTPVersionNotSupported": 505,
}
STATUS_CLASS = re.compile(r"StatusCode([1-5])xx")


@dataclass(frozen=True)
class Expected:
    """What one response must be: a status among `codes` or in one of the `classes` (2 for 2xx), and so on."""

    codes: frozenset[int]
    classes: frozenset[int]
    names: tuple[str, ...]  # the manifest's own names of the accepted statuses, for messages
    location: str | None  # mf:expectedLocation: the template variable the Location header's value is bound to
    headers: dict[str, str]
    body: bytes | None

    def accepts(self, status: int) -> bool:
        return status in self.codes or status // 100 in self.classes


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expected: Expected


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    requires: frozenset[str]
    requests: list[Request]


def _value(manifest: rdflib.Graph, node: rdflib.term.Node, prop: rdflib.URIRef) -> rdflib.term.Node:
    value = manifest.value(node, prop)
    if value is None:
        raise ValueError(f"{node} has no {prop}")
    return value


def _headers(manifest: rdflib.Graph, node: rdflib.term.Node) -> dict[str, str]:
    headers: dict[str, str] = {}
    for header_list in manifest.objects(node, HT.headers):
        for header in Collection(manifest, header_list):
            headers[str(manifest.value(header, HT.fieldName))] = str(manifest.value(header, HT.fieldValue))
    return headers


def _body(manifest: rdflib.Graph, node: rdflib.term.Node) -> bytes | None:
    content = manifest.value(node, HT.body)
    if content is None:
        return None
    encoding = str(manifest.value(content, CNT.characterEncoding) or "UTF-8")
    return str(manifest.value(content, CNT.chars)).encode(encoding)


def _expected(manifest: rdflib.Graph, response: rdflib.term.Node) -> Expected:
    codes: set[int] = set()
    classes: set[int] = set()
    names: list[str] = []
    for status in manifest.objects(response, MF.expectedStatus):
        name = str(status).removeprefix(HTS)
        names.append(f"hts:{name}")
        if name in STATUS_CODES:
            codes.add(STATUS_CODES[name])
        elif match := STATUS_CLASS.fullmatch(name):
            classes.add(int(match.group(1)))
        else:
            raise ValueError(f"unknown mf:expectedStatus {status}")
    if not names:
        raise ValueError("a response without mf:expectedStatus")
    location = manifest.value(response, MF.expectedLocation)
    return Expected(frozenset(codes), frozenset(classes), tuple(sorted(names)),
                    None if location is None else str(location), _headers(manifest, response),
                    _body(manifest, response))


def _request(manifest: rdflib.Graph, node: rdflib.term.Node) -> Request:
    path = str(_value(manifest, node, HT.absolutePath))
    if not (path == "/gsp" or path.startswith(("/gsp/", "/gsp?"))):
        raise ValueError(f"a request path outside the /gsp prefix: {path}")
    expected = _expected(manifest, _value(manifest, node, HT.resp))
    return Request(str(_value(manifest, node, HT.methodName)), ENDPOINT + path.removeprefix("/gsp"),
                   _headers(manifest, node), _body(manifest, node), expected)


def _entries(path: Path) -> list[Entry]:
    manifest = rdflib.Graph().parse(path, format="turtle")
    root = next(manifest.subjects(RDF.type, MF.Manifest))
    entries: list[Entry] = []
    for entry in Collection(manifest, _value(manifest, root, MF.entries)):
        action = _value(manifest, entry, MF.action)
        requests = [_request(manifest, r) for r in Collection(manifest, _value(manifest, action, HT.requests))]
        entries.append(Entry(str(entry).rsplit("#")[-1], str(manifest.value(entry, MF.name)),
                             frozenset(str(r) for r in manifest.objects(entry, MF.requires)), requests))
    return entries


def load_manifest() -> list[Entry]:
    """The entries of every manifest that manifest.ttl includes, in order."""
    if not MANIFEST.is_file():  # fail collection loudly: CI always has ../shared beside the repo
        raise FileNotFoundError(f"W3C SPARQL Graph Store Protocol manifest not found at {MANIFEST}")
    top = rdflib.Graph().parse(MANIFEST, format="turtle")
    root = next(top.subjects(RDF.type, MF.Manifest))
    included = [GSP / str(m).rsplit("/")[-1] for lst in top.objects(root, MF.include) for m in Collection(top, lst)]
    if not included:
        raise ValueError(f"{MANIFEST} includes no manifests")
    entries = [entry for path in included for entry in _entries(path)]
    if len({entry.id for entry in entries}) != len(entries):
        raise ValueError("two manifest entries share a local name")
    return entries


ENTRIES = load_manifest()
PARAMS = [pytest.param(entry, id=entry.id) for entry in ENTRIES]


@pytest.fixture(scope="module", params=["embedded", "remote"])
def gsp_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on loopback serving a fresh, empty store that accepts writes: in memory, and a remote
    Oxigraph server."""
    with ExitStack() as stack:
        store: Backend = EmbeddedStore()
        if request.param == "remote":
            url = stack.enter_context(oxigraph_server(tmp_path_factory.mktemp("w3c-graph-store")))
            store = RemoteStore(Endpoints(f"{url}/query", f"{url}/update"))
        yield stack.enter_context(serve_in_thread(create_app(Settings(write_token=TOKEN, query_workers=2),
                                                             store=store)))


def reset(client: httpx.Client) -> None:
    """Empty the store through the service itself: remove every named graph, even empty ones, and clear the default."""
    response = client.post("/sparql", content=b"DROP ALL",
                           headers={"content-type": "application/sparql-update", **AUTH})
    assert response.status_code == 204, f"could not reset the store: {response.status_code} {response.text}"


def substitute(request: Request, variables: dict[str, str]) -> tuple[str, bytes | None]:
    """The request's path and body with each template variable replaced by its value."""
    path, body = request.path, request.body
    for name, value in variables.items():
        path = path.replace(name, quote(value, safe=""))
        if body is not None:
            body = body.replace(name.encode(), value.encode())
    return path, body


def media_type(value: str) -> tuple[str, str]:
    """A Content-Type's media type and charset (UTF-8 when absent: the default of every RDF text format here)."""
    kind, *params = (part.strip() for part in value.split(";"))
    charset = next((p.partition("=")[2].strip().strip('"') for p in params if p.lower().startswith("charset=")),
                   "utf-8")
    return kind.lower(), charset.lower()


def check_headers(expected: Expected, response: httpx.Response, context: str) -> None:
    for name, value in expected.headers.items():
        got = response.headers.get(name)
        assert got is not None, f"{context}: no {name} header; expected {value!r}"
        if name.lower() == "content-type":
            assert media_type(got) == media_type(value), f"{context}: {name} is {got!r}; expected {value!r}"
        else:
            assert got == value, f"{context}: {name} is {got!r}; expected {value!r}"


def check_body(expected: Expected, response: httpx.Response, base: str, context: str) -> None:
    """The response's RDF is isomorphic to the expected RDF, each parsed by its own Content-Type."""
    assert expected.body is not None
    want_type = media_type(next((v for k, v in expected.headers.items() if k.lower() == "content-type"),
                                "text/turtle"))[0]
    got_type = media_type(response.headers.get("content-type", ""))[0]
    assert got_type in RDF_TYPES, f"{context}: not an RDF media type: {got_type!r}"
    want = rdflib.Graph().parse(data=expected.body, format=RDF_TYPES[want_type], publicID=base)
    got = rdflib.Graph().parse(data=response.content, format=RDF_TYPES[got_type], publicID=base)
    assert isomorphic(got, want), (
        f"{context}: the graph is not isomorphic to the expected one\n"
        f"expected:\n{want.serialize(format='nt')}\ngot:\n{got.serialize(format='nt')}")


def describe(method: str, path: str, headers: dict[str, str], body: bytes | None) -> str:
    sent = f"{method} {path} headers={headers}"
    return sent if body is None else f"{sent} body={body[:300]!r}"


@pytest.mark.slow
@pytest.mark.parametrize("entry", PARAMS)
def test_w3c_graph_store(entry: Entry, gsp_server: str) -> None:
    """One entry of the W3C Graph Store HTTP Protocol manifests: its requests in order, each response as expected."""
    with httpx.Client(base_url=gsp_server, timeout=30) as client:
        for name in ("accept", "accept-encoding", "user-agent"):  # send only the manifest's own headers
            del client.headers[name]
        reset(client)
        variables: dict[str, str] = {}
        for number, request in enumerate(entry.requests, 1):
            path, body = substitute(request, variables)
            headers = {**request.headers, **(AUTH if request.method in WRITES else {})}
            response = client.request(request.method, path, headers=headers, content=body)
            expected = request.expected
            context = (f"{entry.id} ({entry.name!r}), request {number}: sent "
                       f"{describe(request.method, path, request.headers, body)}; got {response.status_code} "
                       f"{response.headers.get('content-type')} {response.text[:500]!r}")
            assert expected.accepts(response.status_code), f"{context}: expected {' or '.join(expected.names)}"
            if expected.location is not None:
                location = response.headers.get("location")
                assert location, f"{context}: no Location header (mf:expectedLocation)"
                variables[expected.location] = urljoin(str(response.request.url), location)
            check_headers(expected, response, context)
            if expected.body is not None:
                check_body(expected, response, str(response.request.url), context)
