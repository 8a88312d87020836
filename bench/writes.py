"""Write latency on a large store: SPARQL updates checked in the sandbox, then applied with their entailments.

    python bench/generate.py --triples 1000000 --seed 1 --output var/bench/syn-1m-s1.nt
    python bench/writes.py var/bench/syn-1m-s1.nt --writes 10
    python bench/writes.py var/bench/syn-1m-s1.nt --store var/bench/disk-store   # on disk: checkpoints for workers
    python bench/writes.py var/bench/syn-1m-s1.nt --remote   # a remote store: an Oxigraph server on loopback
    python bench/writes.py --remote                          # the ChemClust graph alone

With `--remote`, an `oxigraph serve --location var/bench/run/writes-remote --union-default-graph` is started on a
free loopback port (and always stopped), the graph is loaded into it through graph.remote as the service does, and
each write copies the whole remote store into a local sandbox to check it (graph.remote_pool).
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

UPDATE = """PREFIX ecrn: <https://w3id.org/ecrn/def/> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA {{ GRAPH <https://w3id.org/ecrn/graph/contrib> {{
  <https://w3id.org/ecrn/id/organisation/bench-{n}> a ecrn:DevelopmentAgency ; rdfs:label "Bench agency {n}"@en ;
      dcterms:source <https://example.org/bench> }} }}"""
SERVICE_TIMEOUT = 30.0  # the service's default query time limit (ECRN_QUERY_TIMEOUT), also that of a write


@contextmanager
def remote_store(timeout: float) -> Iterator[RemoteStore]:
    """An empty Oxigraph server on disk, as the service's remote store (each request bounded by `timeout` s, as
    ECRN_QUERY_TIMEOUT bounds the service's); stopped on the way out."""
    procs = Processes(ROOT / "var" / "bench" / "logs")
    location = ROOT / "var" / "bench" / "run" / "writes-remote"
    shutil.rmtree(location, ignore_errors=True)
    base = f"http://{HOST}:{free_port()}"
    try:
        procs.spawn("writes-oxigraph", [str(oxigraph_exe()), "serve", "--location", str(location),
                                        "--union-default-graph", "--bind", base.removeprefix("http://")])
        deadline = time.monotonic() + 60
        while not answers(f"{base}/query"):
            if time.monotonic() > deadline:
                raise SystemExit(f"oxigraph did not answer at {base}:\n{procs.log_tail('writes-oxigraph')}")
            time.sleep(0.2)
        yield RemoteStore(Endpoints(f"{base}/query", f"{base}/update"), timeout)
    finally:
        procs.stop_all()


def time_writes(pool: QueryPool | RemotePool, store: EmbeddedStore | RemoteStore, count: int, timeout: float) -> None:
    seconds, visible = [], []
    for n in range(count):
        started = time.perf_counter()
        writes.commit(pool, store, writes.Change(UPDATE.format(n=n)), Namespaces(), timeout=timeout)
        seconds.append(time.perf_counter() - started)
        pool.select(f"SELECT * WHERE {{ <https://w3id.org/ecrn/id/organisation/bench-{n}> ?p ?o }}", timeout)
        visible.append(time.perf_counter() - started)  # a reader sees it: fresh workers are up
    over = sum(s > SERVICE_TIMEOUT for s in seconds)
    print(f"{count} checked writes: median {statistics.median(seconds) * 1000:.0f} ms, "
          f"max {max(seconds) * 1000:.0f} ms; seen by a reader after median "
          f"{statistics.median(visible) * 1000:.0f} ms; {over} took longer than the service's {SERVICE_TIMEOUT:g} s")


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
    with remote_store(args.timeout) as remote:
        load(remote, args.data)
        started = time.perf_counter()
        remote.copy(time.monotonic() + args.timeout)
        print(f"one copy of the remote store into memory (what each write's check starts with): "
              f"{time.perf_counter() - started:.1f} s")
        pool = RemotePool(remote, 6)  # the service's 2 + 4 query slots; one replica, so no shared mark
        pool.start()
        time_writes(pool, remote, args.writes, args.timeout)


if __name__ == "__main__":
    main()
