"""`ecrn-kg serve` runs with jemalloc where it is installed, and so do its query workers; `system` keeps malloc.
jemalloc backs its memory with transparent huge pages unless told not to.

Without jemalloc these tests skip, unless ECRN_REQUIRE_JEMALLOC is set (CI sets it; `make system` installs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from ctypes.util import find_library
from pathlib import Path

import httpx
import pytest

from service import allocator
from tests.oxigraph_server import answering, free_port, stop

JEMALLOC = find_library("jemalloc")
if JEMALLOC is None and os.environ.get("ECRN_REQUIRE_JEMALLOC"):
    raise RuntimeError("ECRN_REQUIRE_JEMALLOC is set but jemalloc is not installed "
                       "(Debian: apt-get install libjemalloc2)")
needs_jemalloc = pytest.mark.skipif(JEMALLOC is None, reason="jemalloc is not installed (apt-get install libjemalloc2)")


@contextmanager
def serving(**env: str) -> Iterator[tuple[int, str]]:
    """A real `ecrn-kg serve` with one query worker and `env` added; its pid and SPARQL endpoint."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("ECRN_") and k not in ("LD_PRELOAD", "MALLOC_CONF")}
    with tempfile.TemporaryFile() as said:
        server = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port)],
                                  env={**environ, "ECRN_QUERY_WORKERS": "1", **env},
                                  stdout=subprocess.DEVNULL, stderr=said)
        def told() -> str:
            said.seek(0)
            return said.read().decode(errors="replace")

        try:
            url = f"http://127.0.0.1:{port}/sparql"
            answering(server, url, 60, told)
            yield server.pid, url
        finally:
            stop(server)


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def maps_jemalloc(pid: int) -> bool:
    return "libjemalloc" in Path(f"/proc/{pid}/maps").read_text()


def environment(pid: int, name: str) -> str | None:
    for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if entry.startswith(name.encode() + b"="):
            return entry.split(b"=", 1)[1].decode()
    return None


def preloaded(pid: int) -> str | None:
    return environment(pid, "LD_PRELOAD")


def huge_kib(pid: int) -> int:
    """Anonymous memory of a process in transparent huge pages, in KiB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    return 0


def kernel_huge_pages() -> str:
    """The kernel's transparent huge page mode: always, madvise or never (the one in brackets)."""
    path = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    text = path.read_text() if path.exists() else "[never]"
    return text.split("[", 1)[1].split("]", 1)[0]


def answers(url: str) -> bool:
    ask = "ASK { ?region a <https://w3id.org/ecrn/def/Region> }"
    return bool(httpx.get(url, params={"query": ask}, headers={"Accept": "application/sparql-results+json"},
                          timeout=30).json()["boolean"])


@needs_jemalloc
@pytest.mark.parametrize("choice", ["auto", "jemalloc"])
def test_serve_and_its_query_workers_run_with_jemalloc(choice: str) -> None:
    with serving(ECRN_ALLOCATOR=choice) as (pid, url):
        assert answers(url)
        workers = children(pid)
        assert workers, "the server forked no query worker"
        assert maps_jemalloc(pid) and all(maps_jemalloc(worker) for worker in workers)
        assert preloaded(pid) == JEMALLOC


@needs_jemalloc
def test_jemalloc_backs_the_server_and_its_workers_with_huge_pages() -> None:
    with serving() as (pid, url):
        assert answers(url)
        processes = [pid, *children(pid)]
        assert all(environment(p, "MALLOC_CONF") == allocator.HUGE_PAGES for p in processes)
        if kernel_huge_pages() == "never":
            pytest.skip("the kernel allows no transparent huge pages: nothing more to see")
        assert huge_kib(pid) > 0, "the server holds no memory in huge pages"


@needs_jemalloc
def test_huge_pages_turned_off_or_a_malloc_conf_of_ones_own_are_kept() -> None:
    with serving(ECRN_HUGE_PAGES="false") as (pid, url):
        assert answers(url) and maps_jemalloc(pid)
        assert environment(pid, "MALLOC_CONF") is None
        if kernel_huge_pages() == "madvise":  # (with "always" the kernel gives huge pages to any process)
            assert huge_kib(pid) == 0
    with serving(MALLOC_CONF="narenas:2") as (pid, url):
        assert answers(url) and maps_jemalloc(pid)
        assert environment(pid, "MALLOC_CONF") == "narenas:2"


@needs_jemalloc
def test_serve_started_with_jemalloc_preloaded_does_not_preload_it_again() -> None:
    with serving(ECRN_ALLOCATOR="auto", LD_PRELOAD=str(JEMALLOC)) as (pid, url):
        assert answers(url) and maps_jemalloc(pid)
        assert preloaded(pid) == JEMALLOC


def test_system_keeps_the_c_library_malloc() -> None:
    with serving(ECRN_ALLOCATOR="system") as (pid, url):
        assert answers(url)
        assert not maps_jemalloc(pid) and not any(maps_jemalloc(worker) for worker in children(pid))
        assert preloaded(pid) is None


def test_jemalloc_asked_for_but_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator, "find_library", lambda name: None)  # no way to uninstall it for one test
    with pytest.raises(allocator.AllocatorError, match=r"apt-get install libjemalloc2"):
        allocator.library("jemalloc")
    assert allocator.library("auto") is None and allocator.library("system") is None
