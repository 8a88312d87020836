"""Federation over real servers on loopback: ecrn-kg's SERVICE to a second endpoint (an Oxigraph server holding NUTS
reference data made from data/), with its row cap and time limit; and ecrn-kg as the endpoint that other engines
federate over (the Oxigraph server's own SERVICE, and Comunica when it is installed in var/comunica)."""

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from graph import EmbeddedStore
from service.app import create_app
from service.settings import Settings
from tests.conftest import serve_in_thread
from tests.oxigraph_server import oxigraph_server

PREFIXES = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX ecrn: <https://w3id.org/ecrn/def/> "
NUTS = "http://data.europa.eu/nuts/code/"
NRW = "https://w3id.org/ecrn/id/region/north-rhine-westphalia"
SERVICE_TIMEOUT = 2.0
COMUNICA = Path(__file__).parents[1] / "var" / "comunica" / "node_modules" / ".bin" / "comunica-sparql"

# What the reference endpoint holds: each NUTS code of our NUTS units, with their notation, labels and broader code.
REFERENCE = PREFIXES + """CONSTRUCT { ?code skos:notation ?notation ; skos:prefLabel ?label ; skos:broader ?up }
WHERE { ?unit a ecrn:NutsUnit ; skos:closeMatch ?code ; skos:notation ?notation .
        OPTIONAL { ?unit skos:prefLabel ?label } OPTIONAL { ?unit skos:broader/skos:closeMatch ?up } }"""

# Our regions, with the label of each of their NUTS codes and of the code above it, as the reference has them.
JOIN = PREFIXES + """SELECT DISTINCT ?region ?code ?label ?upLabel WHERE {{
  ?region a ecrn:Region ; ecrn:nutsUnit/skos:closeMatch ?code .
  SERVICE <{endpoint}> {{ ?code skos:prefLabel ?label ; skos:broader ?up . ?up skos:prefLabel ?upLabel }} }}"""

# The same join on our graph alone: the units that share a code stand for the reference's one node per code.
LOCAL_JOIN = PREFIXES + """SELECT DISTINCT ?region ?code ?label ?upLabel WHERE {
  ?region a ecrn:Region ; ecrn:nutsUnit/skos:closeMatch ?code .
  ?named skos:closeMatch ?code ; skos:prefLabel ?label .
  ?placed skos:closeMatch ?code ; skos:broader/skos:closeMatch ?up .
  ?above skos:closeMatch ?up ; skos:prefLabel ?upLabel }"""

# North Rhine-Westphalia's level-2 units under DEA, as data/nuts.ttl names them.
NRW_UNITS = {("DEA1", "Düsseldorf"), ("DEA2", "Köln"), ("DEA3", "Münster"), ("DEA4", "Detmold"), ("DEA5", "Arnsberg")}


def rows(response: httpx.Response) -> set[tuple[str, ...]]:
    """The rows of a JSON results answer, each as its values in the order of the head's variables."""
    assert response.status_code == 200, response.text
    body = response.json()
    names = body["head"]["vars"]
    return {tuple(b[n]["value"] if n in b else "" for n in names) for b in body["results"]["bindings"]}


def select(url: str, query: str) -> httpx.Response:
    return httpx.post(url, data={"query": query}, headers={"accept": "application/sparql-results+json"}, timeout=60)


