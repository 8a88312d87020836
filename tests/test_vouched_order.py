"""Sort keys the store vouches for (graph.ordering.Vouched, QueryPool.vouched).

A key whose values the store holds in one sort class needs no class key (the engine compares one class consistently,
and the class costs it up to a fifth of a sorted query's time). The store vouches for predicates all of whose objects
fall in one class; a write takes the vouch back until a scan of the new store, and a job rewritten for one state of the
store runs with all its classes on a worker holding another.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pyoxigraph
import pytest

from graph import EmbeddedStore, Job, QueryPool
from graph.ordering import Vouched, sort_class, total_order
from service.app import create_app
from service.settings import Settings
from tests.conftest import serve_in_thread, vouched_after_scan

TOKEN = "vouch-token"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
VOUCHED = Vouched(frozenset({"urn:one", RDF_TYPE}), (("ex", "urn:"),))  # ex: is known to the engine undeclared
S = "SELECT * WHERE "
KEYS = [  # (name, query sorted by ?k, whether ?k keeps its class)
    ("object of a vouched IRI", S + "{ ?s <urn:one> ?k }", False),
    ("object of a prefixed name the engine knows", S + "{ ?s ex:one ?k }", False),
    ("object of a declared prefixed name", "PREFIX my: <urn:> " + S + "{ ?s my:one ?k }", False),
    ("object of `a`", S + "{ ?s a ?k }", False),
    ("object after a semicolon", S + "{ ?s <urn:two> ?o ; <urn:one> ?k . }", False),
    ("first of an object list", S + "{ ?s <urn:one> ?k , ?o }", False),
    ("object of a one-or-more path", S + "{ ?s <urn:one>+ ?k }", False),
    ("object before a FILTER", S + "{ ?s <urn:one> ?k FILTER(bound(?k)) }", False),
    ("object in a block after a FILTER", S + "{ ?a ?b ?c FILTER(true) <urn:s> <urn:one> ?k }", False),
    ("IRIs of VALUES", S + "{ VALUES ?k { <urn:a> ex:b } ?s ?p ?k }", False),
    ("a declared prefix hides the engine's", "PREFIX ex: <urn:x:> " + S + "{ ?s ex:one ?k }", True),
    ("relative IRI", "BASE <urn:> " + S + "{ ?s <one> ?k }", True),
    ("object of a predicate not vouched for", S + "{ ?s <urn:two> ?k }", True),
    ("second of an object list", S + "{ ?s <urn:one> ?o , ?k }", True),
    ("object of a zero-or-more path", S + "{ ?s <urn:one>* ?k }", True),
    ("object of an inverse path", S + "{ ?s ^<urn:one> ?k }", True),
    ("object of a sequence path", S + "{ ?s <urn:two>/<urn:one> ?k }", True),
    ("object of a variable predicate", S + "{ ?s ?p ?k }", True),
    ("object in OPTIONAL", S + "{ ?a ?b ?c OPTIONAL { ?s <urn:one> ?k } }", True),
    ("object in a UNION branch", S + "{ { ?s <urn:one> ?k } UNION { ?s <urn:two> ?k } }", True),
    ("object in a GRAPH", S + "{ GRAPH ?g { ?s <urn:one> ?k } }", True),
    ("object in a blank node's properties", S + "{ ?s <urn:two> [ <urn:one> ?k ] }", True),
    ("object given by AS too", "SELECT ?k { { SELECT (?o AS ?k) { ?s <urn:two> ?o } } ?t <urn:one> ?k }", True),
    ("VALUES with UNDEF", S + "{ VALUES ?k { <urn:a> UNDEF } ?s ?p ?k }", True),
    ("VALUES with a literal", S + "{ VALUES ?k { <urn:a> 'a' } }", True),
    ("VALUES of two variables", S + "{ VALUES (?k ?o) { (<urn:a> <urn:b>) } }", True),
    ("VALUES in OPTIONAL", S + "{ ?s ?p ?o OPTIONAL { VALUES ?k { <urn:a> } } }", True),
    ("CONSTRUCT", "CONSTRUCT { ?s ?p ?k } WHERE { ?s <urn:one> ?k }", True),
]


@pytest.mark.parametrize(("query", "keeps"), [case[1:] for case in KEYS], ids=[case[0] for case in KEYS])
def test_keys_the_store_vouches_for_need_no_class(query: str, keeps: bool) -> None:
    rewritten = total_order(query + " ORDER BY ?k", VOUCHED)
    assert (sort_class("?k") in rewritten) == keeps
    pyoxigraph.Store().query(rewritten, prefixes={"ex": "urn:"})  # the engine takes it (a SyntaxError fails)


def test_without_vouched_predicates_only_iri_values_lose_their_class() -> None:
    assert sort_class("?k") in total_order(S + "{ ?s <urn:one> ?k } ORDER BY ?k")
    assert sort_class("?k") not in total_order(S + "{ VALUES ?k { <urn:a> } } ORDER BY ?k")


def test_the_store_vouches_for_predicates_whose_objects_in_every_graph_are_of_one_class() -> None:
    store = EmbeddedStore()
    store.update("""PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        INSERT DATA {
          <urn:a> <urn:number> 1, 2.5, 3e0 ; <urn:string> "x", "y"@en, "z"^^xsd:string ; <urn:node> <urn:b>, _:c ;
                  <urn:mixed> 1, "one" ; <urn:zones> "2020-01-01"^^xsd:date, "2020-01-02Z"^^xsd:date ; <urn:split> 1 .
          GRAPH <urn:g> { <urn:a> <urn:split> "one" ; <urn:number> 4 }
        }""")
    assert store.one_class_predicates() == {"urn:number", "urn:string", "urn:node"}


def test_a_write_takes_the_vouch_back_until_the_store_is_scanned_again() -> None:
    store = EmbeddedStore()
    store.update("INSERT DATA { <urn:a> <urn:p> 1 ; <urn:q> <urn:b> }")
    pool = QueryPool(store, 1)
    pool.start()
    try:
        assert vouched_after_scan(pool, 0) == {"urn:p", "urn:q"}
        pool.write(lambda: store.update('INSERT DATA { <urn:a> <urn:p> "one" }'))
        assert pool.vouched() == (1, frozenset())
        assert vouched_after_scan(pool, 1) == {"urn:q"}
    finally:
        pool.close()


def test_scans_of_generations_passed_while_they_waited_are_not_begun(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes that come faster than scans end leave one scan waiting for the newest state, not one for each."""
    store = EmbeddedStore()
    store.update("INSERT DATA { <urn:a> <urn:p> 1 }")
    pool = QueryPool(store, 1)
    scanned: list[int] = []
    sandbox = QueryPool.sandbox

    def slow_sandbox(self: QueryPool, *args: Any, **options: Any) -> Any:
        scanned.append(self.generation)
        time.sleep(0.3)
        return sandbox(self, *args, **options)

    monkeypatch.setattr(QueryPool, "sandbox", slow_sandbox)
    pool.start()
    try:
        for _ in range(3):
            pool.write(lambda: None)
            pool.vouched()
        assert vouched_after_scan(pool, 3) == {"urn:p"}
        assert scanned == [0, 3]
    finally:
        pool.close()


