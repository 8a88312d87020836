"""Backups of an on-disk store taken while a real server serves and writes to it, and their restoration."""

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph import EmbeddedStore, StoreError, backups
from tests.conftest import free_port

TOKEN = "backup-token"
NOTE = ('INSERT DATA { GRAPH <https://example.org/graph/notes> { <https://example.org/notes/{n}> '
        '<http://www.w3.org/2000/01/rdf-schema#comment> "note {n}" } }')
ASK = "ASK {{ <https://example.org/notes/{n}> ?p ?o }}"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real `ecrn-kg serve` on a fresh on-disk store that takes writes."""
    store = tmp_path / "store"
    assert cli("load", "--store", str(store)).returncode == 0
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), "--store", str(store)],
                              env={"PATH": "/usr/bin:/bin", "ECRN_WRITE_TOKEN": TOKEN, "ECRN_LOG_FORMAT": "text"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/ready", timeout=2).raise_for_status()
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)
    try:
        yield url, store
    finally:
        server.terminate()
        server.wait(timeout=30)


def write(url: str, n: int) -> None:
    response = httpx.post(f"{url}/sparql", content=NOTE.replace("{n}", str(n)), timeout=30,
                          headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/sparql-update"})
    assert response.status_code == 204, response.text


def holds(store: Path, n: int) -> bool:
    opened = EmbeddedStore(store, read_only=True)
    try:
        return opened.query(ASK.format(n=n)).boolean
    finally:
        opened.close()


def test_a_backup_taken_while_serving_holds_every_acknowledged_write(serving: tuple[str, Path],
                                                                     tmp_path: Path) -> None:
    url, store = serving
    for n in range(3):
        write(url, n)
    made = cli("backup", str(tmp_path / "backup"), "--store", str(store))
    assert made.returncode == 0, made.stderr
    write(url, 3)  # after the backup: not in it
    assert [holds(tmp_path / "backup", n) for n in range(4)] == [True, True, True, False]
    assert (tmp_path / "backup.releases").is_dir(), "the release log goes with the store"
    assert httpx.get(f"{url}/ready").status_code == 200, "the server serves on"


def test_restore_refuses_a_store_in_use_and_replaces_it_once_stopped(serving: tuple[str, Path],
                                                                      tmp_path: Path) -> None:
    url, store = serving
    write(url, 0)
    assert cli("backup", str(tmp_path / "backup"), "--store", str(store)).returncode == 0
    write(url, 1)
    refused = cli("restore", str(tmp_path / "backup"), "--store", str(store), "--replace")
    assert refused.returncode == 1 and "cannot open store" in refused.stderr
    assert holds(store, 1), "a refused restore changes nothing"


def test_restore_puts_the_backup_in_place(tmp_path: Path) -> None:
    store = tmp_path / "store"
    original = EmbeddedStore(store)
    original.update(NOTE.replace("{n}", "7"))
    original.close()
    assert backups.backup(store, tmp_path / "backup") > 0
    shutil.rmtree(store)
    assert cli("restore", str(tmp_path / "backup"), "--store", str(store)).returncode == 0
    assert holds(store, 7)
    again = cli("restore", str(tmp_path / "backup"), "--store", str(store))
    assert again.returncode == 1 and "exists" in again.stderr


def test_a_backup_never_overwrites_and_needs_a_store(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(StoreError, match="exists"):
        backups.backup(tmp_path, tmp_path / "taken")
    with pytest.raises(StoreError, match="no store"):
        backups.backup(tmp_path / "nowhere", tmp_path / "new")
