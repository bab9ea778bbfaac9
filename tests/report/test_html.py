"""The HTML report: structure (lxml), escaping, and a real browser (Chromium via Playwright).

``HULLSCAN_UPDATE_SCREENSHOT=1`` rewrites ``docs/report-html.png`` from the browser test.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import lxml.html
import pytest

from hullscan.report.html import render
from tests.report.outcome_helpers import EVIL_NAME, SCRIPT, passing_outcome, sample_outcome
from tests.support.unavailable import unavailable

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report-html.png"


def test_key_elements() -> None:
    page = lxml.html.fromstring(render(sample_outcome()))
    verdict = page.get_element_by_id("verdict")
    assert "verdict-STOP" in verdict.get("class")
    assert verdict.text_content().startswith("FAIL: STOP (2 STOP rule fires")
    assert page.findtext(".//h1") == "localhost:5000/team/app:1.0"
    fires = page.get_element_by_id("policy-fires").findall("./tbody/tr")
    assert [row[0].text for row in fires] == ["STOP", "STOP", "WARN", "WARN"]
    vulnerabilities = page.get_element_by_id("vulnerabilities").findall("./tbody/tr")
    assert [row[0].text for row in vulnerabilities] == [
        "CVE-2021-44228", "CVE-2023-38545", "GHSA-xxxx-yyyy-zzzz"]
    assert vulnerabilities[0][6].text == "KEV EPSS 97.0%"
    assert vulnerabilities[1][7].text == "GO"  # allowlisted
    allowlisted = page.get_element_by_id("allowlisted").findall("./tbody/tr")
    assert allowlisted[0][4].text == "SOCKS5 proxy never used"
    assert "expired on 2026-01-01" in page.get_element_by_id("expired").text_content()
    checks = page.get_element_by_id("checks").findall("./tbody/tr")
    assert "(deleted in #3)" in checks[0][4].text
    assert checks[0][5].text == "AWS_ACCESS_KEY_ID=AKIA************MPLE"


def test_image_text_is_escaped_and_nothing_is_fetched() -> None:
    text = render(sample_outcome())
    page = lxml.html.fromstring(text)
    assert len(page.findall(".//script")) == 1  # only ours
    assert page.findall(".//b") == []
    assert SCRIPT not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert EVIL_NAME in page.text_content()
    for element in page.iter():
        for name in ("src", "href"):
            assert element.get(name) is None
    csp = page.find(".//meta[@http-equiv='Content-Security-Policy']").get("content")
    assert csp.startswith("default-src 'none'")


def test_passing_and_policy_free_banners() -> None:
    page = lxml.html.fromstring(render(passing_outcome()))
    assert "verdict-WARN" in page.get_element_by_id("verdict").get("class")
    page = lxml.html.fromstring(render(sample_outcome(policy=False)))
    assert page.get_element_by_id("verdict").text_content() == "SCANNED: no policy evaluated"
    assert page.find(".//table[@id='policy-fires']") is None


def test_renders_in_chromium_without_errors(tmp_path: Path) -> None:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    path = tmp_path / "report.html"
    path.write_text(render(sample_outcome()))
    problems: list[str] = []
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=["--no-sandbox"])
        except Error as error:
            unavailable(f"chromium does not start: {error}")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: problems.append(f"console {message.type}: "
                                                               f"{message.text}")
                    if message.type in ("error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
            page.on("request", lambda request: problems.append(f"request: {request.url}")
                    if not request.url.startswith("file:") else None)
            page.goto(path.as_uri())
            banner = page.locator("#verdict")
            assert banner.is_visible()
            assert banner.inner_text().startswith("FAIL: STOP")
            page.fill("#filter", "log4j")
            visible = page.locator("#vulnerabilities tbody tr:visible")
            assert visible.count() == 1
            page.fill("#filter", "")
            if os.environ.get("HULLSCAN_UPDATE_SCREENSHOT") == "1":
                SCREENSHOT.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert problems == []


@pytest.mark.parametrize("hostile", [SCRIPT, "\"><img src=x onerror=alert(1)>", "</style>"])
def test_hostile_strings_never_become_markup(hostile: str) -> None:
    outcome = sample_outcome()
    document = {**outcome.document, "image": {**outcome.document["image"],
                                              "reference": hostile}}
    page = lxml.html.fromstring(render(dataclasses.replace(outcome, document=document)))
    assert page.findtext(".//h1") == hostile
    assert page.findall(".//img") == [] and len(page.findall(".//script")) == 1
