"""HTML pages for people: home, a list per kind with facets, search, the map and the transfer network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from graph import Literal, Namespaces, overview, resources
from service import describing, figures, html
from service.blocking import run_blocking
from service.deps import PoolDep, SettingsDep
from service.routing import ReadRouter
from service.searching import index_of, languages
from service.settings import Settings

router = ReadRouter(include_in_schema=False)
TITLES = {"regions": "Regions", "organisations": "Organisations", "projects": "Projects", "practices": "Good practices",
          "transfers": "Transfers", "policies": "Policy instruments", "events": "Events", "people": "People"}
PAGE = 50


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, pool: PoolDep, settings: SettingsDep) -> HTMLResponse:
    language = html.language_of(request)
    rows = await describing.select(pool, settings, overview.COUNTS, {"prefix": Literal(settings.base_iri + "id/")})
    by_class = {r["class"]["value"]: int(r["count"]["value"]) for r in rows}
    ns = Namespaces(settings.base_iri)
    counts = [(name, TITLES[name], by_class.get(ns.rebase(kind.cls), 0)) for name, kind in resources.KINDS.items()]
    shown = {}
    for name in ("projects", "regions"):
        kind = resources.KINDS[name]
        bound = describing.bind_filters({}, settings, kind, language)
        shown[name] = (await describing.list_items(pool, settings, kind, bound, [], 200, 0)).items
    return html.render(request, settings, "home.html", {"counts": counts, "projects": shown["projects"],
                                                        "regions": shown["regions"]})


def _facet_filter(name: str, value: str, base: str) -> dict[str, str]:
    """The list filter that keeps the items of one facet value."""
    if name == "year":
        return {"from": value, "to": value}
    if name == "type":
        return {"type": value.removeprefix(base + "def/")}
    return {name: value if name == "country" else value.rsplit("/", 1)[1]}


def _facet_value(facet: str, value: dict[str, Any], active: dict[str, str], base: str) -> dict[str, Any]:
    """A facet value with the filter that selects it, and whether that filter is on."""
    chosen = _facet_filter(facet, value["value"], base)
    return {**value, "filter": chosen, "current": all(active.get(k) == v for k, v in chosen.items())}


def _offset(raw: str | None) -> int:
    """The list's offset: a whole number, else the first page."""
    try:
        return max(int(raw or 0), 0)
    except ValueError:
        return 0


def _list_page(name: str) -> Callable[..., Awaitable[HTMLResponse]]:
    kind = resources.KINDS[name]

    async def page(request: Request, pool: PoolDep, settings: SettingsDep) -> HTMLResponse:
        language = html.language_of(request)
        params = dict(request.query_params)
        offset = _offset(params.get("offset"))
        bound = describing.bind_filters(params, settings, kind, language)
        listing = await describing.list_items(pool, settings, kind, bound, list(resources.FACETS), PAGE, offset)
        active = {k: v for k, v in params.items() if k in resources.FILTERS}
        facets = {facet: [_facet_value(facet, value, active, settings.base_iri) for value in values]
                  for facet, values in listing.facets.items() if values}
        return html.render(request, settings, "list.html", {
            "title": TITLES[name], "listing": listing, "facets": facets, "offset": offset, "page": PAGE,
            "query": params.get("q", ""), "active": active})

    return page


for _name in resources.KINDS:
    router.add_api_route(f"/{_name}", _list_page(_name), methods=["GET"], response_class=HTMLResponse,
                         name=f"page-{_name}")


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, pool: PoolDep, settings: SettingsDep) -> HTMLResponse:
    text = request.query_params.get("q", "").strip()[:200]
    hits: list[Any] = []
    prefix = False
    if text:
        index = await run_blocking(index_of(request, pool, settings).get)
        wanted = languages(request, request.query_params.get("lang"))
        hits = index.search(text, wanted, None, 50)
        if not hits:  # a word typed in part: the labels that begin with it
            hits, prefix = index.suggest(text, wanted, None, 50), True
    return html.render(request, settings, "search.html", {"query": text, "hits": hits, "prefix": prefix})


@router.get("/map", response_class=HTMLResponse)
async def map_page(request: Request, pool: PoolDep, settings: SettingsDep) -> HTMLResponse:
    rows = await describing.select(pool, settings, overview.PLACES, {"lang": Literal(html.language_of(request))})
    places = [(r["item"]["value"], r["label"]["value"], *coordinates) for r in rows
              if (coordinates := _coordinates(r)) is not None]
    return html.render(request, settings, "map.html", {"points": figures.project(places), **_size()})


@router.get("/network", response_class=HTMLResponse)
async def network_page(request: Request, pool: PoolDep, settings: SettingsDep) -> HTMLResponse:
    links, kinds = await _transfer_links(request, pool, settings)
    points, edges = figures.network(links, kinds)
    return html.render(request, settings, "network.html", {"points": points, "edges": edges, "transfers": links,
                                                           **_size()})


async def _transfer_links(request: Request, pool: PoolDep, settings: Settings
                          ) -> tuple[list[tuple[str, str, str, str, str]], dict[str, str]]:
    rows = await describing.select(pool, settings, overview.TRANSFER_LINKS,
                                   {"lang": Literal(html.language_of(request))})
    links = sorted({(r["source"]["value"], r["sourceLabel"]["value"], r["target"]["value"],
                     r["targetLabel"]["value"], r["title"]["value"]) for r in rows}, key=lambda t: (t[4], t[0]))
    kinds = {r["source"]["value"]: "square" for r in rows if r["sourceKind"]["value"] == "project"}
    return links, kinds


def _coordinates(row: dict[str, Any]) -> tuple[float, float] | None:
    """Latitude and longitude when both are numbers on the globe, else None (the place is left off the map)."""
    try:
        latitude, longitude = float(row["latitude"]["value"]), float(row["longitude"]["value"])
    except ValueError:
        return None
    return (latitude, longitude) if abs(latitude) <= 90 and abs(longitude) <= 180 else None


def _size() -> dict[str, int]:
    return {"width": figures.WIDTH, "height": figures.HEIGHT}
