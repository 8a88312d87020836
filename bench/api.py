"""Latency of typical REST requests (a filtered list with a facet, a search, a suggestion, a named query) and of the
pages and files of the linked-data front end, on the ChemClust graph alone or with a generated graph loaded beside
it, against a real server on loopback.

    python bench/api.py                                   # the ChemClust graph
    python bench/api.py --data var/bench/syn-1m-s1.nt     # with the 1M-triple benchmark graph (made by run.py)
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx

from graph import EmbeddedStore, load_default, load_files
from service.app import create_app
from service.settings import Settings
from tests.conftest import serve_in_thread

REQUESTS = {
    "list regions (country filter, facet)": ("/api/regions", {"country": "DE", "facet": "country", "limit": "50"}),
    "list organisations (type filter, page 2)": ("/api/organisations", {"type": "DevelopmentAgency", "offset": "20",
                                                                          "limit": "20"}),
    "one resource": ("/api/regions/saxony-anhalt", {}),
    "one resource as framed JSON-LD": ("/api/projects/chemclust", {"format": "jsonld"}),
    "list regions, labels in German": ("/api/regions", {"lang": "de", "limit": "50"}),
    "search": ("/api/search", {"q": "chemical parks", "limit": "20"}),
    "suggest": ("/api/suggest", {"q": "sax"}),
    "named query (good practices)": ("/api/queries/good-practices", {"limit": "20"}),
    "page: home": ("/", {}),
    "page: a region": ("/doc/region/saxony-anhalt", {}),
    "page: organisations with facets": ("/organisations", {}),
    "page: transfer network": ("/network", {}),
    "page: query page with a SELECT": ("/sparql", {"query": "SELECT ?s { ?s a <https://w3id.org/ecrn/def/Region> }"}),
    "document as Turtle (303 followed)": ("/id/region/saxony-anhalt", {"_accept": "text/turtle"}),
    "dump: N-Quads (built once, then cached)": ("/dumps/ecrn-kg.nq.gz", {}),
    "DCAT-AP record": ("/catalog", {"_accept": "text/turtle"}),
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an N-Triples file to load beside the ChemClust graph")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    store = EmbeddedStore()
    load_default(store)
    if args.data:
        load_files(store, [args.data], validate=False)
    print(f"store: {len(store):,} quads; answer cache off; {args.repeat} requests each after one warm-up")
    with serve_in_thread(create_app(Settings(answer_cache_bytes=0), store=store)) as url, httpx.Client() as client:
        for name, (path, given) in REQUESTS.items():
            params = dict(given)
            headers = {"Accept": params.pop("_accept", BROWSER if name.startswith("page") else "*/*")}
            client.get(url + path, params=params, headers=headers, timeout=600, follow_redirects=True
                       ).raise_for_status()
            seconds = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                client.get(url + path, params=params, headers=headers, timeout=600, follow_redirects=True
                           ).raise_for_status()
                seconds.append((time.perf_counter() - started) * 1000)
            print(f"  {name:42s} median {statistics.median(seconds):8.1f} ms   p95 "
                  f"{sorted(seconds)[int(0.95 * len(seconds)) - 1]:8.1f} ms")


if __name__ == "__main__":
    main()
