"""Policies: invalid uploads list every problem; activation is exclusive and changes the
evaluation of an analysed image at once (no re-analysis)."""

from __future__ import annotations

from sqlalchemy import select

from hullscan.service.store.models import Analysis
from tests.service.api.conftest import Api
from tests.service.conftest import StagedImages

BROKEN = """\
version: "1"
id: broken
name: Broken
policies:
  - id: p
    name: P
    rules:
      - id: r1
        gate: no_such_gate
        trigger: x
        action: STOP
      - id: r2
        gate: vulnerabilities
        trigger: package
        params: {severity: extreme}
        action: STOP
"""


def bundle(bundle_id: str, action: str) -> str:
    """A bundle whose one rule always fires with ``action``."""
    return f"""\
version: "1"
id: {bundle_id}
name: Always {action}
policies:
  - id: always
    name: Always
    rules:
      - id: always
        gate: always
        trigger: always
        action: {action}
"""


def test_invalid_upload_lists_every_problem(idle_api: Api) -> None:
    api = idle_api
    response = api.post("/v1/policies", content=BROKEN,
                        headers={"Content-Type": "application/yaml"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("upload:9: policies[0].rules[0].gate: unknown gate")
    assert [(p["path"], p["line"]) for p in body["problems"]] == [
        ("policies[0].rules[0].gate", 9), ("policies[0].rules[1].params.severity", 15)]
    assert all(p["message"] for p in body["problems"])
    wrapped = api.post("/v1/policies", json={"document": "id: [unclosed"})
    assert wrapped.status_code == 400 and wrapped.json()["problems"][0]["line"] == 1
    assert api.post("/v1/policies", json={"text": "x"}).status_code == 422
    assert api.get("/v1/policies").json() == []


def test_upload_activate_and_evaluate(api: Api, staged: StagedImages) -> None:
    image = api.post("/v1/images", json={"reference": staged.clean}).json()
    api.wait_analysed(image["id"])
    default = api.get(f"/v1/images/{image['id']}/evaluation").json()
    assert default["bundle"]["id"] == "hullscan-default"

    stop = api.post("/v1/policies", content=bundle("always-stop", "STOP"),
                    headers={"Content-Type": "text/plain"})
    assert stop.status_code == 201, stop.text
    assert stop.json()["active"] is False and stop.json()["policies"] == ["always"]
    go = api.post("/v1/policies", json={"document": bundle("always-go", "GO"),
                                        "activate": True})
    assert go.status_code == 201 and go.json()["active"] is True
    duplicate = api.post("/v1/policies", json={"document": bundle("always-go", "GO")})
    assert duplicate.status_code == 409

    evaluation = api.get(f"/v1/images/{image['id']}/evaluation").json()
    assert (evaluation["bundle"]["id"], evaluation["final_action"]) == ("always-go", "GO")
    assert api.get(f"/v1/images/{image['id']}").json()["final_action"] == "GO"

    activated = api.post("/v1/policies/always-stop/activate")
    assert activated.status_code == 200 and activated.json()["active"] is True
    assert [(p["id"], p["active"]) for p in api.get("/v1/policies").json()] == [
        ("always-stop", True), ("always-go", False)]
    evaluation = api.get(f"/v1/images/{image['id']}/evaluation").json()
    assert (evaluation["bundle"]["id"], evaluation["final_action"]) == ("always-stop", "STOP")
    stored = api.get(f"/v1/images/{image['id']}").json()
    assert stored["final_action"] == "STOP"
    # The stored verdict changed through the API: the change listener heard it.
    assert [c.action_after for c in api.changes][-1] == "STOP"
    assert api.get("/v1/images", params={"final_action": "STOP"}).json()["total"] == 1

    assert api.get("/v1/policies/always-stop").json()["document"] == bundle(
        "always-stop", "STOP")
    assert api.delete("/v1/policies/always-stop").status_code == 204
    assert api.get("/v1/policies/always-stop").status_code == 404
    after = api.get(f"/v1/images/{image['id']}/evaluation").json()
    assert after["bundle"]["id"] == "hullscan-default"
    with api.service.store.session() as session:
        row = session.scalar(select(Analysis).where(Analysis.digest == image["digest"]))
    assert row is not None and row.analysis_count == 1
