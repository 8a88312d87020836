"""The resource API: /api/{kind} lists with filters, facets and pages; /api/{kind}/{slug} describes one."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from graph import IRI, Job, Literal, NamedQueryError, Namespaces, resources
from graph.schemas import vocabulary
from graph.terms import Term
from service import jsonld, negotiation
from service.blocking import run_blocking
from service.deps import PoolDep, SettingsDep
from service.problems import NotFoundError
from service.settings import Settings

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"
SKOS_ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
router = APIRouter(prefix="/api", tags=["resources"])
KindName = StrEnum("KindName", {name: name for name in resources.KINDS})  # type: ignore[misc]
KindPath = Annotated[KindName, Path(examples=["regions"])]


Lang = Annotated[str | None, Query(description="Language of labels (else Accept-Language's first choice); each "
                                               "label falls back to English", examples=["de"])]


async def _select(pool: PoolDep, settings: Settings, sparql: str, bound: dict[str, Term]) -> list[dict[str, Any]]:
    """Rows as {variable: SPARQL JSON term}."""
    job = Job(Namespaces(settings.base_iri).rebase(sparql), {"select": "json"}, settings.row_cap,
              substitutions=bound)
    answer = await run_blocking(pool.execute, job, settings.query_timeout)
    rows: list[dict[str, Any]] = json.loads(answer.body)["results"]["bindings"]
    return rows


def _language(request: Request, lang: str | None) -> str:
    return negotiation.choose_language(lang, request.headers.get("accept-language"))


def _labelled(term: dict[str, str] | None) -> dict[str, str | None]:
    """A label and its language tag."""
    return {"label": term["value"] if term else None, "labelLanguage": term.get("xml:lang") if term else None}


def _bound(request: Request, settings: Settings, kind: resources.Kind, language: str) -> dict[str, Term]:
    bound: dict[str, Term] = {"prefix": Literal(f"{settings.base_iri}id/{kind.slug_kind}/"),
                              "lang": Literal(language)}
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
    bound = _bound(request, settings, spec, language)
    filters = {n: "" for n in resources.FILTERS if n in bound}
    rows = await _select(pool, settings, resources.list_query(spec, filters, "q" in bound), bound)
    page = rows[offset:offset + limit]
    items = [{"iri": r["item"]["value"], "slug": r["item"]["value"].rsplit("/", 1)[1], **_labelled(r.get("label"))}
             for r in page]
    facets = {}
    for name in facet or []:
        if name not in resources.FACETS:
            raise NamedQueryError(f"facet must be one of {', '.join(resources.FACETS)}", "facet")
        counted = await _select(pool, settings, resources.facet_query(spec, name, filters, "q" in bound), bound)
        facets[name] = [{"value": r["value"]["value"], "label": r["label"]["value"] if "label" in r else None,
                         "count": int(r["count"]["value"])} for r in counted]
    more = len(rows) > offset + limit
    response.headers["Link"] = _links(request, limit, offset, more)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
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
    language = _language(request, lang)
    rows = await _select(pool, settings, resources.describe_query(), {"item": iri, "lang": Literal(language)})
    if not rows:
        raise NotFoundError(f"there is no {spec.slug_kind} '{slug}'")
    wants_jsonld = frame is not None or format == "jsonld" or (format is None and negotiation.choose(
        request.headers.get("accept"), "graph") == ("jsonld", "application/ld+json") and
        "application/ld+json" in request.headers.get("accept", ""))
    if not wants_jsonld:
        return JSONResponse(_describe(iri, spec, rows, language),
                            headers={"Vary": "Accept, Accept-Language", "Content-Language": language})
    frame_document = {"@id": iri.value, **(jsonld.parse_frame(frame) or {})}
    job = Job(Namespaces(settings.base_iri).rebase(resources.facts_query()), {"graph": "ntriples"}, settings.row_cap,
              substitutions={"item": iri})
    answer = await run_blocking(pool.execute, job, settings.query_timeout)
    body = await run_blocking(jsonld.frame, answer.body, vocabulary(Namespaces(settings.base_iri)), frame_document)
    return Response(body, media_type="application/ld+json", headers={"Vary": "Accept"})


def _describe(iri: IRI, spec: resources.Kind, rows: list[dict[str, Any]], language: str) -> dict[str, Any]:
    properties: dict[tuple[str, str], dict[str, Any]] = {}
    labels: list[tuple[bool, str, dict[str, str]]] = []
    for row in rows:
        prop, value = row["property"]["value"], row["value"]
        entry = properties.setdefault((row["direction"]["value"], prop), {
            "property": prop, "label": row["propertyLabel"]["value"] if "propertyLabel" in row else None,
            "values": []})
        described = {"value": value["value"], **({"language": value["xml:lang"]} if "xml:lang" in value else {}),
                     "label": row["valueLabel"]["value"] if "valueLabel" in row else None,
                     "graph": row["graph"]["value"]}
        if described not in entry["values"]:
            entry["values"].append(described)
        if row["direction"]["value"] == "out" and prop in (RDFS_LABEL, SKOS_ALT_LABEL):
            labels.append((prop != RDFS_LABEL, value["value"], value))
    outgoing = [p for (d, _), p in properties.items() if d == "out"]
    ranked = [term for _, _, term in sorted(labels, key=lambda t: t[:2])]  # labels before alternative labels
    chosen = next((t for t in ranked if t.get("xml:lang", "").split("-")[0] == language), None)
    english = next((t for t in ranked if t.get("xml:lang", "").split("-")[0] == "en"), None)
    sources = sorted({v["value"] for p in outgoing if p["property"] == DCTERMS_SOURCE for v in p["values"]})
    return {"iri": iri.value, "kind": spec.slug_kind, **_labelled(chosen or english or next(iter(ranked), None)),
            "sources": sources, "properties": outgoing,
            "incoming": [p for (d, _), p in properties.items() if d == "in"]}
