"""Images through the API against a real registry: add (202) -> analysed by the in-process
pool -> SBOM, vulnerabilities, checks, evaluation, reports; the CVE question; listing,
filters and deletion."""

from __future__ import annotations

import json

from sqlalchemy import select

from hullscan.service.store.models import Analysis
from hullscan.service.tokens import Scope
from tests.service.api.conftest import Api, RecordingQueue
from tests.service.conftest import StagedImages


def test_add_analyse_and_read_results(api: Api, staged: StagedImages) -> None:
    added = api.post("/v1/images", json={"reference": staged.vulnerable})
    assert added.status_code == 202, added.text
    image = added.json()
    assert image["queued"] and image["status"] == "queued"
    assert image["digest"].startswith("sha256:") and image["tag"] == "1"
    assert image["reference"] == f"{staged.vulnerable}@{image['digest']}"

    analysed = api.wait_analysed(image["id"])
    assert analysed["final_action"] in {"GO", "WARN", "STOP"}
    assert analysed["vulnerability_count"] > 0 and analysed["analysed_at"]

    vulnerabilities = api.get(f"/v1/images/{image['id']}/vulnerabilities")
    assert vulnerabilities.status_code == 200, vulnerabilities.text
    report = vulnerabilities.json()
    assert report["digest"] == image["digest"] and report["database_built_at"]
    assert len(report["findings"]) >= analysed["vulnerability_count"] > 0
    assert sum(report["summary"].values()) == len(report["findings"])
    finding = report["findings"][0]
    assert finding["id"] and finding["package"]["name"]

    evaluation = api.get(f"/v1/images/{image['id']}/evaluation").json()
    assert evaluation["final_action"] == analysed["final_action"]
    assert evaluation["image"]["tag"] == "1" and evaluation["bundle"]["id"]

    cyclonedx = api.get(f"/v1/images/{image['id']}/sbom")
    assert cyclonedx.status_code == 200
    assert cyclonedx.headers["content-type"].startswith("application/vnd.cyclonedx+json")
    assert cyclonedx.json()["components"]
    spdx = api.get(f"/v1/images/{image['id']}/sbom", params={"format": "spdx-json"})
    assert spdx.json()["spdxVersion"] == "SPDX-2.3" and spdx.json()["packages"]
    unknown = api.get(f"/v1/images/{image['id']}/sbom", params={"format": "pdf"})
    assert unknown.status_code == 400 and "choose from" in unknown.json()["error"]

    checks = api.get(f"/v1/images/{image['id']}/checks")
    assert checks.status_code == 200 and isinstance(checks.json()["checks"], list)
    sarif = api.get(f"/v1/images/{image['id']}/report", params={"format": "sarif"})
    assert sarif.status_code == 200 and json.loads(sarif.text)["runs"]
    full = api.get(f"/v1/images/{image['id']}/report").json()
    assert full["policy"]["final_action"] == analysed["final_action"]

    # The question every incident starts with.
    cve = finding["id"]
    affected = api.get(f"/v1/vulnerabilities/{cve}/images").json()
    assert affected["vulnerability"] == cve
    assert {i["image_id"] for i in affected["images"]} == {image["id"]}
    assert affected["images"][0]["package"] == finding["package"]["name"]
    assert api.get("/v1/vulnerabilities/CVE-1999-0000/images").json()["images"] == []

    # Adding it again (by digest) queues nothing: the digest is analysed once.
    again = api.post("/v1/images", json={"reference": image["reference"].split(":1@")[0]
                                         + "@" + image["digest"]})
    assert again.status_code == 202 and not again.json()["queued"]
    assert again.json()["status"] == "analysed" and again.json()["id"] != image["id"]
    with api.service.store.session() as session:
        row = session.scalar(select(Analysis).where(Analysis.digest == image["digest"]))
    assert row is not None and row.analysis_count == 1


def test_list_filter_and_delete(idle_api: Api, staged: StagedImages) -> None:
    api = idle_api
    vulnerable = api.post("/v1/images", json={"reference": staged.vulnerable}).json()
    clean = api.post("/v1/images", json={"reference": staged.clean}).json()
    assert isinstance(api.queue, RecordingQueue)
    assert api.queue.submitted == [vulnerable["digest"], clean["digest"]]

    listed = api.get("/v1/images").json()
    assert listed["total"] == 2 and [i["id"] for i in listed["items"]] == [
        vulnerable["id"], clean["id"]]
    by_repository = api.get("/v1/images", params={"repository": clean["repository"]}).json()
    assert [i["id"] for i in by_repository["items"]] == [clean["id"]]
    assert api.get("/v1/images", params={"status": "analysed"}).json()["total"] == 0
    assert api.get("/v1/images", params={"status": "queued", "tag": "1"}).json()["total"] == 2
    assert api.get("/v1/images", params={"final_action": "STOP"}).json()["total"] == 0
    page = api.get("/v1/images", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [clean["id"]]
    assert api.get("/v1/images", params={"status": "bogus"}).status_code == 422

    # Results wait for the analysis.
    early = api.get(f"/v1/images/{clean['id']}/vulnerabilities")
    assert early.status_code == 409 and "not analysed" in early.json()["error"]

    assert api.delete(f"/v1/images/{clean['id']}").status_code == 204
    assert api.get(f"/v1/images/{clean['id']}").status_code == 404
    with api.service.store.session() as session:
        assert session.scalar(select(Analysis).where(
            Analysis.digest == clean["digest"])) is None
    assert api.get("/v1/images").json()["total"] == 1


def test_bad_references(idle_api: Api, staged: StagedImages) -> None:
    api = idle_api
    # Local sources are refused without looking at the server's filesystem.
    for local in ("oci-dir:/tmp", "/etc", "dir:/"):
        invalid = api.post("/v1/images", json={"reference": local})
        assert invalid.status_code == 400, local
    assert "registries only" in api.post("/v1/images", json={"reference": "oci:/x"}).text
    missing = api.post("/v1/images",
                       json={"reference": f"{staged.server.host}/nothing/here:1"})
    assert missing.status_code == 404, missing.text
    extra = api.post("/v1/images", Scope.WRITE, json={"reference": "a/b:1", "what": 1})
    assert extra.status_code == 422
