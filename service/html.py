"""HTML for people: one Jinja2 environment, the language of a page, and links from IRIs to this host's pages.

An IRI under the base is shown as a link to its document on the host the page was reached through (under the
ASGI root path, so a deployment behind a reverse proxy links to itself): `{base}id/P` -> `/doc/P`,
`{base}def/` -> `/def/`, `{base}def/P` -> `/doc/def/P`, a named graph `{base}graph/P` -> its content in the graph
store; any other IRI links to itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from graph import Namespaces
from service import negotiation
from service.settings import Settings

# Pages load only their own scripts and styles (inline styles allowed: the ontology page and SVG use them).
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                    "X-Content-Type-Options": "nosniff"}
_LINKABLE = re.compile(r"^(https?|urn):", re.IGNORECASE)
LANGUAGES = {"en": "English", "de": "Deutsch", "nl": "Nederlands", "it": "Italiano", "pl": "Polski",
             "es": "Español", "cs": "Čeština", "fr": "Français"}
TEMPLATES = Jinja2Templates(env=Environment(loader=PackageLoader("service"), autoescape=select_autoescape(),
                                            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True))


def document_path(iri: str, base: str) -> str | None:
    """The path of the document about an IRI under the base, or None for other IRIs."""
    if not iri.startswith(base):
        return None
    rest = iri[len(base):]
    if rest.startswith("id/"):
        return "/doc/" + rest[3:]
    if rest == "def/":
        return "/def/"
    if rest.startswith("def/"):
        return "/doc/" + rest
    if rest.startswith("graph/"):
        return "/rdf-graph-store?" + urlencode({"graph": iri})
    return "/" + rest


class Links:
    """Links of one page: to this host's pages, keeping an explicitly chosen language."""

    def __init__(self, request: Request, settings: Settings, language: str) -> None:
        self.request, self.base, self.language = request, settings.base_iri, language
        self.root: str = request.scope.get("root_path", "").rstrip("/")
        self.keeps_language = "lang" in request.query_params
        self.prefixes = Namespaces(settings.base_iri).prefixes()

    def path(self, path: str, **params: Any) -> str:
        """A path on this host (which may bring its own query), with more parameters; None-valued ones are left
        out."""
        query = {k: v for k, v in params.items() if v is not None}
        if self.keeps_language:
            query.setdefault("lang", self.language)
        joiner = "&" if "?" in path else "?"
        return self.root + path + (f"{joiner}{urlencode(query, doseq=True)}" if query else "")

    def iri(self, iri: str) -> str | None:
        """Where a link to `iri` points: its document here if it is ours, else the IRI itself if it is a web or URN
        address; None for any other scheme (javascript:, data:, …), which is shown, never linked."""
        local = document_path(iri, self.base)
        if local is not None:
            return self.path(local)
        return iri if _LINKABLE.match(iri) else None

    def asset(self, path: str) -> str:
        """A path on this host that is the same in every language (a style sheet, a dump, a description)."""
        return self.root + path

    def name(self, iri: str) -> str:
        """A compact name for an unlabelled IRI (skos:note), else the IRI."""
        for prefix, namespace in self.prefixes.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace):]}"
        return iri

    def same(self, drop: Iterable[str] = (), **params: Any) -> str:
        """This page with some query parameters replaced, and those in `drop` or set to None removed."""
        query = dict(self.request.query_params)
        query.update({k: str(v) for k, v in params.items() if v is not None})
        for name in [*drop, *(k for k, v in params.items() if v is None)]:
            query.pop(name, None)
        return self.root + self.request.url.path.removeprefix(self.root) + (
            f"?{urlencode(query)}" if query else "")


def language_of(request: Request) -> str:
    """The page's language: `lang`, else Accept-Language's first choice, else English."""
    return negotiation.choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def problem_page(request: Request, problem: dict[str, Any], status: int, headers: Mapping[str, str]) -> HTMLResponse:
    """An RFC 9457 problem shown to a person, with the headers that matter to a client (Allow, …) kept."""
    kept = {k: v for k, v in headers.items() if k.lower() in ("allow", "www-authenticate", "retry-after")}
    return render(request, request.app.state.settings, "problem.html", {"problem": problem}, status=status,
                  headers=kept, language="en")


def render(request: Request, settings: Settings, template: str, context: dict[str, Any], *, status: int = 200,
           headers: dict[str, str] | None = None, language: str | None = None) -> HTMLResponse:
    """A page of `template`, with the links, the language (unless given) and its switch."""
    language = language or language_of(request)
    page = {"links": Links(request, settings, language), "language": language, "languages": LANGUAGES, **context}
    response = TEMPLATES.TemplateResponse(request, template, page, status_code=status)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers.update({**SECURITY_HEADERS, **(headers or {})})
    return response
