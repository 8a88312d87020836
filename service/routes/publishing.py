"""Publishing: dumps with checksums and cache validators, the DCAT-AP catalogue record, the sitemap, and the
releases with their changes (RDF Patch)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, cast

from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from graph import Namespaces
from graph.releases import Release
from service import catalogue, description, negotiation, release_feed, sitemap
from service.blocking import run_blocking
from service.catalogue import Links
from service.conditional import http_date, not_modified
from service.deps import SettingsDep
from service.dumps import FORMATS, DumpFile, entity_tag, sha256sums
from service.openapi import NOT_MODIFIED, answers
from service.problems import NotFoundError
from service.publication import Publication
from service.routing import ReadRouter
from service.sitemap import ResourcePaths


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """After the app's own start (the pool runs): record the first release and follow the writes; at the end,
    record the last."""
    settings = app.state.settings
    publication = Publication(app.state.store, app.state.pool, Namespaces(settings.base_iri),
                              settings.shared_path / "releases" if settings.shared_path else None)
    await run_blocking(publication.start, settings.release_interval)
    app.state.publication = publication
    app.state.resource_paths = ResourcePaths(app.state.pool, settings.base_iri)
    yield
    await run_blocking(publication.close)


router = ReadRouter(tags=["publishing"], lifespan=lifespan)
DumpPath = Annotated[str, Path(description="The file: N-Quads (gzipped), Turtle or JSON-LD",
                               examples=["ecrn-kg.ttl"], json_schema_extra={"enum": list(FORMATS)})]
CACHING = "public, no-cache"  # keep it, but ask each time: a write may have made a new release
PATCH_TYPE = "text/rdf-patch"


def _publication(request: Request) -> Publication:
    return cast(Publication, request.app.state.publication)


def _conditional(request: Request, body: bytes, media_type: str, etag: str, modified: datetime,
                 headers: dict[str, str]) -> Response:
    """200 with the body (none for HEAD), or 304 when the client's copy is current."""
    headers = {"ETag": etag, "Last-Modified": http_date(modified), "Cache-Control": CACHING, **headers}
    if not_modified(request.headers.get("if-none-match"), request.headers.get("if-modified-since"), etag, modified):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        return Response(status_code=200, media_type=media_type, headers={**headers, "Content-Length": str(len(body))})
    return Response(body, media_type=media_type, headers=headers)


@router.get("/dumps/SHA256SUMS", summary="SHA-256 checksums of the dump files, as `sha256sum --check` reads them",
            operation_id="dump-checksums", response_class=Response,
            responses={200: answers("One line per dump file", "text/plain"), 304: NOT_MODIFIED})
async def dump_checksums(request: Request) -> Response:
    files = await run_blocking(_publication(request).dumps)
    body = sha256sums(files).encode()
    return _conditional(request, body, "text/plain", entity_tag(body), files[0].release.issued, {})


@router.get("/dumps/{name}", summary="A dump of the whole graph, built once per release; conditional GET with "
            "If-None-Match or If-Modified-Since", operation_id="get-dump", response_class=Response,
            responses={200: answers("The dump", *dict.fromkeys(f.media_type for f in FORMATS.values())),
                       304: NOT_MODIFIED})
async def get_dump(request: Request, name: DumpPath) -> Response:
    if name not in FORMATS:
        raise NotFoundError(f"there is no dump {name!r}; the dumps are {', '.join(FORMATS)}")
    file = await run_blocking(_publication(request).dump, name)
    return _conditional(request, file.body, file.format.media_type, file.etag, file.release.issued,
                        {"Repr-Digest": file.repr_digest})


@router.get("/catalog", summary="The DCAT-AP 3 record: the dataset, its dumps, releases and data services "
            "(RDF, negotiated)", operation_id="catalog", response_class=Response,
            responses={200: answers("The record, in the negotiated RDF format", *negotiation.GRAPH_MEDIA_TYPES)})
async def catalog(request: Request, settings: SettingsDep) -> Response:
    publication = _publication(request)
    files = await run_blocking(publication.dumps)
    releases = [r for r in publication.log.releases if r.version <= files[0].release.version]
    who = catalogue.Publisher(settings.publisher_name, settings.contact_url)
    return await run_blocking(_record, Links.of(request), settings.base_iri, files, releases, who,
                              request.headers.get("accept"))


def _record(links: Links, base_iri: str, files: list[DumpFile], releases: list[Release], who: catalogue.Publisher,
            accept: str | None) -> Response:
    return description.respond(catalogue.record(links, base_iri, files, releases, who), accept)


@router.get("/releases", summary="The releases, newest first: date, content checksum, quads added and removed "
            "(JSON-LD: DCAT 3 versions)", operation_id="list-releases", response_class=Response,
            responses={200: answers("The releases", "application/ld+json")})
async def list_releases(request: Request, settings: SettingsDep) -> JSONResponse:
    publication = _publication(request)
    await run_blocking(publication.latest)
    body = release_feed.document(Links.of(request), settings.base_iri, publication.log.releases)
    return JSONResponse(body, media_type="application/ld+json")


@router.get("/releases/{version}", summary="The changes of one release as an RDF Patch: quads deleted (D) and added "
            "(A) since the release before", operation_id="release-changes", response_class=Response,
            responses={200: {"content": {PATCH_TYPE: {"schema": {"type": "string"}}}}})
async def release_changes(request: Request, version: Annotated[int, Path(ge=1, examples=[1])]) -> Response:
    publication = _publication(request)
    await run_blocking(publication.latest)  # a write not yet recorded is recorded first
    packed = await run_blocking(publication.log.patch, version)
    if packed is None:
        raise NotFoundError(f"there is no release {version}")
    vary = {"Vary": "Accept-Encoding"}
    if _accepts_gzip(request.headers.get("accept-encoding")):  # as stored: no need to unpack it
        return Response(packed, media_type=PATCH_TYPE, headers={"Content-Encoding": "gzip", **vary})
    return Response(await run_blocking(gzip.decompress, packed), media_type=PATCH_TYPE, headers=vary)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    """gzip by its own quality when the header names it, else by that of `*`; refused at q=0."""
    ranges = negotiation.parse_accept(accept_encoding) if accept_encoding else []
    named = [r for r in ranges if r.type == "gzip"] or [r for r in ranges if r.type == "*"]
    return bool(named) and named[0].q > 0


@router.get("/sitemap.xml", summary="The sitemap: home, SPARQL, catalogue, dumps, releases and the page of every "
            "resource; past 50,000 URLs an index of pages", operation_id="sitemap", response_class=Response,
            responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}}}})
async def sitemap_xml(request: Request,
                      page: Annotated[int | None, Query(ge=1, description="One page of a sitemap index",
                                                        examples=[1])] = None) -> Response:
    latest = await run_blocking(_publication(request).latest)
    paths = await run_blocking(request.app.state.resource_paths.get)
    page_url = f"{request.url_for('sitemap_xml')}?page="
    body = await run_blocking(sitemap.render, Links.of(request), paths, latest.issued, page, page_url)
    return Response(body, media_type="application/xml")
