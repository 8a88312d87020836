"""The memory allocator `ecrn-kg serve` runs with: jemalloc, preloaded, where it is installed.

The query engine allocates at every step of a query; with jemalloc in place of the C library's malloc the
service answers about a quarter more queries on a million triples (bench/README, "jemalloc, and the servers side
by side"). A process cannot change its allocator once started, so `serve` starts itself again with `LD_PRELOAD`
set, before it loads anything; the query workers it forks inherit the allocator.

jemalloc is also told to back its memory with transparent huge pages (where the kernel allows them): the engine
walks linked index nodes across the heap, and with fewer, larger pages it misses the TLB less (bench/README,
"Huge pages"). A `MALLOC_CONF` already set is left as it is.
"""

from __future__ import annotations

import os
import sys
from ctypes.util import find_library
from typing import Literal

Allocator = Literal["auto", "jemalloc", "system"]
HUGE_PAGES = "thp:always,metadata_thp:always"  # jemalloc's options: huge pages for its memory and its own metadata


class AllocatorError(Exception):
    """The configured allocator is not installed."""


def library(choice: Allocator) -> str | None:
    """The library to preload for `choice`, or None for the C library's own malloc."""
    if choice == "system":
        return None
    found = find_library("jemalloc")
    if found is None and choice == "jemalloc":
        raise AllocatorError("ECRN_ALLOCATOR=jemalloc, but jemalloc is not installed "
                             "(Debian: apt-get install libjemalloc2)")
    return found


def preload(choice: Allocator, huge_pages: bool = True) -> None:
    """Start this command again with the allocator preloaded, unless it is preloaded already (or the system's);
    `huge_pages`: with jemalloc's huge-page options, unless MALLOC_CONF is set."""
    lib = library(choice)
    preloaded = os.environ.get("LD_PRELOAD", "")
    if lib is None or lib in preloaded.replace(" ", ":").split(":"):  # ld.so takes either separator
        return
    env = {**os.environ, "LD_PRELOAD": f"{lib}:{preloaded}" if preloaded else lib}
    if huge_pages:
        env.setdefault("MALLOC_CONF", HUGE_PAGES)
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
