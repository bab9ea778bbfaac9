"""Service operations on SQLite and PostgreSQL against a real registry: add, claim once,
analyse, results from the stored inventory, the CVE question."""

from __future__ import annotations

import threading

from sqlalchemy import select

from hullscan.service.operations import Service
from hullscan.service.store.models import Analysis, AnalysisStatus, ImageResult
from tests.service.conftest import StagedImages


def test_add_analyse_and_query(service: Service, staged: StagedImages) -> None:
    image, analysis, created = service.add_image(staged.vulnerable)
    assert created and analysis.status is AnalysisStatus.QUEUED
    assert analysis.digest.startswith("sha256:") and image.tag == "1"
    # The same digest under another name is not analysed again.
    again_image, again, created_again = service.add_image(
        staged.vulnerable.replace(":1", f"@{analysis.digest}"))
    assert not created_again and again.digest == analysis.digest
    assert again_image.id != image.id

    assert service.run_analysis(analysis.digest, "worker-a")
    assert not service.run_analysis(analysis.digest, "worker-b")  # analysed: nothing to do
    with service.store.session() as session:
        stored = session.scalar(select(Analysis).where(Analysis.digest == analysis.digest))
        result = session.get(ImageResult, analysis.digest)
    assert stored is not None and stored.status is AnalysisStatus.ANALYSED
    assert stored.analysis_count == 1 and stored.claimed_by == "worker-a"
    assert result is not None and result.vulnerabilities
    assert result.final_action in {"GO", "WARN", "STOP"}

    some_id = result.vulnerabilities[0].split("+")[0]
    affected = service.affected_by(some_id)
    assert {i.repository for i, _ in affected} == {image.repository}
    assert service.affected_by("CVE-1999-0000") == []

    # Recomputing with unchanged data changes nothing.
    change = service.refresh_results(analysis.digest)
    assert not change.vulnerabilities_changed and not change.verdict_changed


def test_one_claim_wins(service: Service, staged: StagedImages) -> None:
    _, analysis, _ = service.add_image(staged.clean)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        wins.append(service.claim(analysis.digest, f"w{n}"))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1
    # A redelivered job may take over an abandoned claim; a plain one may not.
    assert not service.claim(analysis.digest, "late")
    assert service.claim(analysis.digest, "rescuer", take_over=True)
