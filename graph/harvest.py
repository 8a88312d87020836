"""Harvests: reference data from remote SPARQL endpoints, one named graph per recipe, with provenance and a cache.

A recipe is a CONSTRUCT query in harvest_recipes/ whose '#+' YAML header gives a summary, the endpoint it is meant
for and `values`: a SELECT run on our own store, whose rows (as the engine writes them) become a VALUES block that
opens the CONSTRUCT's WHERE clause. The answer goes to {base}graph/harvest/{recipe}, with PROV-O provenance of the
graph itself (endpoint, query, start and end), replacing the previous harvest and refreshing the entailments in one
transaction. Every live harvest is also written to the cache; when an endpoint cannot be reached or fails, the cached
harvest is loaded instead. Harvested data is about IRIs outside the graph's own space, so the shapes do not judge it
(as writes.py does not judge what it does not mint); an answer about IRIs under the base is refused.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from SPARQLWrapper import POST, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, SPARQLWrapperException

from graph.entailment import entail_all
from graph.errors import EndpointUnavailableError, HarvestError, ParseError
from graph.named_queries import with_block
from graph.namespaces import Namespaces
from graph.remote import said
from graph.store import EmbeddedStore, Store
from graph.terms import ABSOLUTE_IRI

RECIPES = Path(__file__).resolve().parent / "harvest_recipes"
AGENT = "ecrn-kg-harvest/0.1 (+https://w3id.org/ecrn/)"
ACCEPT = "text/turtle, application/n-triples;q=0.9, application/rdf+xml;q=0.5"
FORMATS = {"text/turtle": "turtle", "application/n-triples": "ntriples", "text/plain": "ntriples",
           "application/rdf+xml": "rdfxml", "application/ld+json": "jsonld"}
PROLOGUE = ("PREFIX prov: <http://www.w3.org/ns/prov#>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n")
SPARQL_QUERY = "http://www.iana.org/assignments/media-types/application/sparql-query"


@dataclass(frozen=True)
class Recipe:
    """A harvest recipe: the CONSTRUCT sent to the endpoint and the local SELECT that gives its VALUES."""

    name: str
    summary: str
    endpoint: str
    values: str
    text: str

    def query(self, store: Store, ns: Namespaces) -> str:
        """The CONSTRUCT to send: the local rows, in the engine's own term syntax, as a VALUES block."""
        tsv = store.query(ns.rebase(self.values)).serialize("tsv").decode()
        header, *rows = tsv.splitlines()
        cells = [row.split("\t") for row in rows]
        if any(cell.startswith("_:") for row in cells for cell in row):
            raise HarvestError(f"recipe {self.name}: its values query gives blank nodes, which VALUES cannot hold")
        lines = " ".join(f"({' '.join(cell or 'UNDEF' for cell in row)})" for row in cells)
        return _with_values(self.text, f"VALUES ({header.replace(chr(9), ' ')}) {{ {lines} }}", self.name)


@dataclass(frozen=True)
class Harvest:
    """One recipe's harvest: its graph (in a store of its own), the endpoint, and whether it came from the cache."""

    recipe: Recipe
    graph: str
    data: EmbeddedStore
    endpoint: str
    fetched: str  # when the endpoint answered (xsd:dateTime)
    problem: str | None = None  # why the cache was used; None for a live harvest

    @property
    def triples(self) -> int:
        return len(self.data)


def recipes(folder: Path = RECIPES) -> dict[str, Recipe]:
    """Every recipe in `folder` by name (the file stem)."""
    return {r.name: r for r in map(parse_recipe, sorted(folder.glob("*.rq")))}


def parse_recipe(path: Path) -> Recipe:
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line[2:] for line in text.splitlines() if line.startswith("#+"))
    meta = yaml.safe_load(header) or {}
    missing = [key for key in ("summary", "endpoint", "values") if not meta.get(key)]
    if missing:
        raise HarvestError(f"{path.name}: the '#+' header needs {', '.join(missing)}")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))
    return Recipe(path.stem, " ".join(meta["summary"].split()), meta["endpoint"], meta["values"], body)


