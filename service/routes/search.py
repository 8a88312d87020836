"""Full-text search over labels and descriptions in every language, and prefix suggestions for a search box."""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from graph import QueryPool
from graph.search import TEXTS, SearchIndex
from service.blocking import run_blocking
from service.deps import PoolDep, SettingsDep
from service.settings import Settings

router = APIRouter(prefix="/api", tags=["search"])
Text = Annotated[str, Query(min_length=1, max_length=200, description="Words to look for.", examples=["chem"])]
Lang = Annotated[str | None, Query(description="Language of the labels shown (else Accept-Language, then English).",
                                   examples=["de"])]
Kind = Annotated[str | None, Query(description="Only resources of this kind, e.g. region, organisation, practice.",
                                   examples=["organisation"])]


class IndexCache:
    """The search index as of the pool's last write; rebuilt (from the store, in a worker) after a write."""

    def __init__(self, pool: QueryPool, settings: Settings) -> None:
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


def _languages(request: Request, lang: str | None) -> list[str]:
    """The asked language, then those of Accept-Language by quality."""
    ranges = []
    for order, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, q = part.strip().partition(";q=")
        if tag and tag != "*":
            ranges.append((-float(q or 1) if q.replace(".", "", 1).isdigit() or not q else 0, order, tag.lower()))
    accepted = [tag for _, _, tag in sorted(ranges)]
    return ([lang.lower()] if lang else []) + accepted + [tag.split("-")[0] for tag in accepted if "-" in tag]


def _index(request: Request, pool: QueryPool, settings: Settings) -> IndexCache:
    if not hasattr(request.app.state, "search"):
        request.app.state.search = IndexCache(pool, settings)
    cache: IndexCache = request.app.state.search
    return cache


@router.get("/search", summary="Resources whose labels or descriptions match the words, best first",
            operation_id="search")
async def search(request: Request, pool: PoolDep, settings: SettingsDep, q: Text, lang: Lang = None,
                 kind: Kind = None, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    index = await run_blocking(_index(request, pool, settings).get)
    hits = index.search(q, _languages(request, lang), kind, limit)
    return {"q": q, "results": [asdict(hit) for hit in hits]}


@router.get("/suggest", summary="Labels that begin with what was typed so far, for autocomplete",
            operation_id="suggest")
async def suggest(request: Request, pool: PoolDep, settings: SettingsDep, q: Text, lang: Lang = None,
                  kind: Kind = None, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
    index = await run_blocking(_index(request, pool, settings).get)
    hits = index.suggest(q, _languages(request, lang), kind, limit)
    return {"q": q, "suggestions": [{"iri": h.iri, "kind": h.kind, "label": h.label} for h in hits]}
