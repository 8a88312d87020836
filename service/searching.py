"""The search index of the service: built from the store in a worker, rebuilt after each write."""

from __future__ import annotations

import threading

from fastapi import Request

from graph.search import TEXTS, SearchIndex
from service.backend import Pool
from service.settings import Settings


class IndexCache:
    """The search index as of the pool's last write; rebuilt (from the store, in a worker) after a write."""

    def __init__(self, pool: Pool, settings: Settings) -> None:
        self._pool, self._settings = pool, settings
        self._lock = threading.Lock()
        self._cached: tuple[int, SearchIndex] | None = None

    def get(self) -> SearchIndex:
        with self._lock:
            generation = self._pool.generation
            if self._cached is None or self._cached[0] != generation:
                rows = self._pool.select(TEXTS, self._settings.query_timeout * 10)
                self._cached = (generation, SearchIndex(rows, self._settings.base_iri))
            return self._cached[1]


def languages(request: Request, lang: str | None) -> list[str]:
    """The asked language, then those of Accept-Language by quality."""
    ranges = []
    for order, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, q = part.strip().partition(";q=")
        if tag and tag != "*":
            ranges.append((-float(q or 1) if q.replace(".", "", 1).isdigit() or not q else 0, order, tag.lower()))
    accepted = [tag for _, _, tag in sorted(ranges)]
    return ([lang.lower()] if lang else []) + accepted + [tag.split("-")[0] for tag in accepted if "-" in tag]


def index_of(request: Request, pool: Pool, settings: Settings) -> IndexCache:
    if not hasattr(request.app.state, "search"):
        request.app.state.search = IndexCache(pool, settings)
    cache: IndexCache = request.app.state.search
    return cache