def choose(names: list[str] | None, folder: Path = RECIPES) -> list[Recipe]:
    """The recipes named (each once, in order), or every recipe; HarvestError for an unknown name."""
    known = recipes(folder)
    unknown = [name for name in names or [] if name not in known]
    if unknown:
        raise HarvestError(f"unknown recipe {unknown[0]!r}; the recipes are {', '.join(known)}")
    return [known[name] for name in dict.fromkeys(names or known)]


def cache_for(store_path: Path) -> Path:
    """The default cache of a store's harvests: beside it, never inside the engine's directory."""
    return store_path.parent / f"{store_path.name}.harvest"


def graph_of(recipe: str, ns: Namespaces) -> str:
    return ns.graph_for(f"harvest/{recipe}")


def harvest(store: Store, chosen: list[Recipe], ns: Namespaces, cache: Path, endpoint: str | None = None,
            timeout: float = 60.0) -> list[Harvest]:
    """Harvest every recipe (from `endpoint`, else its own), falling back on the cache; then replace their graphs in
    `store` in one transaction and cache the live harvests. Nothing changes if any recipe fails with no cache."""
    if endpoint is not None:
        _check_endpoint(endpoint)
    done = []
    for recipe in chosen:
        source = endpoint or recipe.endpoint
        try:
            done.append(_live(store, recipe, ns, source, timeout))
        except EndpointUnavailableError as error:
            done.append(_cached(recipe, ns, cache, str(error)))
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise HarvestError(f"cannot make the cache directory {cache}: {error.strerror or error}") from None
    _apply(store, done, ns)
    for live in (h for h in done if h.problem is None):
        _write(cache / f"{live.recipe.name}.ttl", live.data.dump("turtle", live.graph, ns.prefixes()))
    return done


