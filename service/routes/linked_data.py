"""Dereferenceable IRIs: things under /id/ and /def/ answer 303 See Other to their documents under /doc/, and a
document negotiates HTML for people or Turtle, JSON-LD, N-Triples, RDF/XML for machines (Turtle for */*);
a file extension (.html, .ttl, .jsonld, .nt, .rdf) chooses explicitly."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from graph import IRI, Job, Namespaces, resources
from graph.schemas import vocabulary
from graph.store import is_iri
from service import describing, html, jsonld, negotiation
from service.blocking import run_blocking, run_query
from service.deps import PoolDep, SettingsDep
from service.problems import NotAcceptableError, NotFoundError
from service.settings import Settings

router = APIRouter(include_in_schema=False)
EXTENSIONS = {"html": "html", "ttl": "turtle", "jsonld": "jsonld", "nt": "ntriples", "rdf": "rdfxml"}
MEDIA_TYPES = {"html": "text/html", "turtle": "text/turtle", "jsonld": "application/ld+json",
               "ntriples": "application/n-triples", "rdfxml": "application/rdf+xml"}
EXISTS = "SELECT ?item WHERE { { ?item ?p ?o } UNION { ?s ?p ?item } } LIMIT 1"


@router.api_route("/id/{path:path}", methods=["GET", "HEAD"])
async def thing(request: Request, path: str) -> Response:
    return _see_other(request, "/doc/" + path)


@router.api_route("/def/{path:path}", methods=["GET", "HEAD"])
async def term(request: Request, path: str) -> Response:
    return _see_other(request, "/doc/def/" + path)


def _see_other(request: Request, document: str) -> Response:
    """303 to the document about the thing, with the query string (a chosen language, say) kept."""
    root = request.scope.get("root_path", "").rstrip("/")
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(root + document + query, status_code=303, headers={"Vary": "Accept"})


@router.api_route("/doc/{path:path}", methods=["GET", "HEAD"])
async def document(request: Request, path: str, pool: PoolDep, settings: SettingsDep) -> Response:
    path, fmt = _format(path, request.headers.get("accept"))
    iri = IRI(settings.base_iri + (path if path.startswith("def/") else "id/" + path))
    if not is_iri(iri.value):
        raise NotFoundError(f"{path!r} names no resource: it does not make an IRI")
    if fmt == "html":
        return await _page(request, pool, settings, iri)
    if not await _exists(pool, settings, iri):
        raise NotFoundError(f"the graph says nothing about {iri.value}")
    job = Job(Namespaces(settings.base_iri).rebase(resources.document_query()),
              {"graph": "ntriples" if fmt == "jsonld" else fmt}, settings.row_cap, substitutions={"item": iri})
    answer = await run_query(pool, job, settings.query_timeout)
    body = answer.body
    if fmt == "jsonld":
        body = await run_blocking(jsonld.compact, body, vocabulary(Namespaces(settings.base_iri)))
    headers = {"Vary": "Accept", **_alternates(request, path)}
    if answer.truncated:
        headers["Result-Truncated"] = f"true; limit={settings.row_cap}"
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


def _format(path: str, accept: str | None) -> tuple[str, str]:
    """The path without a file extension, and the format: the extension's, else the negotiated one."""
    stem, dot, extension = path.rpartition(".")
    if dot and extension in EXTENSIONS and "/" not in extension:
        return stem, EXTENSIONS[extension]
    chosen = negotiation.choose(accept, "document")
    if chosen is None:
        raise NotAcceptableError("documents are served as " + ", ".join(dict.fromkeys(MEDIA_TYPES.values())))
    return path, chosen[0]


async def _exists(pool: PoolDep, settings: Settings, iri: IRI) -> bool:
    return bool(await describing.select(pool, settings, EXISTS, {"item": iri}))


def _alternates(request: Request, path: str) -> dict[str, str]:
    """Link headers to the document in each format, by its file-extension URL."""
    root = request.scope.get("root_path", "").rstrip("/")
    links = [f'<{root}/doc/{path}.{ext}>; rel="alternate"; type="{MEDIA_TYPES[fmt]}"'
             for ext, fmt in EXTENSIONS.items()]
    return {"Link": ", ".join(links)}


async def _page(request: Request, pool: PoolDep, settings: Settings, iri: IRI) -> Response:
    language = html.language_of(request)
    described = await describing.describe(pool, settings, iri, language)
    if described is None:
        raise NotFoundError(f"the graph says nothing about {iri.value}")
    path = html.document_path(iri.value, settings.base_iri) or ""
    return html.render(request, settings, "resource.html", {
        "resource": described, **describing.sections(described, settings.base_iri),
        "downloads": {ext: f"{path}.{ext}" for ext in EXTENSIONS if ext != "html"},
        "ontology_term": _ontology_term(iri.value, settings.base_iri)},
        headers=_alternates(request, path.removeprefix("/doc/")))



def _ontology_term(iri: str, base: str) -> str | None:
    """A term's anchor in the ontology's documentation: `Region` for a class, `themes/innovation-rtd` for a concept."""
    name = iri.removeprefix(base + "def/")
    return name if name != iri and name else None
