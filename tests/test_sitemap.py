"""The sitemap lists the service's pages, the dumps and the document of every resource; past the limit, an index."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from graph import EmbeddedStore
from service import sitemap
from service.app import create_app
from service.settings import Settings

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def locs(body: bytes, element: str = "url") -> list[str]:
    root = ET.fromstring(body)
    return [loc.text or "" for loc in root.findall(f"s:{element}/s:loc", NS)]


def resource_documents(store: EmbeddedStore, host: str) -> set[str]:
    prefix = "https://w3id.org/ecrn/id/"
    rows = store.query(f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{prefix}")) }}').rows()
    return {f"{host}/doc/{row['s'][len(prefix):]}" for row in rows}


def test_the_sitemap_lists_pages_dumps_and_every_resource_document(client: TestClient, store: EmbeddedStore) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    listed = locs(response.content)
    assert len(listed) == len(set(listed))
    fixed = {"http://testserver/", "http://testserver/sparql", "http://testserver/catalog",
             "http://testserver/releases", "http://testserver/dumps/ecrn-kg.nq.gz",
             "http://testserver/dumps/ecrn-kg.ttl", "http://testserver/dumps/ecrn-kg.jsonld"}
    documents = resource_documents(store, "http://testserver")
    assert len(documents) > 500
    assert set(listed) == fixed | documents
    assert "http://testserver/doc/region/saxony-anhalt" in listed


def test_the_resource_documents_it_lists_are_served(client: TestClient) -> None:
    documents = [url for url in locs(client.get("/sitemap.xml").content) if "/doc/" in url][:5]
    for url in documents:
        assert client.get(url, headers={"accept": "text/turtle"}).status_code == 200, url


def test_the_catalogue_and_dumps_carry_the_date_of_the_latest_release(client: TestClient) -> None:
    root = ET.fromstring(client.get("/sitemap.xml").content)
    dated = {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
             for u in root.findall("s:url", NS)}
    issued = client.get("/releases").json()["releases"][0]["issued"]
    assert dated["http://testserver/catalog"] is not None
    assert dated["http://testserver/catalog"].replace("+00:00", "Z") == issued
    assert dated["http://testserver/doc/region/saxony-anhalt"] is None


@pytest.fixture(scope="module")
def proxied(store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), store=store), base_url="https://data.example.org",
                    root_path="/kg") as client:
        yield client


def test_urls_carry_the_host_and_path_prefix_the_client_came_through(proxied: TestClient) -> None:
    listed = locs(proxied.get("/kg/sitemap.xml").content)
    assert listed and all(url.startswith("https://data.example.org/kg/") for url in listed)
    assert "https://data.example.org/kg/doc/region/saxony-anhalt" in listed


def test_past_the_limit_the_sitemap_is_an_index_of_pages(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = locs(client.get("/sitemap.xml").content)
    monkeypatch.setattr(sitemap, "PAGE_SIZE", 200)
    index = client.get("/sitemap.xml")
    assert ET.fromstring(index.content).tag == f"{{{NS['s']}}}sitemapindex"
    pages = locs(index.content, "sitemap")
    assert pages == [f"http://testserver/sitemap.xml?page={n}" for n in range(1, len(pages) + 1)]
    assert len(pages) == -(-len(everything) // 200)
    paged = [url for page in pages for url in locs(client.get(page).content)]
    assert paged == everything
    assert client.get(f"/sitemap.xml?page={len(pages) + 1}").status_code == 404
