"""The resource API: /api/{kind} lists with filters, facets and pages; /api/{kind}/{slug} describes one."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from graph import IRI, Job, Literal, NamedQueryError, Namespaces, resources
from graph.terms import Term
from service import jsonld, negotiation
from service.blocking import run_blocking
from service.deps import PoolDep, SettingsDep
from service.problems import NotFoundError
from service.settings import Settings

router = APIRouter(prefix="/api", tags=["resources"])
KindName = StrEnum("KindName", {name: name for name in resources.KINDS})  # type: ignore[misc]
Filter = Annotated[str | None, Query()]


async def _select(pool: PoolDep, settings: Settings, sparql: str, bound: dict[str, Term]) -> list[dict[str, Any]]:
    job = Job(Namespaces(settings.base_iri).rebase(sparql), {"select": "json"}, settings.row_cap,
              substitutions=bound)
    answer = await run_blocking(pool.execute, job, settings.query_timeout)
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(answer.body)["results"]["bindings"]]


def _bound(request: Request, settings: Settings, kind: resources.Kind, lang: str | None) -> dict[str, Term]:
    bound: dict[str, Term] = {"prefix": Literal(f"{settings.base_iri}id/{kind.slug_kind}/"),
                              "lang": Literal((lang or "en").lower())}
    for name in resources.FILTERS:
        raw = request.query_params.get(name)
        if raw:
            try:
                bound[name] = resources.bind(name, raw, settings.base_iri)
            except ValueError:
                raise NamedQueryError(f"{name} has no resource or year {raw!r}", name) from None
    if request.query_params.get("q"):
        bound["q"] = Literal(request.query_params["q"])
    return bound


@router.get("/{kind}", summary="A list of resources of one kind, with filters, facets and pages",
            operation_id="list-resources")
async def list_resources(
        request: Request, response: Response, pool: PoolDep, settings: SettingsDep, kind: KindName,
        country: Filter = None, theme: Filter = None, type: Filter = None, project: Filter = None,
        nuts: Annotated[str | None, Query(description="A NUTS code; finds what lies in it, or was coded by it")] = None,
        q: Annotated[str | None, Query(description="Text in a label")] = None,
        lang: Annotated[str | None, Query(description="Language of the local labels")] = None,
        facet: Annotated[list[str] | None, Query(description=f"Counts per {', '.join(resources.FACETS)}")] = None,
        from_: Annotated[int | None, Query(alias="from", description="From this year (start or issue date)")] = None,
        to: Annotated[int | None, Query(description="Up to this year")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50, offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    spec = resources.KINDS[kind.value]
    bound = _bound(request, settings, spec, lang)
    filters = {n: "" for n in resources.FILTERS if n in bound}
    rows = await _select(pool, settings, resources.list_query(spec, filters, "q" in bound), bound)
    page = rows[offset:offset + limit]
    items = [{"iri": r["item"], "slug": r["item"].rsplit("/", 1)[1], "label": r.get("label"),
              "localLabel": r.get("localLabel")} for r in page]
    facets = {}
    for name in facet or []:
        if name not in resources.FACETS:
            raise NamedQueryError(f"facet must be one of {', '.join(resources.FACETS)}", "facet")
        counted = await _select(pool, settings, resources.facet_query(spec, name, filters, "q" in bound), bound)
        facets[name] = [{"value": r["value"], "label": r.get("label"), "count": int(r["count"])} for r in counted]
    more = len(rows) > offset + limit
    response.headers["Link"] = _links(request, limit, offset, more)
    return {"items": items, "total": len(rows), "limit": limit, "offset": offset, "facets": facets}


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
            "(JSON; JSON-LD with Accept: application/ld+json or format=jsonld)", operation_id="get-resource")
async def get_resource(request: Request, pool: PoolDep, settings: SettingsDep, kind: KindName, slug: str,
                       format: Annotated[str | None, Query(pattern="^(json|jsonld)$")] = None) -> Response:
    spec = resources.KINDS[kind.value]
    iri = resources.item_iri(settings.base_iri, spec, slug)
    rows = await _select(pool, settings, resources.describe_query(), {"item": iri})
    if not rows:
        raise NotFoundError(f"there is no {spec.slug_kind} '{slug}'")
    wants_jsonld = format == "jsonld" or (format is None and negotiation.choose(
        request.headers.get("accept"), "graph") == ("jsonld", "application/ld+json") and
        "application/ld+json" in request.headers.get("accept", ""))
    if not wants_jsonld:
        return JSONResponse(_describe(iri, spec, rows), headers={"Vary": "Accept"})
    job = Job(Namespaces(settings.base_iri).rebase(resources.facts_query()), {"graph": "ntriples"}, settings.row_cap,
              substitutions={"item": iri})
    answer = await run_blocking(pool.execute, job, settings.query_timeout)
    context = await run_blocking(jsonld.context, pool, Namespaces(settings.base_iri), settings.query_timeout)
    body = await run_blocking(jsonld.compact, answer.body, context)
    return Response(body, media_type="application/ld+json", headers={"Vary": "Accept"})


def _describe(iri: IRI, spec: resources.Kind, rows: list[dict[str, Any]]) -> dict[str, Any]:
    properties: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        entry = properties.setdefault((row["direction"], row["property"]), {
            "property": row["property"], "label": row.get("propertyLabel"), "values": []})
        value = {"value": row["value"], "label": row.get("valueLabel"), "graph": row["graph"]}
        if value not in entry["values"]:
            entry["values"].append(value)
    outgoing = [p for (d, _), p in properties.items() if d == "out"]
    label = next((v["value"] for p in outgoing if p["property"].endswith("#label") for v in p["values"]), None)
    sources = sorted({v["value"] for p in outgoing if p["property"].endswith("/source") for v in p["values"]})
    return {"iri": iri.value, "kind": spec.slug_kind, "label": label, "sources": sources, "properties": outgoing,
            "incoming": [p for (d, _), p in properties.items() if d == "in"]}