def answer(pool: QueryPool, job: Job) -> str:
    return pool.execute(job, 30).body.decode()


def test_a_job_vouched_for_another_generation_runs_with_all_its_classes() -> None:
    """The texts differ in what they answer, so the answer tells which one the worker ran."""
    pool = QueryPool(EmbeddedStore(), 1)
    pool.start()
    try:
        job = Job('SELECT ?t { BIND("lean" AS ?t) }', {"select": "csv"}, 10, vouched_at=0,
                  classed='SELECT ?t { BIND("classed" AS ?t) }')
        assert "lean" in answer(pool, job)
        pool.write(lambda: None)
        assert "classed" in answer(pool, job)
        head, _ = asyncio.run(pool.astream(job, 30))
        assert "classed" in head.body.decode()
        assert "lean" in answer(pool, Job(job.sparql, job.formats, 10, vouched_at=1, classed=job.classed))
    finally:
        pool.close()


def sorted_objects(base: str) -> list[str]:
    response = httpx.post(f"{base}/sparql", data={"query": "SELECT ?x { ?s <urn:p> ?x } ORDER BY ?x"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200, response.text
    return [row["x"]["value"] for row in response.json()["results"]["bindings"]]


def test_a_sort_after_a_write_that_mixes_kinds_stays_in_sparql_order() -> None:
    """Integers and strings in one sort abort pyoxigraph 0.5.13 (tests/test_ordering.py): a vouch kept past the write
    that brings the strings would make this query fail."""
    store = EmbeddedStore()
    numbers = [str(i) for i in range(1, 41)]
    store.update("INSERT DATA { " + " ".join(f"<urn:s{n}> <urn:p> {n} ; <urn:q> <urn:o> ." for n in numbers) + " }")
    app = create_app(Settings(write_token=TOKEN), store=store)
    with serve_in_thread(app) as base:
        assert "urn:p" in vouched_after_scan(app.state.pool, 0)
        assert sorted_objects(base) == numbers
        strings = " ".join(f'<urn:t{n}> <urn:p> "{n}" .' for n in numbers[:39])
        written = httpx.post(f"{base}/sparql", data={"update": f"INSERT DATA {{ {strings} }}"},
                             headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert written.status_code == 204, written.text
        expected = numbers + sorted(numbers[:39])  # numbers by value, then strings by text
        assert sorted_objects(base) == expected
        assert "urn:p" not in vouched_after_scan(app.state.pool, 1)
        assert sorted_objects(base) == expected
