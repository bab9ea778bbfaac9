"""Continuous re-evaluation: after analysing images, a newer vulnerability database (a second
build from a modified copy of the shared feed files) is re-matched against the stored
inventories; ``vuln_update`` webhooks reach a real HTTP server, signed, only for the images
whose results changed, with the added and removed ids; no image is pulled again (every
registry request goes through a recording proxy, and none is made).

The modified feeds (:func:`modified_feeds`):

* ``osv/PyPI.zip`` without ``PYSEC-2018-28`` (requests < 2.20.0): ``vulnerable:1`` loses it;
* the Alpine secdb ``v3.11/main.json`` with a new musl secfix ``1.1.24-r3: [CVE-2099-0001]``:
  ``vulnerable:1`` (musl 1.1.23-r1) and ``clean:1`` (musl 1.1.24-r2) gain it;
* a third image, ``bystander:1`` (the clean root with musl 1.1.24-r9), is affected by
  neither and must get no notification.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from hullscan.service import rematch
from hullscan.service.operations import Service
from hullscan.service.rematch import rematch_all, split_key
from hullscan.service.store.models import Analysis, ImageResult, SubscriptionKind
from hullscan.service.webhooks import SIGNATURE_HEADER, deliver_pending, verify_signature
from hullscan.vuln.db.build import build_database
from tests.service.conftest import StagedImages, push
from tests.service.test_webhooks import SECRET, WebhookReceiver, subscribe
from tests.support.fault_proxy import FaultProxy
from tests.support.image_builder import ImageSpec, host_architecture, write_oci_layout
from tests.support.registry_servers import RegistryServer
from tests.support.vulnerable_image import ALPINE_CLEAN, alpine_layer

NEW_ID = "CVE-2099-0001"
REMOVED_ADVISORY = "PYSEC-2018-28"
REMOVED_ALIASES = frozenset({REMOVED_ADVISORY, "CVE-2018-18074"})
BYSTANDER_REF = "bystander:1"
_repositories = itertools.count()


def modified_feeds(source: Path, destination: Path) -> Path:
    """A copy of the shared feed folder with one advisory removed and one musl fix added."""
    shutil.copytree(source, destination)
    pypi = destination / "osv" / "PyPI.zip"
    _rewrite_zip(pypi, lambda name, data: None if name == f"{REMOVED_ADVISORY}.json" else data)
    alpine = destination / "alpine" / "alpine-secdb-legacy-v3.3-v3.11.zip"

    def add_fix(name: str, data: bytes) -> bytes:
        if name != "v3.11/main.json":
            return data
        document = json.loads(data)
        for package in document["packages"]:
            if package["pkg"]["name"] == "musl":
                package["pkg"]["secfixes"]["1.1.24-r3"] = [NEW_ID]
        return json.dumps(document).encode()

    _rewrite_zip(alpine, add_fix)
    return destination


def _rewrite_zip(path: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite a zip, each member through ``change`` (None drops it)."""
    rewritten = path.with_suffix(".new")
    with zipfile.ZipFile(path) as old, \
            zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)
    rewritten.replace(path)


