"""What publishing costs: the time to record a release (at start, and after every write) and to build each dump,
and the dump sizes, on the ChemClust graph alone or with a generated graph beside it.

    python bench/publishing.py                                  # the ChemClust graph
    python bench/publishing.py --data var/bench/syn-100k.nt     # with a generated graph (bench/generate.py)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from graph import EmbeddedStore, Namespaces, load_default, load_files
from graph.load import default_files
from graph.releases import ReleaseLog
from service.dumps import FORMATS

T = TypeVar("T")
CHANGE = ('INSERT DATA { GRAPH <https://example.org/graph/bench> { <https://example.org/bench/1> '
          '<http://www.w3.org/2000/01/rdf-schema#comment> "bench"@en } }')


def timed(label: str, function: Callable[[], T]) -> T:
    started = time.perf_counter()
    value = function()
    print(f"{label:<48} {(time.perf_counter() - started) * 1000:9.0f} ms")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an N-Triples file to load beside the ChemClust graph")
    args = parser.parse_args()
    store = EmbeddedStore()
    if args.data:
        load_files(store, [*default_files(), args.data], validate=False)
    else:
        load_default(store)
    print(f"{len(store):,} quads")
    log = ReleaseLog()
    timed("record release 1 (at start: everything added)", lambda: log.record(store))
    timed("a write that changes nothing: checksum only", lambda: log.record(store))
    store.update(CHANGE)
    timed("record release 2 (one quad added)", lambda: log.record(store))
    prefixes = Namespaces().prefixes()
    for name, spec in FORMATS.items():
        if spec.fmt is None:
            body = log.content()  # made when the release was recorded
        else:
            body = timed(f"build {name}", partial(store.dump, spec.fmt, prefixes=prefixes))
        print(f"{name:<48} {len(body):>9,} bytes")


if __name__ == "__main__":
    main()
