"""An on-disk store behind the service: queries right after opening, writes that last, refusals that leave no trace."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.conftest import TEST_DATA
from tests.test_updates import PREFIXES

TOKEN = "disk-write-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
ACCEPTED = PREFIXES + """INSERT DATA { GRAPH <https://w3id.org/ecrn/graph/contrib> {
  orgn:disk-agency a ecrn:DevelopmentAgency ; rdfs:label "Disk agency"@en ; ecrn:region region:masovia ;
      dcterms:source <https://example.org/news> } }"""
REFUSED = PREFIXES + """INSERT DATA { orgn:sourceless a ecrn:ClusterOrganisation ; rdfs:label "X"@en }"""


@pytest.fixture(scope="module")
def just_loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store as `ecrn-kg load` leaves it, never opened since: RocksDB compacts it in the background when opened."""
    path = tmp_path_factory.mktemp("loaded") / "store"
    subprocess.run([sys.executable, "-m", "service", "load", "--store", str(path)], check=True, capture_output=True)
    return path


@pytest.fixture
def disk_copy(just_loaded: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(just_loaded, target)
    return target


def serving(path: Path, *data: Path) -> TestClient:
    return TestClient(create_app(Settings(store_path=path, data_files=list(data), write_token=TOKEN)))


def ask(client: TestClient, query: str) -> bool:
    response = client.post("/sparql", data={"query": PREFIXES + query, "timeout": "10"})
    assert response.status_code == 200, response.text
    answer: bool = response.json()["boolean"]
    return answer


@pytest.mark.parametrize("attempt", range(10))
def test_queries_are_answered_while_the_store_compacts_after_opening(disk_copy: Path, attempt: int) -> None:
    with serving(disk_copy, TEST_DATA / "tiny.ttl") as client:
        assert ask(client, "ASK { region:masovia a ecrn:Region }")
        assert ask(client, "ASK { orgn:tiny-agency a org:Organization }")


def test_an_accepted_write_is_seen_at_once_and_kept_across_a_restart(disk_copy: Path) -> None:
    with serving(disk_copy) as client:
        assert client.post("/sparql", data={"update": ACCEPTED}, headers=AUTH).status_code == 204
        assert ask(client, "ASK { orgn:disk-agency a org:Organization }")
    with serving(disk_copy) as client:
        assert ask(client, "ASK { orgn:disk-agency ecrn:region region:masovia }")


def test_a_refused_write_leaves_no_trace_on_disk(disk_copy: Path) -> None:
    with serving(disk_copy) as client:
        assert client.post("/sparql", data={"update": REFUSED}, headers=AUTH).status_code == 422
        assert not ask(client, "ASK { orgn:sourceless ?p ?o }")
    with serving(disk_copy) as client:
        assert not ask(client, "ASK { orgn:sourceless ?p ?o }")


def test_checkpoints_for_workers_are_removed_when_the_service_stops(disk_copy: Path) -> None:
    with serving(disk_copy) as client:
        assert client.post("/sparql", data={"update": ACCEPTED}, headers=AUTH).status_code == 204
        assert [p for p in disk_copy.parent.iterdir() if p.name.startswith(".store-checkpoints-")]
    assert sorted(p.name for p in disk_copy.parent.iterdir()) == ["store", "store.releases"]  # the release log


def test_checkpoints_left_by_a_killed_service_are_removed_at_the_next_start(disk_copy: Path) -> None:
    left = disk_copy.parent / ".store-checkpoints-killed"
    left.mkdir()
    with serving(disk_copy) as client:
        assert ask(client, "ASK { region:masovia a ecrn:Region }")
        assert not left.exists()