@pytest.fixture(scope="module")
def newer_database(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The second build, from the modified copy of the feed files."""
    work = tmp_path_factory.mktemp("newer-vulndb")
    feeds = modified_feeds(vulndata, work / "feeds")
    destination = work / "vulnerability.db"
    build_database([feeds], destination)
    return destination


@pytest.fixture(scope="module")
def bystander(registry_plain: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An image neither change touches, pushed to the plain registry."""
    packages = tuple(dataclasses.replace(p, version="1.1.24-r9") if p.name == "musl" else p
                     for p in ALPINE_CLEAN)
    layout = tmp_path_factory.mktemp("bystander") / "layout"
    write_oci_layout(layout, {BYSTANDER_REF: ImageSpec(
        layers=(alpine_layer(packages, "ADD rootfs / # bystander"),),
        architecture=host_architecture(), cmd=("/bin/sh",))})
    return push(registry_plain, layout, BYSTANDER_REF, f"rematch{next(_repositories)}/bystander",
                "1")


def analyse_via(service: Service, proxy: FaultProxy, server: RegistryServer,
                references: dict[str, str]) -> dict[str, str]:
    """Add and analyse each ``label -> host/repo:tag`` through the proxy; label -> digest."""
    digests = {}
    for label, reference in references.items():
        _, analysis, created = service.add_image(reference.replace(server.host, proxy.host, 1))
        assert created and service.run_analysis(analysis.digest)
        digests[label] = analysis.digest
    return digests


def stored_keys(service: Service, digest: str) -> set[str]:
    with service.store.session() as session:
        result = session.get(ImageResult, digest)
    assert result is not None
    return set(result.vulnerabilities)


def test_newer_database_notifies_only_changed_images(
        service: Service, staged: StagedImages, bystander: str, fault_proxy: FaultProxy,
        newer_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digests = analyse_via(service, fault_proxy, staged.server, {
        "vulnerable": staged.vulnerable, "clean": staged.clean, "bystander": bystander})
    before = {label: stored_keys(service, digest) for label, digest in digests.items()}
    removed = {k for k in before["vulnerable"] if split_key(k)["id"] in REMOVED_ALIASES}
    assert removed, "the vulnerable image matches the advisory the newer data drops"
    assert not before["clean"] and not before["bystander"]

    with WebhookReceiver() as receiver:
        subscribe(service, SubscriptionKind.VULN_UPDATE, "*", receiver.url("/all"))
        subscribe(service, SubscriptionKind.VULN_UPDATE, f"{fault_proxy.host}/*/clean:*",
                  receiver.url("/clean-only"))
        subscribe(service, SubscriptionKind.POLICY_EVAL, "*", receiver.url("/policy"))
        assert fault_proxy.requests, "the analyses pulled through the proxy"
        fault_proxy.clear_requests()

        # Through the process pool (two processes, one digest or two each).
        monkeypatch.setattr(rematch, "MIN_CHUNK", 1)
        changes = rematch_all(service, newer_database, workers=2)
        attempts = deliver_pending(service)

    # No image was pulled again: not one request reached the registry.
    assert fault_proxy.requests == []
    with service.store.session() as session:
        counts = dict(session.execute(select(Analysis.digest, Analysis.analysis_count)).all())
    assert counts == dict.fromkeys(digests.values(), 1)

    by_digest = {change.digest: change for change in changes}
    assert set(by_digest) == {digests["vulnerable"], digests["clean"]}
    vulnerable, clean = by_digest[digests["vulnerable"]], by_digest[digests["clean"]]
    assert set(vulnerable.removed) == removed
    assert {split_key(k)["id"] for k in vulnerable.added} == {NEW_ID}
    assert {split_key(k)["id"] for k in clean.added} == {NEW_ID} and clean.removed == ()
    assert stored_keys(service, digests["bystander"]) == set()

    assert all(a.response_status == 200 for a in attempts)
    for request in receiver.received:
        assert verify_signature(SECRET, request.headers[SIGNATURE_HEADER.lower()],
                                request.body)
    vuln = {r.json()["digest"]: r.json() for r in receiver.received if r.path == "/all"}
    assert set(vuln) == {digests["vulnerable"], digests["clean"]}  # not the bystander
    assert len([r for r in receiver.received if r.path == "/all"]) == 2
    assert vuln[digests["vulnerable"]]["added"] == [NEW_ID]
    assert vuln[digests["vulnerable"]]["removed"] == sorted(
        {split_key(k)["id"] for k in removed})
    assert {f["package"] for f in vuln[digests["vulnerable"]]["removed_findings"]} == \
        {"requests"}
    assert vuln[digests["clean"]]["added"] == [NEW_ID]
    assert vuln[digests["clean"]]["removed"] == []
    assert vuln[digests["clean"]]["images"] == [
        staged.clean.replace(staged.server.host, fault_proxy.host, 1)]
    only_clean = [r.json() for r in receiver.received if r.path == "/clean-only"]
    assert [p["digest"] for p in only_clean] == [digests["clean"]]
    policy = sorted(r.json()["digest"] for r in receiver.received if r.path == "/policy")
    assert policy == sorted(c.digest for c in changes if c.verdict_changed)
    for payload in (r.json() for r in receiver.received if r.path == "/policy"):
        change = by_digest[payload["digest"]]
        assert (payload["action_before"], payload["action_after"]) == \
            (change.action_before, change.action_after)

    # The same data again: nothing changes, nothing is notified.
    assert rematch_all(service, newer_database) == []
    assert deliver_pending(service) == []
    assert fault_proxy.requests == []


def test_split_key() -> None:
    assert split_key("NSWG-ECO-1+@scope/pkg@1.0.0") == {
        "id": "NSWG-ECO-1", "package": "@scope/pkg", "version": "1.0.0"}
    assert split_key("CVE-1+musl@1.1.24-r2") == {
        "id": "CVE-1", "package": "musl", "version": "1.1.24-r2"}
