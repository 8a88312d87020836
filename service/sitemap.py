"""The sitemap (https://www.sitemaps.org/protocol.html): the service's own pages and the document of every resource.

A sitemap holds at most 50,000 URLs; past that, /sitemap.xml is an index of pages (?page=1, 2, …).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from graph import Job, Literal
from service.backend import Pool
from service.catalogue import Links
from service.problems import NotFoundError

PAGE_SIZE = 50_000
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
RESOURCES = "SELECT DISTINCT ?s ?prefix WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?prefix)) } ORDER BY ?s"
KIND_SLUG = re.compile(r"^[A-Za-z0-9._~-]+/[A-Za-z0-9._~-]+$")  # {kind}/{slug}, as the document path takes it
TIMEOUT = 300.0


@dataclass(frozen=True)
class Entry:
    loc: str
    lastmod: datetime | None = None


class ResourcePaths:
    """`{kind}/{slug}` of every resource under `{base}id/`, as of the pool's last write."""

    def __init__(self, pool: Pool, base_iri: str) -> None:
        self._pool, self._prefix = pool, base_iri + "id/"
        self._cached: tuple[int, list[str]] | None = None

    def get(self) -> list[str]:
        """Blocking: the query runs in a worker."""
        generation = self._pool.generation
        if self._cached is None or self._cached[0] != generation:
            job = Job(RESOURCES, {"select": "json"}, 2**62, substitutions={"prefix": Literal(self._prefix)})
            rows = json.loads(self._pool.execute(job, TIMEOUT).body)["results"]["bindings"]
            paths = [row["s"]["value"][len(self._prefix):] for row in rows]
            self._cached = (generation, [p for p in paths if KIND_SLUG.match(p)])
        return self._cached[1]


def render(links: Links, paths: list[str], issued: datetime, page: int | None, page_url: str) -> bytes:
    """The sitemap; one page of it (from 1); or, past the limit when no page is asked for, the index of its pages
    (`page_url` followed by each page number)."""
    entries = [Entry(links.home), Entry(links.sparql), Entry(links.catalog, issued), Entry(links.releases, issued),
               *(Entry(url, issued) for url in links.dumps.values()),
               *(Entry(f"{links.home}doc/{path}") for path in paths)]
    count = max(1, -(-len(entries) // PAGE_SIZE))
    if page is not None and page > count:
        raise NotFoundError(f"the sitemap has {count} page(s)")
    if page is None and count > 1:
        return _document("sitemapindex", "sitemap", [Entry(f"{page_url}{n}", issued) for n in range(1, count + 1)])
    chosen = entries if page is None else entries[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return _document("urlset", "url", chosen)


def _document(root: str, element: str, entries: list[Entry]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root} xmlns="{NAMESPACE}">']
    for entry in entries:
        lastmod = f"<lastmod>{entry.lastmod.isoformat()}</lastmod>" if entry.lastmod else ""
        lines.append(f"<{element}><loc>{escape(entry.loc)}</loc>{lastmod}</{element}>")
    lines.append(f"</{root}>")
    return ("\n".join(lines) + "\n").encode()
