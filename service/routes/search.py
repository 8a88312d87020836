"""Full-text search over labels and descriptions in every language, and prefix suggestions for a search box."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Query, Request

from service.blocking import run_blocking
from service.deps import PoolDep, SettingsDep
from service.routing import ReadRouter
from service.searching import index_of, languages

router = ReadRouter(prefix="/api", tags=["search"])
Text = Annotated[str, Query(min_length=1, max_length=200, description="Words to look for.", examples=["chem"])]
Lang = Annotated[str | None, Query(description="Language of the labels shown (else Accept-Language, then English).",
                                   examples=["de"])]
Kind = Annotated[str | None, Query(description="Only resources of this kind, e.g. region, organisation, practice.",
                                   examples=["organisation"])]


@router.get("/search", summary="Resources whose labels or descriptions match the words, best first",
            operation_id="search")
async def search(request: Request, pool: PoolDep, settings: SettingsDep, q: Text, lang: Lang = None,
                 kind: Kind = None, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    index = await run_blocking(index_of(request, pool, settings).get)
    hits = index.search(q, languages(request, lang), kind, limit)
    return {"q": q, "results": [asdict(hit) for hit in hits]}


@router.get("/suggest", summary="Labels that begin with what was typed so far, for autocomplete",
            operation_id="suggest")
async def suggest(request: Request, pool: PoolDep, settings: SettingsDep, q: Text, lang: Lang = None,
                  kind: Kind = None, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
    index = await run_blocking(index_of(request, pool, settings).get)
    hits = index.suggest(q, languages(request, lang), kind, limit)
    return {"q": q, "suggestions": [{"iri": h.iri, "kind": h.kind, "label": h.label} for h in hits]}
