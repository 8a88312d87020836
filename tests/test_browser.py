"""A person in a real browser (headless Chromium driven by Playwright) against a real uvicorn on loopback.

Screenshots are kept in var/screenshots/. Without Chromium these tests skip with the reason; where
ECRN_REQUIRE_BROWSER is set (CI sets it) they fail instead.
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
if CHROMIUM is None and os.environ.get("ECRN_REQUIRE_BROWSER"):
    raise RuntimeError("ECRN_REQUIRE_BROWSER is set but Chromium is not installed (Debian: apt-get install chromium)")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install "
                                                          "chromium; `make test` installs it when run as root)")]

if os.environ.get("ECRN_REQUIRE_BROWSER"):
    from playwright import sync_api  # required: an ImportError here fails the run instead of skipping
else:
    sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator["sync_api.Browser"]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: "sync_api.Browser", request: pytest.FixtureRequest) -> Iterator["sync_api.Page"]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    failed: list[str] = []
    opened.on("requestfailed", lambda r: failed.append(r.url))
    opened.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    yield opened
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not failed, f"requests failed: {failed}"


def test_from_home_to_a_region_to_one_of_its_organisations(tab: "sync_api.Page", live_server: str) -> None:
    tab.goto(live_server + "/")
    sync_api.expect(tab.locator("h1")).to_have_text("ECRN knowledge graph")
    tab.get_by_role("navigation", name="Main").get_by_role("link", name="Regions").click()
    tab.get_by_role("link", name="Saxony-Anhalt", exact=True).click()
    sync_api.expect(tab).to_have_url(re.compile(r"/doc/region/saxony-anhalt$"))
    sync_api.expect(tab.locator("h1")).to_have_text("Saxony-Anhalt")
    organisation = tab.locator("main a[href^='/doc/organisation/']").first
    name = organisation.inner_text()
    organisation.click()
    sync_api.expect(tab).to_have_url(re.compile(r"/doc/organisation/"))
    sync_api.expect(tab.locator("h1")).to_have_text(name)


def test_switching_the_language_shows_german_labels(tab: "sync_api.Page", live_server: str) -> None:
    tab.goto(live_server + "/doc/region/saxony-anhalt")
    tab.get_by_role("navigation", name="Language of labels").get_by_role("link", name="Deutsch").click()
    sync_api.expect(tab.locator("h1")).to_have_text("Sachsen-Anhalt")
    sync_api.expect(tab.locator("h1")).to_have_attribute("lang", "de")


def test_the_keyboard_reaches_the_content_first(tab: "sync_api.Page", live_server: str) -> None:
    tab.goto(live_server + "/regions")
    tab.keyboard.press("Tab")
    sync_api.expect(tab.locator(":focus")).to_have_text("Skip to content")
    tab.keyboard.press("Enter")
    sync_api.expect(tab.locator(":focus")).to_have_attribute("id", "main")


def test_the_search_box_suggests_labels_as_one_types(tab: "sync_api.Page", live_server: str) -> None:
    tab.goto(live_server + "/")
    tab.locator("#site-search").press_sequentially("Saxo", delay=30)
    sync_api.expect(tab.locator("#site-suggestions option").first).to_have_attribute("value", re.compile("Saxony"))
    tab.locator("#site-search").press("Enter")
    sync_api.expect(tab).to_have_url(re.compile(r"/search\?q=Saxo"))
    tab.locator("main ol.items a", has_text="Saxony-Anhalt").first.click()
    sync_api.expect(tab.locator("h1")).to_contain_text("Saxony-Anhalt")


def test_the_network_links_to_the_regions(tab: "sync_api.Page", live_server: str) -> None:
    tab.goto(live_server + "/network")
    tab.locator("svg a.node[href='/doc/region/usti-region'] circle").click()
    sync_api.expect(tab.locator("h1")).to_have_text(re.compile("Ústí"))


def test_a_query_typed_on_the_query_page_shows_its_result_table(tab: "sync_api.Page", live_server: str) -> None:
    tab.goto(live_server + "/sparql")
    editor = tab.locator("#query")
    editor.fill("PREFIX ecrn: <https://w3id.org/ecrn/def/>\nSELECT ?region WHERE { ?region a ecrn:Region }")
    tab.locator("#run").click()
    rows = tab.locator("#results tbody tr")
    sync_api.expect(rows.first).to_be_visible()
    total = tab.request.get(live_server + "/api/regions").json()["total"]
    sync_api.expect(rows).to_have_count(total)
    sync_api.expect(tab.locator("#results thead")).to_contain_text("region")
    link = tab.locator("#results tbody a").first
    sync_api.expect(link).to_have_attribute("href", re.compile(r"^/doc/region/"))  # as the server links IRIs
    sync_api.expect(tab.get_by_role("link", name=re.compile("CSV"))).to_be_visible()
