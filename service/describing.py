"""What the REST API and the HTML pages both show: lists of resources with facets, and one resource described."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graph import IRI, Job, Literal, NamedQueryError, Namespaces, resources
from graph.terms import Term
from service.backend import Pool
from service.blocking import run_query
from service.settings import Settings

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"
SKOS_ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass
class Listing:
    """One page of a list, with the total and the counts per facet value."""

    items: list[dict[str, Any]]
    total: int
    more: bool
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


async def select(pool: Pool, settings: Settings, sparql: str, bound: dict[str, Term]) -> list[dict[str, Any]]:
    """Rows as {variable: SPARQL JSON term}."""
    return (await select_capped(pool, settings, sparql, bound))[0]


async def select_capped(pool: Pool, settings: Settings, sparql: str, bound: dict[str, Term]
                        ) -> tuple[list[dict[str, Any]], bool]:
    """Rows as {variable: SPARQL JSON term}, and whether the row cap cut them."""
    job = Job(Namespaces(settings.base_iri).rebase(sparql), {"select": "json"}, settings.row_cap,
              substitutions=bound)
    answer = await run_query(pool, job, settings.query_timeout)
    rows: list[dict[str, Any]] = json.loads(answer.body)["results"]["bindings"]
    return rows, answer.truncated


def labelled(term: dict[str, str] | None) -> dict[str, str | None]:
    """A label and its language tag."""
    return {"label": term["value"] if term else None, "labelLanguage": term.get("xml:lang") if term else None}


def bind_filters(params: dict[str, str], settings: Settings, kind: resources.Kind, language: str) -> dict[str, Term]:
    """The list query's bound variables: the kind's IRI prefix, the language, and each filter given in `params`."""
    bound: dict[str, Term] = {"prefix": Literal(f"{settings.base_iri}id/{kind.slug_kind}/"),
                              "lang": Literal(language)}
    for name in resources.FILTERS:
        raw = params.get(name)
        if raw:
            try:
                bound[name] = resources.bind(name, raw, settings.base_iri)
            except ValueError:
                raise NamedQueryError(f"{name} has no resource or year {raw!r}", name) from None
    if params.get("q"):
        bound["q"] = Literal(params["q"])
    return bound


async def list_items(pool: Pool, settings: Settings, kind: resources.Kind, bound: dict[str, Term],
                     facets: list[str], limit: int, offset: int) -> Listing:
    """A page of the items of `kind` that pass the bound filters, and the facet counts over all of them."""
    filters = {n: "" for n in resources.FILTERS if n in bound}
    rows = await select(pool, settings, resources.list_query(kind, filters, "q" in bound), bound)
    items = [{"iri": r["item"]["value"], "slug": r["item"]["value"].rsplit("/", 1)[1], **labelled(r.get("label"))}
             for r in rows[offset:offset + limit]]
    listing = Listing(items, len(rows), len(rows) > offset + limit)
    for name in facets:
        if name not in resources.FACETS:
            raise NamedQueryError(f"facet must be one of {', '.join(resources.FACETS)}", "facet")
        counted = await select(pool, settings, resources.facet_query(kind, name, filters, "q" in bound), bound)
        listing.facets[name] = [{"value": r["value"]["value"], "label": r["label"]["value"] if "label" in r else None,
                                 "count": int(r["count"]["value"])} for r in counted]
    return listing


async def describe(pool: Pool, settings: Settings, iri: IRI, language: str) -> dict[str, Any] | None:
    """Facts about `iri` with labels in `language` (else English), its incoming links and its sources, and whether
    the row cap cut them; None when the graph says nothing about it."""
    bound: dict[str, Term] = {"item": iri, "lang": Literal(language)}
    rows, cut = await select_capped(pool, settings, resources.describe_query(), bound)
    return {**_described(iri, rows, language), "truncated": cut} if rows else None


def _described(iri: IRI, rows: list[dict[str, Any]], language: str) -> dict[str, Any]:
    properties: dict[tuple[str, str], dict[str, Any]] = {}
    labels: list[tuple[bool, str, dict[str, str]]] = []
    for row in rows:
        prop, value = row["property"]["value"], row["value"]
        entry = properties.setdefault((row["direction"]["value"], prop), {
            "property": prop, "label": row["propertyLabel"]["value"] if "propertyLabel" in row else None,
            "values": []})
        described = {"value": value["value"], "type": value["type"],
                     **({"language": value["xml:lang"]} if "xml:lang" in value else {}),
                     **({"datatype": value["datatype"]} if "datatype" in value else {}),
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
    return {"iri": iri.value, **labelled(chosen or english or next(iter(ranked), None)),
            "sources": sources, "properties": outgoing,
            "incoming": [p for (d, _), p in properties.items() if d == "in"]}


def sections(described: dict[str, Any], base: str) -> dict[str, list[dict[str, Any]]]:
    """A description's outgoing properties split for a page: its types, the alternative values where sources
    disagree, and the other facts (sources are listed on their own)."""
    alternative = base + "def/alternativeValue"
    split: dict[str, list[dict[str, Any]]] = {"types": [], "alternatives": [], "facts": []}
    for entry in described["properties"]:
        prop = entry["property"]
        if prop != DCTERMS_SOURCE:
            split["types" if prop == RDF_TYPE else "alternatives" if prop == alternative else "facts"].append(entry)
    split["facts"].sort(key=lambda entry: (entry["property"] != RDFS_LABEL, (entry["label"] or "~").lower()))
    return split
