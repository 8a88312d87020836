"""Schemathesis against /openapi.json, on a real uvicorn: every operation, with bounded and seeded examples.

The checks: no server error (5xx) but a query stopped at the time limit the client itself set; every status code,
media type, header and JSON body as the document says. Writes are fuzzed too: the server has a write token and the
fuzzer sends it, so they reach the shapes and the store (a copy of the real graph, loaded for this module).

Left out, with the reason:
- positive_data_acceptance: a schema-valid request may still be refused 400 for what JSON Schema cannot say: SPARQL
  that does not parse, both or neither of ?graph and ?default, a string the engine does not take as an IRI, a `q`
  with no word. The 4XX answer is documented and checked; that it is 400 and not 2xx is what this check would flag.
- the stateful phase: the document declares no links between operations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response

from graph import EmbeddedStore, load_default
from service.app import create_app
from service.settings import Settings
from tests.conftest import serve_in_thread

pytestmark = pytest.mark.slow  # starts a server
TOKEN = "fuzz-token"
TIMEOUT_TYPE = "https://w3id.org/ecrn/problems/query-timeout"
# Bodies in these media types are text: the fuzzer sends the generated string as it is (JSON-LD goes as JSON).
TEXT_BODIES = ["application/sparql-query", "application/sparql-update", "application/x-turtle",
               "application/n-triples", "application/rdf+xml"]
CONFIG = {
    "seed": 20261128,
    "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "headers": {"Authorization": f"Bearer {TOKEN}"},
    "checks": {"not_a_server_error": {"enabled": False},  # replaced by no_server_error below
               "positive_data_acceptance": {"enabled": False}},
}

SETTINGS = Settings(write_token=TOKEN, client_max_queries=0, client_query_seconds=0)  # fair use would answer 429

schemathesis.serializer.alias(TEXT_BODIES, "text/plain")
# The document the server serves at /openapi.json (test_the_fuzzed_document_is_the_served_one); built from the app
# (no store opens), since schemathesis makes one test per operation only from a schema it has at collection.
DOCUMENT = create_app(SETTINGS).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real server that writes (with a token) on a copy of the real graph; its base URL."""
    store = EmbeddedStore()
    load_default(store)
    with serve_in_thread(create_app(SETTINGS, store=store)) as url:
        yield url


def test_the_fuzzed_document_is_the_served_one(server: str) -> None:
    assert httpx.get(f"{server}/openapi.json").json() == DOCUMENT


def _asked_time_limit(case: Case, response: Response) -> bool:
    """A 503 query-timeout to a request that set its own `timeout` (a client may ask for 1e-38 s)."""
    if response.status_code != 503 or "timeout" not in parse_qs(urlsplit(response.request.url).query):
        return False
    try:
        return bool(json.loads(response.content)["type"] == TIMEOUT_TYPE)
    except (ValueError, KeyError, TypeError):
        return False


@schemathesis.check
def no_server_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 5xx is a bug, but a query stopped at the time limit its client asked for."""
    if response.status_code >= 500 and not _asked_time_limit(case, response):
        raise AssertionError(f"{case.operation.label} answered {response.status_code}: {response.text[:300]}")
    return None


@schema.parametrize()
def test_every_operation_conforms_and_never_fails(case: Case, server: str) -> None:
    case.call_and_validate(base_url=server, additional_checks=[no_server_error])
