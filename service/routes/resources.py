"""The resource API: /api/{kind} lists with filters, facets and pages; /api/{kind}/{slug} describes one."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request, Response
from fastapi.responses import JSONResponse

from graph import Job, Namespaces, resources
from graph.schemas import vocabulary
from graph.store import is_iri
from service import describing, jsonld, negotiation
from service.blocking import run_blocking, run_query
from service.deps import PoolDep, SettingsDep
from service.problems import NotFoundError
from service.routing import ReadRouter

router = ReadRouter(prefix="/api", tags=["resources"])
KindName = StrEnum("KindName", {name: name for name in resources.KINDS})  # type: ignore[misc]
KindPath = Annotated[KindName, Path(examples=["regions"])]


Lang = Annotated[str | None, Query(description="Language of labels (else Accept-Language's first choice); each "
                                               "label falls back to English", examples=["de"])]


def _language(request: Request, lang: str | None) -> str:
    return negotiation.choose_language(lang, request.headers.get("accept-language"))


@router.get("/{kind}", summary="A list of resources of one kind, with filters, facets and pages",
            operation_id="list-resources")
async def list_resources(
        request: Request, response: Response, pool: PoolDep, settings: SettingsDep, kind: KindPath,
        country: Annotated[str | None, Query(description="ISO 3166-1 alpha-2 country code", examples=["DE"])] = None,
        theme: Annotated[str | None, Query(description="A theme of the ECRN theme scheme, by its local name")] = None,
        type: Annotated[str | None, Query(description="A class of the ontology, by its local name")] = None,
        project: Annotated[str | None, Query(description="A project, by its slug", examples=["chemclust"])] = None,
        nuts: Annotated[str | None, Query(description="A NUTS code; finds what lies in it, or was coded by it",
                                          examples=["DEE"])] = None,
        q: Annotated[str | None, Query(description="Text in a label", examples=["sachsen"])] = None,
        lang: Lang = None,
        facet: Annotated[list[str] | None, Query(description=f"Counts per {', '.join(resources.FACETS)}",
                                                 examples=[["country", "year"]])] = None,
        from_: Annotated[int | None, Query(alias="from", description="From this year (start or issue date)")] = None,
        to: Annotated[int | None, Query(description="Up to this year")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50, offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    spec = resources.KINDS[kind.value]
    language = _language(request, lang)
    bound = describing.bind_filters(dict(request.query_params), settings, spec, language)
    listing = await describing.list_items(pool, settings, spec, bound, facet or [], limit, offset)
    response.headers["Link"] = _links(request, limit, offset, listing.more)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return {"items": listing.items, "total": listing.total, "limit": limit, "offset": offset,
            "facets": listing.facets}


def _links(request: Request, limit: int, offset: int, more: bool) -> str:
    def page(start: int) -> str:
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
        return str(request.url.replace(query=urlencode([*query, ("limit", limit), ("offset", start)])))

    links = [f'<{page(0)}>; rel="first"']
    if more:
        links.append(f'<{page(offset + limit)}>; rel="next"')
    if offset:
        links.append(f'<{page(max(offset - limit, 0))}>; rel="prev"')
    return ", ".join(links)


@router.get("/{kind}/{slug}", summary="One resource: its facts with labels, its incoming links and its sources "
            "(JSON; JSON-LD with Accept: application/ld+json or format=jsonld, framed by `frame` if given)",
            operation_id="get-resource", responses={200: {"content": {"application/ld+json": {
                "schema": {"$ref": "#/components/schemas/Resource"}}}}})
async def get_resource(request: Request, pool: PoolDep, settings: SettingsDep, kind: KindPath,
                       slug: Annotated[str, Path(description="The last segment of the resource's IRI",
                                                 examples=["saxony-anhalt"])],
                       format: Annotated[str | None, Query(pattern="^(json|jsonld)$")] = None,
                       lang: Lang = None,
                       frame: Annotated[str | None, Query(description="A JSON-LD frame (JSON); implies JSON-LD. "
                                                          "Without one, the resource is the root, its blank nodes "
                                                          "embedded", examples=['{"@embed": "@never"}'])] = None,
                       ) -> Response:
    spec = resources.KINDS[kind.value]
    iri = resources.item_iri(settings.base_iri, spec, slug)
    if not is_iri(iri.value):
        raise NotFoundError(f"there is no {spec.slug_kind} {slug!r}")
    language = _language(request, lang)
    described = await describing.describe(pool, settings, iri, language)
    if described is None:
        raise NotFoundError(f"there is no {spec.slug_kind} '{slug}'")
    wants_jsonld = frame is not None or format == "jsonld" or (format is None and negotiation.choose(
        request.headers.get("accept"), "graph") == ("jsonld", "application/ld+json") and
        "application/ld+json" in request.headers.get("accept", ""))
    if not wants_jsonld:
        return JSONResponse({"kind": spec.slug_kind, **described},
                            headers={"Vary": "Accept, Accept-Language", "Content-Language": language})
    frame_document = {"@id": iri.value, **(jsonld.parse_frame(frame) or {})}
    job = Job(Namespaces(settings.base_iri).rebase(resources.facts_query()), {"graph": "ntriples"}, settings.row_cap,
              substitutions={"item": iri})
    answer = await run_query(pool, job, settings.query_timeout)
    body = await run_blocking(jsonld.frame, answer.body, vocabulary(Namespaces(settings.base_iri)), frame_document)
    return Response(body, media_type="application/ld+json", headers={"Vary": "Accept"})