@pytest.fixture(scope="module")
def reference(store: EmbeddedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The query endpoint of an Oxigraph server holding the NUTS reference data, made from our graph's NUTS units."""
    with oxigraph_server(tmp_path_factory.mktemp("reference")) as url:
        data = store.query(REFERENCE).serialize("ntriples")
        loaded = httpx.put(f"{url}/store", params={"graph": "https://example.org/graph/nuts-reference"},
                           content=data, headers={"content-type": "application/n-triples"})
        assert loaded.status_code in (201, 204)
        yield f"{url}/query"


@pytest.fixture(scope="module")
def silent() -> Iterator[str]:
    """An endpoint on loopback that takes connections (the kernel completes them) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql"


class _Careless(BaseHTTPRequestHandler):
    """Answers every query with 50 rows, whatever LIMIT it asks for."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        bindings = [{"n": {"type": "literal", "value": str(i)}} for i in range(50)]
        body = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": bindings}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/sparql-results+json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def careless() -> Iterator[str]:
    """An endpoint on loopback that ignores the LIMIT of the queries it gets."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Careless)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def federating(store: EmbeddedStore, reference: str, silent: str) -> Iterator[str]:
    """ecrn-kg with the reference and the silent endpoint allowlisted: its /sparql URL. Fair use as by default: a
    federating engine opens more requests at once than the 4 a client may run, and the others wait their turn."""
    settings = Settings(service_allowlist=[reference, silent], service_timeout=SERVICE_TIMEOUT, query_timeout=30)
    with serve_in_thread(create_app(settings, store=store)) as url:
        yield f"{url}/sparql"


@pytest.fixture(scope="module")
def capped(store: EmbeddedStore, reference: str, careless: str) -> Iterator[str]:
    """ecrn-kg whose SERVICE calls bring back 5 rows at most: its /sparql URL."""
    settings = Settings(service_allowlist=[reference, careless], service_row_cap=5)
    with serve_in_thread(create_app(settings, store=store)) as url:
        yield f"{url}/sparql"


def test_a_federated_join_gives_our_regions_the_reference_labels_and_hierarchy(federating: str, reference: str) -> None:
    joined = rows(select(federating, JOIN.format(endpoint=reference)))
    assert {(code.removeprefix(NUTS), label) for region, code, label, up in joined
            if region == NRW and up == "Nordrhein-Westfalen"} == NRW_UNITS
    assert joined == rows(select(federating, LOCAL_JOIN))
    assert len({region for region, *_ in joined}) > 10


def test_each_service_call_brings_back_at_most_the_row_cap(capped: str, reference: str) -> None:
    labels = f"SERVICE <{reference}> {{ ?code skos:prefLabel ?label }}"
    assert len(rows(select(reference, PREFIXES + "SELECT * { ?code skos:prefLabel ?label }"))) > 5
    assert len(rows(select(capped, PREFIXES + f"SELECT * WHERE {{ {labels} }}"))) == 5
    twice = PREFIXES + f"SELECT * WHERE {{ {{ {labels} }} UNION {{ SERVICE SILENT <{reference}> {{ ?up ?p ?o }} }} }}"
    assert len(rows(select(capped, twice))) == 10


def test_the_row_cap_holds_past_brackets_in_strings_and_comments(capped: str, reference: str) -> None:
    tricky = PREFIXES + f"""SELECT * WHERE {{ SERVICE SILENT <{reference}> {{ # a comment with {{ and }}
      ?code skos:prefLabel ?label FILTER(?label != "}} {{") OPTIONAL {{ ?code skos:broader ?up }} }} }}"""
    assert len(rows(select(capped, tricky))) == 5
    unbraced = select(capped, f"SELECT * WHERE {{ SERVICE <{reference}> ?s ?p ?o }}")
    assert unbraced.status_code == 400 and unbraced.json()["title"] == "Malformed query"


def test_the_row_cap_holds_against_an_endpoint_that_ignores_limit(capped: str, careless: str) -> None:
    assert len(rows(select(careless, "SELECT * { ?s ?p ?o } LIMIT 5"))) == 50
    assert len(rows(select(capped, f"SELECT ?n WHERE {{ SERVICE <{careless}> {{ ?n ?p ?o }} }}"))) == 5


def test_a_service_that_never_answers_is_stopped_at_the_service_time_limit(
        federating: str, reference: str, silent: str) -> None:
    started = time.monotonic()
    stuck = select(federating, f"SELECT * WHERE {{ SERVICE <{reference}> {{ ?code ?p ?o }} "
                               f"SERVICE <{silent}> {{ ?code ?q ?v }} }}")
    assert time.monotonic() - started < SERVICE_TIMEOUT + 10
    assert stuck.status_code == 503
    problem = stuck.json()
    assert problem["title"] == "Query time limit reached" and f"{SERVICE_TIMEOUT:g} s" in problem["detail"]
    assert rows(select(federating, JOIN.format(endpoint=reference)))  # the stopped worker was replaced


def test_the_oxigraph_server_federates_over_our_endpoint(reference: str, federating: str) -> None:
    query = PREFIXES + f"""SELECT DISTINCT ?region ?code ?label WHERE {{
      ?code skos:broader <{NUTS}DEA> ; skos:prefLabel ?label .
      SERVICE <{federating}> {{ ?region a ecrn:Region ; ecrn:nutsUnit/skos:closeMatch ?code }} }}"""
    assert rows(select(reference, query)) == {(NRW, NUTS + code, label) for code, label in NRW_UNITS}


@pytest.mark.skipif(not COMUNICA.exists() and not os.environ.get("ECRN_REQUIRE_COMUNICA"),
                    reason="Comunica is not installed in var/comunica (`make comunica`)")
def test_comunica_federates_over_our_endpoint_and_the_reference(federating: str, reference: str) -> None:
    query = PREFIXES + f"""SELECT DISTINCT ?code ?label ?upLabel WHERE {{ <{NRW}> ecrn:nutsUnit ?unit .
      ?unit skos:closeMatch ?code . ?code skos:prefLabel ?label ; skos:broader ?up . ?up skos:prefLabel ?upLabel }}"""
    run = subprocess.run([str(COMUNICA), f"sparql@{federating}", f"sparql@{reference}", "-q", query,
                          "-t", "application/sparql-results+json"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    answer = {(b["code"]["value"].removeprefix(NUTS), b["label"]["value"], b["upLabel"]["value"])
              for b in json.loads(run.stdout)["results"]["bindings"]}
    assert answer == {(code, label, "Nordrhein-Westfalen") for code, label in NRW_UNITS}