def fetch(endpoint: str, query: str, timeout: float) -> tuple[bytes, str]:
    """The answer of `endpoint` to a CONSTRUCT: its body and RDF format (a key of store.RDF_FORMATS).

    EndpointUnavailableError when it cannot be reached or fails, HarvestError when it refuses the query (4xx)."""
    wrapper = SPARQLWrapper(endpoint, agent=AGENT)
    wrapper.setMethod(POST)
    wrapper.setRequestMethod(URLENCODED)
    wrapper.setOnlyConneg(True)
    wrapper.addCustomHttpHeader("Accept", ACCEPT)
    wrapper.setTimeout(math.ceil(timeout))
    wrapper.setQuery(query)
    try:
        response = wrapper.query().response
        try:
            body, media_type = response.read(), response.headers.get_content_type()
        finally:
            response.close()
    except EndPointInternalError as error:
        raise EndpointUnavailableError(f"{endpoint} failed: {said(error)}") from None
    except SPARQLWrapperException as error:  # 400, 401, 404, 414: the endpoint will not answer this query
        raise HarvestError(f"{endpoint} refused the query: {said(error)}") from None
    except urllib.error.HTTPError as error:
        if error.code in (408, 429) or error.code >= 500:
            raise EndpointUnavailableError(f"{endpoint} failed: HTTP {error.code} {error.reason}") from None
        raise HarvestError(f"{endpoint} refused the query: HTTP {error.code} {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:  # URLError, timeouts and broken connections
        raise EndpointUnavailableError(f"{endpoint} cannot be reached: {getattr(error, 'reason', error)}") from None
    if media_type not in FORMATS:
        raise EndpointUnavailableError(f"{endpoint} answered {media_type}, not RDF")
    return body, FORMATS[media_type]


def _live(store: Store, recipe: Recipe, ns: Namespaces, endpoint: str, timeout: float) -> Harvest:
    query, graph, data = recipe.query(store, ns), graph_of(recipe.name, ns), EmbeddedStore()
    started = _now()
    body, fmt = fetch(endpoint, query, timeout)
    ended = _now()
    try:
        data.parse_bytes(body, fmt, graph, endpoint)
    except ParseError as error:
        raise EndpointUnavailableError(f"{endpoint} answered RDF that does not parse: {error}") from None
    ours = data.query(f"SELECT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), {_string(ns.base)})) }} LIMIT 1").rows()
    if ours:
        raise HarvestError(f"{endpoint} answered triples about this graph's own IRIs (such as {ours[0]['s']}); "
                           "a harvest holds reference data about others only")
    data.update(PROLOGUE + f"""INSERT DATA {{ GRAPH <{graph}> {{
        <{graph}> dcterms:source <{endpoint}> ; dcterms:description {_string(recipe.summary)} ;
            prov:wasGeneratedBy _:harvest .
        _:harvest a prov:Activity ; prov:used <{endpoint}>, _:query ;
            prov:startedAtTime "{started}"^^xsd:dateTime ; prov:endedAtTime "{ended}"^^xsd:dateTime .
        _:query a prov:Entity ; prov:value {_string(query)} ; dcterms:format <{SPARQL_QUERY}> . }} }}""")
    return Harvest(recipe, graph, data, endpoint, ended)


def _cached(recipe: Recipe, ns: Namespaces, cache: Path, problem: str) -> Harvest:
    path, graph, data = cache / f"{recipe.name}.ttl", graph_of(recipe.name, ns), EmbeddedStore()
    if not path.is_file():
        raise HarvestError(f"{recipe.name}: {problem}, and there is no cached harvest at {path}; nothing changed")
    data.parse_bytes(path.read_bytes(), "turtle", graph, str(path))
    about = data.query(PROLOGUE + f"SELECT ?endpoint ?ended WHERE {{ <{graph}> dcterms:source ?endpoint ; "
                                  "prov:wasGeneratedBy/prov:endedAtTime ?ended }").rows()
    if not about:
        raise HarvestError(f"{recipe.name}: {problem}, and {path} is not a harvest of <{graph}>; nothing changed")
    return Harvest(recipe, graph, data, about[0]["endpoint"], about[0]["ended"], problem)


def _apply(store: Store, harvests: list[Harvest], ns: Namespaces) -> None:
    """Replace the harvests' graphs, the entailments and the meta graph's date in one transaction."""
    graphs = [h.graph for h in harvests]
    staging = EmbeddedStore()
    staging.copy_from(store, graphs=[*graphs, ns.entailment_graph])
    for done in harvests:
        staging.copy_from(done.data)
    meta = f"GRAPH <{ns.meta_graph}> {{ <{ns.meta_graph}> dcterms:modified"
    staging.update(PROLOGUE + f'DELETE WHERE {{ {meta} ?modified }} }} ;\n'
                   f'INSERT DATA {{ {meta} "{_now()}"^^xsd:dateTime }} }}')
    entail_all(staging, ns)
    store.replace_graphs(staging, [*graphs, ns.entailment_graph, ns.meta_graph])
    store.flush()


def _with_values(text: str, block: str, name: str) -> str:
    found = with_block(text, block)
    if found is None:
        raise HarvestError(f"recipe {name}: no 'WHERE {{' to put the VALUES block in")
    return found


def _check_endpoint(endpoint: str) -> None:
    if not (endpoint.startswith(("http://", "https://")) and ABSOLUTE_IRI.match(endpoint)):
        raise HarvestError(f"the endpoint must be an http(s) URL: {endpoint!r}")


def _string(text: str) -> str:
    """A SPARQL string literal of any text: a JSON string is one."""
    return json.dumps(text, ensure_ascii=False)


def _write(path: Path, data: bytes) -> None:
    """Replace the cached harvest at `path` atomically."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as error:
        raise HarvestError(f"the store holds the new harvest, but {path} cannot be written: "
                           f"{error.strerror or error}") from None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
