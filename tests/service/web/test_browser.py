"""The dashboard in headless Chromium (Playwright): log in, filter the list, open an image,
follow a finding to its layer, search a CVE, download an SBOM; no console errors.

``HULLSCAN_UPDATE_SCREENSHOTS=1`` rewrites ``docs/dashboard-*.png`` (1280x900 and 390x844).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hullscan.service.tokens import Scope
from tests.service.web.conftest import Site
from tests.support.unavailable import unavailable

pytestmark = pytest.mark.registry

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[3] / "docs"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                  args=["--no-sandbox"])
        except Error as error:
            unavailable(f"chromium does not start: {error}")
        yield launched
        launched.close()


class Watched:
    """A page whose console errors, page errors and failed requests are collected."""

    def __init__(self, browser: Any, site: Site, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("request", lambda r: self.problems.append(f"off-site: {r.url}")
                     if not r.url.startswith(site.url) else None)
        self.site = site

    def _failed(self, request: Any) -> None:
        """A failed request is a problem, unless the page itself dropped an htmx request for
        a newer one (Chromium reports those as aborted)."""
        if request.resource_type in ("xhr", "fetch") and request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"failed: {request.url} ({request.failure})")

    def login(self, scope: Scope = Scope.READ, path: str = "/") -> None:
        self.page.goto(self.site.url + path)
        assert "/login" in self.page.url
        self.page.get_by_label("API token").fill(self.site.tokens[scope])
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()


def test_the_main_journey(browser: Any, site: Site, tmp_path: Path) -> None:
    watched = Watched(browser, site, VIEWPORTS["desktop"])
    page = watched.page
    try:
        watched.login(path="/images")
        assert page.url.endswith("/images")
        assert page.locator("#image-count").inner_text().startswith("4 images")
        # Filter: htmx swaps the results and pushes the URL.
        page.get_by_label("Tag contains").fill("release")
        page.get_by_label("Tag contains").press("Enter")
        page.wait_for_url("**/images?*tag=release*")
        assert page.locator("#image-count").inner_text().startswith("1 image")
        page.get_by_label("Tag contains").fill("")
        page.locator("select[name=severity]").select_option("High")
        page.wait_for_url("**severity=High*")
        assert page.locator("#image-count").inner_text().startswith("2 images")
        # Open the image.
        page.locator("#images tbody a", has_text="vulnerable:1").click()
        page.wait_for_url(f"**/images/{site.vulnerable_id}")
        assert page.locator("#verdict").inner_text().startswith(("FAIL", "WARN"))
        # Search its vulnerabilities, then follow a finding to its layer.
        findings = page.locator("#vulnerabilities tbody tr")
        total = findings.count()
        assert total > 1
        first_id = findings.first.locator("td").first.locator("a").inner_text()
        page.get_by_label("Search", exact=True).fill(first_id)
        assert page.locator("#vulnerabilities tbody tr:visible").count() < total
        row = page.locator("#vulnerabilities tbody tr:visible").first
        layer_link = row.locator("td.layer-cell a")
        target = layer_link.get_attribute("href")
        assert target is not None and target.startswith("#layer-")
        layer_link.click()
        assert page.url.endswith(target)
        layer = page.locator(target)
        assert layer.is_visible()
        layer.locator("details.layer-findings summary").click()
        assert layer.locator("details.layer-findings", has_text=first_id).is_visible()
        # Search a CVE from the header.
        page.get_by_label("Vulnerability id").fill(first_id)
        page.get_by_role("button", name="Find").click()
        page.wait_for_url(f"**/vulnerabilities/{first_id}")
        assert "affected" in page.locator("#affected-summary").inner_text()
        assert page.locator("#affected-images tbody tr").count() >= 2  # :1 and :release
        # Download an SBOM.
        page.goto(f"{site.url}/images/{site.vulnerable_id}")
        with page.expect_download() as info:
            page.locator("#sbom-links a", has_text="cyclonedx-json").click()
        saved = tmp_path / "sbom.json"
        info.value.save_as(saved)
        document = json.loads(saved.read_text())
        assert document["bomFormat"] == "CycloneDX" and document["components"]
        # Log out: the pages want a login again.
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/login")
        page.goto(f"{site.url}/policies")
        assert "/login?next=/policies" in page.url
    finally:
        watched.close()
    assert watched.problems == []


PAGES = {
    "overview": "/",
    "images": "/images",
    "image": "/images/{vulnerable}",
    "vulnerability": None,
    "policies": "/policies",
    "subscriptions": "/subscriptions",
}


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_every_page_at_laptop_and_phone_width(browser: Any, site: Site, width: str) -> None:
    watched = Watched(browser, site, VIEWPORTS[width])
    page = watched.page
    update = os.environ.get("HULLSCAN_UPDATE_SCREENSHOTS") == "1"
    try:
        watched.login()
        if update:
            page.goto(site.url + "/login")  # the login page itself, for the picture
        page.goto(f"{site.url}/images/{site.vulnerable_id}")
        first_id = page.locator("#vulnerabilities tbody tr td a").first.inner_text()
        for name, path in PAGES.items():
            url = site.url + (path.format(vulnerable=site.vulnerable_id) if path
                              else f"/vulnerabilities/{first_id}")
            page.goto(url)
            page.wait_for_load_state("networkidle")
            assert page.locator("main h1").first.is_visible()
            # Nothing wider than the viewport but scrollable table wrappers.
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= VIEWPORTS[width]["width"] + 1, (name, overflow)
            if name == "overview":
                assert page.locator("#trend-chart").bounding_box()["height"] > 100
            if update:
                DOCS.mkdir(exist_ok=True)
                page.screenshot(path=str(DOCS / f"dashboard-{name}-{width}.png"),
                                full_page=name != "image")
        # Keyboard: the skip link is the first stop and lands on the main landmark.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
    finally:
        watched.close()
    assert watched.problems == []
