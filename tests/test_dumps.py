"""Dumps of the whole store: complete, checksummed, cached per release, with conditional GET and HEAD."""

import base64
import gzip
import hashlib
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from graph import EmbeddedStore
from service.app import create_app
from service.backend import Backend
from service.settings import Settings

NAMES = ["ecrn-kg.nq.gz", "ecrn-kg.ttl", "ecrn-kg.jsonld"]
MEDIA_TYPES = {"ecrn-kg.nq.gz": "application/gzip", "ecrn-kg.ttl": "text/turtle",
               "ecrn-kg.jsonld": "application/ld+json"}
TOKEN = "dump-token"
NOTE = ('INSERT DATA { GRAPH <https://example.org/graph/notes> { <https://example.org/notes/dump> '
        '<http://www.w3.org/2000/01/rdf-schema#comment> "A note"@en } }')


@pytest.fixture
def writable(fresh_store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(write_token=TOKEN), store=fresh_store)) as client:
        yield client


def write(client: TestClient, update: str) -> None:
    response = client.post("/sparql", content=update, headers={"content-type": "application/sparql-update",
                                                                "authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204, response.text


def distinct_triples(store: EmbeddedStore) -> int:
    rows = store.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }").rows()
    return int(rows[0]["n"])


def test_the_nquads_dump_is_the_whole_store_sorted(client: TestClient, backend: Backend) -> None:
    """The store's own checksum: blank node labels are each store's own."""
    lines = gzip.decompress(client.get("/dumps/ecrn-kg.nq.gz").content).splitlines()
    assert len(lines) == len(backend) and lines == sorted(lines)
    assert hashlib.sha256(b"\n".join(lines)).hexdigest() == backend.checksum()


def test_the_jsonld_dump_keeps_every_quad(client: TestClient, store: EmbeddedStore) -> None:
    body = client.get("/dumps/ecrn-kg.jsonld").content
    assert EmbeddedStore().parse_bytes(body, "jsonld", None, "dump") == len(store)
    assert b'"@graph"' in body  # named graphs kept


def test_the_turtle_dump_is_the_union_graph_with_each_triple_once(client: TestClient, store: EmbeddedStore) -> None:
    body = client.get("/dumps/ecrn-kg.ttl").content
    assert body.startswith(b"@prefix")
    assert EmbeddedStore().parse_bytes(body, "turtle", None, "dump") == distinct_triples(store)


@pytest.mark.parametrize("name", NAMES)
def test_a_dump_has_validators_and_its_digest(client: TestClient, name: str) -> None:
    response = client.get(f"/dumps/{name}")
    digest = hashlib.sha256(response.content).digest()
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == MEDIA_TYPES[name]
    assert response.headers["etag"] == f'"{digest.hex()}"'
    assert response.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert parsedate_to_datetime(response.headers["last-modified"]).tzinfo is not None
    assert "public" in response.headers["cache-control"]


@pytest.mark.parametrize("name", NAMES)
def test_if_none_match_with_the_current_etag_answers_304(client: TestClient, name: str) -> None:
    etag = client.get(f"/dumps/{name}").headers["etag"]
    unchanged = client.get(f"/dumps/{name}", headers={"if-none-match": f'"other", {etag}'})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
    assert client.get(f"/dumps/{name}", headers={"if-none-match": '"other"'}).status_code == 200


def test_if_modified_since_answers_304_unless_the_dump_is_newer(client: TestClient) -> None:
    modified = parsedate_to_datetime(client.get("/dumps/ecrn-kg.ttl").headers["last-modified"])
    same = {"if-modified-since": format_datetime(modified, usegmt=True)}
    earlier = {"if-modified-since": "Sat, 01 Jan 2000 00:00:00 GMT"}
    assert client.get("/dumps/ecrn-kg.ttl", headers=same).status_code == 304
    assert client.get("/dumps/ecrn-kg.ttl", headers=earlier).status_code == 200
    assert client.get("/dumps/ecrn-kg.ttl", headers={"if-modified-since": "yesterday"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: TestClient) -> None:
    modified = client.get("/dumps/ecrn-kg.ttl").headers["last-modified"]
    response = client.get("/dumps/ecrn-kg.ttl", headers={"if-none-match": '"other"', "if-modified-since": modified})
    assert response.status_code == 200


@pytest.mark.parametrize("name", NAMES)
def test_head_gives_the_headers_of_get_without_the_body(client: TestClient, name: str) -> None:
    got, head = client.get(f"/dumps/{name}"), client.head(f"/dumps/{name}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    for field in ("etag", "repr-digest", "last-modified", "content-type"):
        assert head.headers[field] == got.headers[field]


def test_sha256sums_lists_every_dump_as_sha256sum_writes_it(client: TestClient) -> None:
    response = client.get("/dumps/SHA256SUMS")
    assert response.headers["content-type"].startswith("text/plain")
    listed = dict(reversed(line.split("  ")) for line in response.text.splitlines())
    assert listed == {name: hashlib.sha256(client.get(f"/dumps/{name}").content).hexdigest() for name in NAMES}


def test_an_unknown_dump_is_a_problem_404(client: TestClient) -> None:
    response = client.get("/dumps/ecrn-kg.xml")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_dump_is_built_once_per_release(writable: TestClient, fresh_store: EmbeddedStore,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    dump = fresh_store.dump

    def counting(fmt: str, graph: str | None = None, prefixes: dict[str, str] | None = None) -> bytes:
        built.append(fmt)
        return dump(fmt, graph, prefixes)

    monkeypatch.setattr(fresh_store, "dump", counting)
    first = [writable.get("/dumps/ecrn-kg.ttl").headers["etag"] for _ in range(3)]
    assert built.count("turtle") == 1 and len(set(first)) == 1
    write(writable, NOTE)
    after = writable.get("/dumps/ecrn-kg.ttl")
    assert built.count("turtle") == 2 and after.headers["etag"] != first[0]
    assert b"https://example.org/notes/dump" in after.content
    assert writable.get("/dumps/ecrn-kg.ttl", headers={"if-none-match": first[0]}).status_code == 200


def test_a_write_that_changes_nothing_keeps_the_dumps(writable: TestClient) -> None:
    write(writable, NOTE)
    before = {name: writable.get(f"/dumps/{name}").headers for name in NAMES}
    write(writable, NOTE)  # the triple is there already
    for name in NAMES:
        after = writable.get(f"/dumps/{name}").headers
        assert (after["etag"], after["last-modified"]) == (before[name]["etag"], before[name]["last-modified"])


def test_a_real_server_answers_conditional_get_and_head(live_server: str) -> None:
    url = f"{live_server}/dumps/ecrn-kg.nq.gz"
    got = httpx.get(url)
    assert got.status_code == 200 and gzip.decompress(got.content)
    assert httpx.get(url, headers={"if-none-match": got.headers["etag"]}).status_code == 304
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
