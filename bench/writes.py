"""Write latency on a large store: SPARQL updates checked in the sandbox, then applied with their entailments.

    python bench/generate.py --triples 1000000 --seed 1 --output var/bench/syn-1m-s1.nt
    python bench/writes.py var/bench/syn-1m-s1.nt --writes 10
    python bench/writes.py var/bench/syn-1m-s1.nt --store var/bench/disk-store   # on disk: checkpoints for workers
    python bench/writes.py var/bench/syn-1m-s1.nt --remote   # a remote store: an Oxigraph server on loopback
    python bench/writes.py --remote                          # the ChemClust graph alone

With `--remote`, an `oxigraph serve --location var/bench/run/writes-remote --union-default-graph` is started on a
free loopback port (and always stopped), the graph is loaded into it through graph.remote as the service does, and
each write is pinned and checked in a sandbox holding the surroundings of what it names (graph.pinning); the script
then times what a write that cannot be pinned starts with (a copy of the whole store), and the start of a replica's
release log: once reading the store, once finding the shared log current.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from servers import HOST, ROOT, Processes, answers, free_port, oxigraph_exe

from graph import EmbeddedStore, Namespaces, QueryPool, load_files, writes
from graph.load import default_files
from graph.remote import Endpoints, RemoteStore
from graph.remote_pool import RemotePool
from service.publication import Publication

UPDATE = """PREFIX ecrn: <https://w3id.org/ecrn/def/> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA {{ GRAPH <https://w3id.org/ecrn/graph/contrib> {{
  <https://w3id.org/ecrn/id/organisation/bench-{n}> a ecrn:DevelopmentAgency ; rdfs:label "Bench agency {n}"@en ;
      dcterms:source <https://example.org/bench> }} }}"""
RENAME = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
DELETE {{ GRAPH ?g {{ ?o rdfs:label ?old }} }} INSERT {{ GRAPH ?g {{ ?o rdfs:label ?new }} }}
WHERE {{ GRAPH ?g {{ ?o rdfs:label ?old }} FILTER(?o = <https://w3id.org/ecrn/id/organisation/bench-{n}>)
  BIND(STRLANG(CONCAT(STR(?old), " (renamed)"), "en") AS ?new) }}"""
SERVICE_TIMEOUT = 30.0  # the service's default query time limit (ECRN_QUERY_TIMEOUT), also that of a write


@contextmanager
def remote_store(timeout: float, mark: Path) -> Iterator[RemoteStore]:
    """An empty Oxigraph server on disk, as the service's remote store (each request bounded by `timeout` s, as
    ECRN_QUERY_TIMEOUT bounds the service's; `mark` renewed by each update); stopped on the way out."""
    procs = Processes(ROOT / "var" / "bench" / "logs")
    location = ROOT / "var" / "bench" / "run" / "writes-remote"
    shutil.rmtree(location, ignore_errors=True)
    location.parent.mkdir(parents=True, exist_ok=True)
    base = f"http://{HOST}:{free_port()}"
    try:
        procs.spawn("writes-oxigraph", [str(oxigraph_exe()), "serve", "--location", str(location),
                                        "--union-default-graph", "--bind", base.removeprefix("http://")])
        deadline = time.monotonic() + 60
        while not answers(f"{base}/query"):
            if time.monotonic() > deadline:
                raise SystemExit(f"oxigraph did not answer at {base}:\n{procs.log_tail('writes-oxigraph')}")
            time.sleep(0.2)
        yield RemoteStore(Endpoints(f"{base}/query", f"{base}/update"), timeout, mark=mark)
    finally:
        procs.stop_all()


def time_writes(pool: QueryPool | RemotePool, store: EmbeddedStore | RemoteStore, count: int, timeout: float) -> None:
    """`count` INSERT DATA writes of a new organisation, then `count` DELETE/INSERT … WHERE renaming each."""
    for kind, text in (("INSERT DATA", UPDATE), ("DELETE/INSERT WHERE", RENAME)):
        seconds, visible = [], []
        for n in range(count):
            started = time.perf_counter()
            writes.commit(pool, store, writes.Change(text.format(n=n)), Namespaces(), timeout=timeout)
            seconds.append(time.perf_counter() - started)
            pool.select(f"SELECT * WHERE {{ <https://w3id.org/ecrn/id/organisation/bench-{n}> ?p ?o }}", timeout)
            visible.append(time.perf_counter() - started)  # a reader sees it: fresh workers are up
        over = sum(s > SERVICE_TIMEOUT for s in seconds)
        print(f"{count} checked writes ({kind}): median {statistics.median(seconds) * 1000:.0f} ms, "
              f"max {max(seconds) * 1000:.0f} ms; seen by a reader after median "
              f"{statistics.median(visible) * 1000:.0f} ms; {over} took longer than the service's "
              f"{SERVICE_TIMEOUT:g} s")


def time_release_starts(pool: RemotePool, store: RemoteStore, shared: Path) -> None:
    """A replica's release log at start: the first reads the store; the next finds the shared log current."""
    for which in ("first replica (reads the store)", "next replica (shared log current)"):
        publication = Publication(store, pool, Namespaces(), shared / "releases")
        started = time.perf_counter()
        publication.start(3600)
        print(f"release log at the start of the {which}: {time.perf_counter() - started:.1f} s")
        publication.close()


def load(store: EmbeddedStore | RemoteStore, data: Path | None) -> None:
    """Load the ChemClust graph and `data`; into a remote store, say how long the batches and the last update took."""
    sent: list[float] = []
    if isinstance(store, RemoteStore):
        store.progress = lambda done, total: sent.append(time.perf_counter())
    started = time.perf_counter()
    load_files(store, [*default_files(), *([data] if data else [])], validate=False)
    ended = time.perf_counter()
    print(f"loaded {data.name if data else 'the ChemClust graph'}: {len(store):,} quads in {ended - started:.1f} s")
    if sent:
        print(f"  {len(sent)} batches of INSERT DATA sent in {sent[-1] - started:.1f} s from the start of the load "
              f"(parsing and entailing first); the closing MOVE of every graph took {ended - sent[-1]:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?", help="an N-Triples file made by bench/generate.py "
                        "(default: none, the ChemClust graph alone)")
    parser.add_argument("--writes", type=int, default=10)
    parser.add_argument("--store", type=Path, help="an empty directory for an on-disk store (default: in memory)")
    parser.add_argument("--remote", action="store_true", help="a remote store: an Oxigraph server on loopback")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one write may take (default 600; "
                        f"the service allows {SERVICE_TIMEOUT:g})")
    args = parser.parse_args()
    if not args.remote:
        store = EmbeddedStore(args.store)
        load(store, args.data)
        pool = QueryPool(store, 2)
        pool.start()
        try:
            time_writes(pool, store, args.writes, args.timeout)
        finally:
            pool.close()
        return
    shared = ROOT / "var" / "bench" / "run" / "writes-shared"
    shutil.rmtree(shared, ignore_errors=True)
    with remote_store(args.timeout, shared / "written") as remote:
        load(remote, args.data)
        pool = RemotePool(remote, 6)  # the service's 2 + 4 query slots
        pool.start()
        time_writes(pool, remote, args.writes, args.timeout)
        started = time.perf_counter()
        remote.copy(time.monotonic() + args.timeout)
        print(f"one copy of the remote store into memory (what a write that cannot be pinned starts with): "
              f"{time.perf_counter() - started:.1f} s")
        time_release_starts(pool, remote, shared)


if __name__ == "__main__":
    main()
