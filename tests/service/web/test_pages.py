"""The dashboard over HTTP: login and its cookie, every page, headers, SBOM downloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from hullscan.report.sbom import SBOM_FORMATS
from hullscan.service.tokens import Scope
from hullscan.service.web.session import COOKIE
from tests.service.web.conftest import Site

pytestmark = pytest.mark.registry


@contextmanager
def client(site: Site, scope: Scope | None = Scope.READ) -> Iterator[httpx.Client]:
    """A client logged in with the token of ``scope`` (None: not logged in)."""
    with httpx.Client(base_url=site.url, follow_redirects=False, timeout=30) as session:
        if scope is not None:
            response = session.post("/login", data={"token": site.tokens[scope], "next": "/"})
            assert response.status_code == 303, response.text
        yield session


def test_pages_need_a_login_and_the_cookie_is_strict(site: Site) -> None:
    with client(site, None) as anonymous:
        response = anonymous.get("/images?verdict=STOP")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/images%3Fverdict%3DSTOP"
        assert anonymous.get("/static/dashboard.css").status_code == 200
        bad = anonymous.post("/login", data={"token": "hs_wrong", "next": "/"})
        assert bad.status_code == 401 and "unknown or revoked" in bad.text
        harbor = anonymous.post("/login", data={"token": site.tokens[Scope.HARBOR]})
        assert harbor.status_code == 401
        good = anonymous.post("/login", data={"token": site.tokens[Scope.READ],
                                              "next": "//evil.example/"})
        assert good.headers["location"] == "/"
        cookie = good.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
        assert "SameSite=strict" in cookie and "Secure" not in cookie  # plain http here
        assert anonymous.post("/logout").headers["location"] == "/login"


@pytest.mark.parametrize("path", ["/", "/images", "/images?severity=Critical&sort=verdict",
                                  "/vulnerabilities", "/policies", "/subscriptions"])
def test_every_page_renders_with_its_headers(site: Site, path: str) -> None:
    with client(site) as session:
        response = session.get(path)
    assert response.status_code == 200, response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert '<main id="content"' in response.text


def test_image_and_vulnerability_pages(site: Site) -> None:
    with client(site) as session:
        page = session.get(f"/images/{site.vulnerable_id}")
        assert page.status_code == 200
        assert 'id="verdict"' in page.text and 'id="layer-0"' in page.text
        first = page.text.split('href="/vulnerabilities/', 2)[1].split('"')[0]
        vulnerability = session.get(f"/vulnerabilities/{first}")
        assert vulnerability.status_code == 200
        assert f"/images/{site.vulnerable_id}#" in vulnerability.text
        assert session.get("/vulnerabilities?id=cve-2099-0001").headers["location"] == \
            "/vulnerabilities/CVE-2099-0001"
        assert session.get("/images/999999").status_code == 404


def test_image_list_filters(site: Site) -> None:
    with client(site) as session:
        everything = session.get("/images").text
        assert "4 images" in everything
        stopped = session.get("/images", params={"repository": "vulnerable"}).text
        assert "2 images" in stopped
        partial = session.get("/images", params={"tag": "release"},
                              headers={"HX-Request": "true", "HX-Target": "image-results"})
        assert "1 image<" in partial.text and "<html" not in partial.text


@pytest.mark.parametrize("name", sorted(SBOM_FORMATS))
def test_sbom_downloads(site: Site, name: str) -> None:
    with client(site) as session:
        response = session.get(f"/images/{site.vulnerable_id}/sbom", params={"format": name})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["content-type"].startswith(SBOM_FORMATS[name].media_type)
    if name.endswith("json"):
        assert json.loads(response.text)


def test_writes_need_the_write_scope(site: Site) -> None:
    form = {"kind": "vuln_update", "target": "*", "interval_seconds": "300"}
    with client(site) as reader:
        assert reader.post("/subscriptions", data=form).status_code == 403
    with client(site, Scope.WRITE) as writer:
        bad = writer.post("/subscriptions", data={**form, "kind": "nonsense"})
        assert bad.status_code == 400
        made = writer.post("/subscriptions", data=form)
        assert made.status_code == 201 and "Subscription" in made.text


def test_hostile_text_is_escaped(site: Site) -> None:
    with client(site) as session:
        page = session.get("/vulnerabilities", params={"id": "<script>alert(1)</script>"})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
