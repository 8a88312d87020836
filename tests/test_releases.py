"""Releases: every change of the content is a dated release whose RDF Patch holds exactly what changed."""

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, Namespace

from graph import EmbeddedStore
from graph.releases import ReleaseLog
from graph.remote import RemoteStore
from graph.remote_pool import STATE_SECONDS
from service.app import create_app
from service.backend import Backend
from service.settings import Settings
from tests.conftest import TEST_DATA

DCAT = Namespace("http://www.w3.org/ns/dcat#")
TOKEN = "release-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
NOTE = ("<https://example.org/notes/1> <http://www.w3.org/2000/01/rdf-schema#comment> \"A note\"@en "
        "<https://example.org/graph/notes> .")
INSERT = ('INSERT DATA { GRAPH <https://example.org/graph/notes> { <https://example.org/notes/1> '
          '<http://www.w3.org/2000/01/rdf-schema#comment> "A note"@en } }')
DELETE = INSERT.replace("INSERT DATA", "DELETE DATA")
NO_SOURCE = """INSERT DATA { <https://w3id.org/ecrn/id/organisation/sourceless>
  a <https://w3id.org/ecrn/def/ClusterOrganisation> ; <http://www.w3.org/2000/01/rdf-schema#label> "X"@en }"""


@pytest.fixture
def writable(fresh_store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(write_token=TOKEN), store=fresh_store)) as client:
        yield client


def update(client: TestClient, text: str) -> int:
    headers = {"content-type": "application/sparql-update", **AUTH}
    return client.post("/sparql", content=text, headers=headers).status_code


def releases(client: TestClient) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = client.get("/releases").json()["releases"]
    return listed


def patch(client: TestClient, version: object) -> tuple[list[str], list[str], list[str]]:
    """The header, deleted and added rows of a release's RDF Patch."""
    response = client.get(f"/releases/{version}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/rdf-patch")
    rows = response.text.splitlines()
    assert rows[rows.index("TX .") + 1:][-1] == "TC ."
    return ([r for r in rows if r.startswith("H ")], [r[2:] for r in rows if r.startswith("D ")],
            [r[2:] for r in rows if r.startswith("A ")])


def test_the_content_at_start_is_release_1(client: TestClient, backend: Backend, store: EmbeddedStore) -> None:
    """The store's own checksum: blank node labels are each store's own."""
    (first,) = releases(client)
    assert (first["version"], first["added"], first["removed"]) == ("1", len(store), 0)
    assert first["checksum"] == backend.checksum() and first["quads"] == len(store)
    _, deleted, added = patch(client, 1)
    assert not deleted and len(added) == len(store)


def test_an_update_makes_a_release_whose_patch_holds_exactly_the_inserted_triple(writable: TestClient,
                                                                                 fresh_store: EmbeddedStore) -> None:
    assert update(writable, INSERT) == 204
    second, first = releases(writable)
    assert (second["version"], second["added"], second["removed"]) == ("2", 1, 0)
    assert second["previous"] == first["@id"] and second["checksum"] == fresh_store.checksum()
    header, deleted, added = patch(writable, 2)
    assert (deleted, added) == ([], [NOTE])
    first_id = patch(writable, 1)[0][0].split()[2]
    assert header == [f"H id {header[0].split()[2]} .", f"H prev {first_id} ."]


def test_each_read_after_a_write_sees_it_as_a_release_of_its_own(writable: TestClient) -> None:
    assert update(writable, INSERT) == 204
    assert [r["version"] for r in releases(writable)] == ["2", "1"]
    assert update(writable, DELETE) == 204
    assert [r["version"] for r in releases(writable)] == ["3", "2", "1"]
    assert patch(writable, 2)[1:] == ([], [NOTE]) and patch(writable, 3)[1:] == ([NOTE], [])


def test_writes_that_undo_each_other_before_anyone_looks_make_no_release(writable: TestClient) -> None:
    update(writable, INSERT)
    update(writable, DELETE)
    assert [r["version"] for r in releases(writable)] == ["1"]


