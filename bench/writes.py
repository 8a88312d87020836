"""Write latency on a large store: SPARQL updates checked in the sandbox, then applied with their entailments.

    python bench/generate.py --triples 1000000 --seed 1 --output var/bench/syn-1m-s1.nt
    python bench/writes.py var/bench/syn-1m-s1.nt --writes 10
    python bench/writes.py var/bench/syn-1m-s1.nt --store var/bench/disk-store   # on disk: checkpoints for workers
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from graph import EmbeddedStore, Namespaces, QueryPool, load_files, writes
from graph.load import default_files

UPDATE = """PREFIX ecrn: <https://w3id.org/ecrn/def/> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT DATA {{ GRAPH <https://w3id.org/ecrn/graph/contrib> {{
  <https://w3id.org/ecrn/id/organisation/bench-{n}> a ecrn:DevelopmentAgency ; rdfs:label "Bench agency {n}"@en ;
      dcterms:source <https://example.org/bench> }} }}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="an N-Triples file made by bench/generate.py")
    parser.add_argument("--writes", type=int, default=10)
    parser.add_argument("--store", type=Path, help="an empty directory for an on-disk store (default: in memory)")
    args = parser.parse_args()
    store = EmbeddedStore(args.store)
    started = time.perf_counter()
    load_files(store, [*default_files(), args.data], validate=False)
    print(f"loaded {args.data.name}: {len(store):,} quads in {time.perf_counter() - started:.1f} s")
    pool = QueryPool(store, 2)
    pool.start()
    try:
        seconds, visible = [], []
        for n in range(args.writes):
            started = time.perf_counter()
            writes.commit(pool, store, writes.Change(UPDATE.format(n=n)), Namespaces(), timeout=600)
            seconds.append(time.perf_counter() - started)
            pool.select(f"SELECT * WHERE {{ <https://w3id.org/ecrn/id/organisation/bench-{n}> ?p ?o }}", 600)
            visible.append(time.perf_counter() - started)  # a reader sees it: fresh workers are up
    finally:
        pool.close()
    print(f"{args.writes} checked writes: median {statistics.median(seconds) * 1000:.0f} ms, "
          f"max {max(seconds) * 1000:.0f} ms; seen by a reader after median "
          f"{statistics.median(visible) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