def test_unobserved_writes_become_one_release_within_the_interval(fresh_store: EmbeddedStore) -> None:
    settings = Settings(write_token=TOKEN, release_interval=0.2)
    with TestClient(create_app(settings, store=fresh_store)) as client:
        log = client.app.state.publication.log  # type: ignore[attr-defined]
        assert update(client, INSERT) == 204
        assert update(client, INSERT.replace("notes/1", "notes/2")) == 204  # nothing reads the releases
        deadline = time.monotonic() + 60  # a bound on the wait for the follower, not a speed check
        while sum(r.added for r in log.releases[1:]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        # the follower may look between the two writes on a busy machine: then each is a release of its own
        first, *later = [(r.version, r.added, r.removed) for r in log.releases]
        assert first == (1, len(fresh_store) - 2, 0) and later in ([(2, 2, 0)], [(2, 1, 0), (3, 1, 0)])


def test_the_last_writes_are_a_release_when_the_service_stops(fresh_store: EmbeddedStore) -> None:
    with TestClient(create_app(Settings(write_token=TOKEN, release_interval=3600), store=fresh_store)) as client:
        log = client.app.state.publication.log  # type: ignore[attr-defined]
        assert update(client, INSERT) == 204
        assert len(log.releases) == 1
    assert [(r.version, r.added) for r in log.releases] == [(1, len(fresh_store) - 1), (2, 1)]


def test_a_release_that_could_not_be_recorded_at_the_write_is_recorded_at_the_next_read(
        writable: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(self: ReleaseLog, store: EmbeddedStore) -> None:
        raise OSError("no space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(ReleaseLog, "record", full_disk)
        assert update(writable, INSERT) == 204  # the write got through all the same
    assert [r["version"] for r in releases(writable)] == ["2", "1"]
    assert patch(writable, 2)[1:] == ([], [NOTE])


def test_a_patch_is_sent_gzipped_to_clients_that_take_gzip(client: TestClient) -> None:
    packed = client.get("/releases/1", headers={"accept-encoding": "gzip"})
    plain = client.get("/releases/1", headers={"accept-encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.text == plain.text and plain.text.startswith("H id <urn:uuid:")


def test_a_write_that_changes_nothing_makes_no_release(writable: TestClient) -> None:
    assert update(writable, INSERT) == 204
    assert update(writable, INSERT) == 204  # the triple is there already
    assert update(writable, INSERT.replace("A note", "Another").replace("INSERT", "DELETE")) == 204  # not there
    assert [r["version"] for r in releases(writable)] == ["2", "1"]


def test_a_refused_write_makes_no_release(writable: TestClient) -> None:
    assert update(writable, NO_SOURCE) == 422
    assert len(releases(writable)) == 1


def test_a_delete_is_a_release_of_d_rows(writable: TestClient) -> None:
    update(writable, INSERT)
    assert len(releases(writable)) == 2
    update(writable, DELETE)
    latest = releases(writable)[0]
    assert (latest["version"], latest["added"], latest["removed"]) == ("3", 0, 1)
    assert patch(writable, 3)[1:] == ([NOTE], [])
    assert latest["checksum"] == releases(writable)[-1]["checksum"]  # back to the content of release 1


def test_a_graph_store_upload_is_a_release_too(writable: TestClient) -> None:
    body = b'<https://example.org/notes/2> <http://www.w3.org/2000/01/rdf-schema#comment> "Uploaded"@en .'
    response = writable.post("/rdf-graph-store", params={"graph": "https://example.org/graph/notes"}, content=body,
                             headers={"content-type": "application/n-triples", **AUTH})
    assert response.status_code == 201
    assert patch(writable, 2)[2] == [body.decode()[:-2] + " <https://example.org/graph/notes> ."]


def test_an_unknown_release_is_a_problem_404(client: TestClient) -> None:
    response = client.get("/releases/999")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_the_list_reads_as_dcat_versions_in_json_ld(writable: TestClient) -> None:
    update(writable, INSERT)
    response = writable.get("/releases")
    assert response.headers["content-type"] == "application/ld+json"
    graph = Graph().parse(data=response.text, format="json-ld")
    dataset = URIRef("https://w3id.org/ecrn/void")
    versions = set(graph.objects(dataset, DCAT.hasVersion))
    assert versions == {URIRef("http://testserver/releases#release-1"), URIRef("http://testserver/releases#release-2")}
    current = graph.value(dataset, DCAT.hasCurrentVersion)
    assert current == URIRef("http://testserver/releases#release-2")
    assert graph.value(current, DCAT.previousVersion) == URIRef("http://testserver/releases#release-1")
    assert graph.value(current, DCTERMS.issued) is not None


@pytest.fixture
def disk_store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """An on-disk store, loaded once per module and copied for each test."""
    cached = tmp_path_factory.getbasetemp() / "release-store"
    if not cached.exists():
        with TestClient(create_app(Settings(store_path=cached))):
            pass
        shutil.rmtree(cached.parent / f"{cached.name}.releases")
    shutil.copytree(cached, tmp_path / "store")
    return tmp_path / "store"


def serving(path: Path, *data: Path) -> TestClient:
    return TestClient(create_app(Settings(store_path=path, data_files=list(data), write_token=TOKEN)))


def test_the_releases_of_an_on_disk_store_survive_a_restart(disk_store: Path) -> None:
    with serving(disk_store) as client:
        assert update(client, INSERT) == 204
        before = releases(client)
        changes = client.get("/releases/2").text
        dump = client.get("/dumps/ecrn-kg.nq.gz").headers["etag"]
    assert (disk_store.parent / "store.releases" / "releases.json").exists()
    with serving(disk_store) as client:
        assert releases(client) == before
        assert client.get("/releases/2").text == changes
        assert client.get("/dumps/ecrn-kg.nq.gz").headers["etag"] == dump


def test_a_change_made_while_the_service_was_stopped_is_a_release_at_the_next_start(disk_store: Path) -> None:
    with serving(disk_store) as client:
        assert len(releases(client)) == 1
    with serving(disk_store, TEST_DATA / "tiny.ttl") as client:
        latest = releases(client)[0]
        assert latest["version"] == "2" and latest["added"] > 0
        assert any("tiny-agency" in row for row in patch(client, 2)[2])


class Watched(RemoteStore):
    """A remote store that counts the times its whole content is read."""

    reads = 0

    def dump(self, fmt: str, graph: str | None = None, prefixes: dict[str, str] | None = None) -> bytes:
        self.reads += 1
        return super().dump(fmt, graph, prefixes)


@pytest.mark.parametrize("fresh_store", ["remote"], indirect=True)
def test_a_replica_of_a_remote_store_starts_without_reading_what_the_shared_log_holds(fresh_store: RemoteStore,
                                                                                      tmp_path: Path) -> None:
    """Replicas sharing a directory share the release log and the mark of writes: the first reads the store and
    records; one started later, or told of a write it did not make, finds the log current and reads nothing."""
    settings = Settings(write_token=TOKEN, shared_path=tmp_path)
    first, second = (Watched(fresh_store.endpoints, mark=tmp_path / "written") for _ in range(2))
    with TestClient(create_app(settings, store=first)) as one:
        assert update(one, INSERT) == 204
        assert sorted(r["version"] for r in releases(one)) == ["1", "2"] and first.reads == 2
        with TestClient(create_app(settings, store=second)) as other:
            assert releases(other) == releases(one) and second.reads == 0
            assert update(one, DELETE) == 204
            assert len(releases(one)) == 3 and first.reads == 3
            time.sleep(STATE_SECONDS)  # the second replica looks at the mark again
            assert releases(other) == releases(one) and second.reads == 0
