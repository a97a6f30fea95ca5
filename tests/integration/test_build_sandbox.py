"""A build whose project's own tests hunt for secrets passes because the sandbox gives them none.

Over HTTP against the local cloud: a project is imported (a .kiln with an approved spec and,
on main, a test module probing for credentials, the admin key and the AWS endpoint, in its
environment and its parent process's), then built. Verification runs the whole tree's tests,
the probe's included, in the build sandbox; a leak would fail the run.
"""

from __future__ import annotations

import pytest

from tests.integration.test_builds import follow
from tests.integration.test_spec_workflow import EXAMPLE, _spec_review
from tests.local.test_local_sandbox import PROBE
from tests.unit.kiln.domain.hostile_archives import kiln_document, kiln_zip

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


def test_a_build_runs_generated_tests_where_they_find_nothing(local_cloud, api):
    url = local_cloud.url
    approved = _spec_review(url, api, EXAMPLE)
    assert api.post(f"{url}/v1/projects/{approved}/approve").status_code == 200
    spec = api.get(f"{url}/v1/projects/{approved}/spec").json()["data"]["spec"]

    # What the local cloud holds that generated code must never see: the admin key (in the
    # environment it was started with) and the emulated AWS endpoint.
    probe = PROBE.format(canaries={"admin key": local_cloud.admin_key}, endpoint=local_cloud.moto_url).encode()
    tree = {"tests/test_sandbox_probe.py": probe}
    document = kiln_document(
        tree,
        project={"name": "Probe", "description": EXAMPLE},
        spec={
            "versions": [
                {
                    "version": 1,
                    "createdAt": "2026-11-01T10:00:00.000Z",
                    "approvedAt": "2026-11-01T11:00:00.000Z",
                    "documents": spec["documents"],
                }
            ],
            "latestVersion": 1,
        },
    )
    response = api.post(
        f"{url}/v1/projects/import", data=kiln_zip(document, tree), headers={"Content-Type": "application/vnd.kiln+zip"}
    )
    assert response.status_code == 201, response.text
    project = response.json()["data"]
    assert project["status"] == "approved"

    run = api.post(f"{url}/v1/projects/{project['id']}/runs").json()["data"]
    events = follow(api, f"{url}/v1/projects/{project['id']}/runs/{run['id']}/events/stream")
    detail = api.get(f"{url}/v1/projects/{project['id']}/runs/{run['id']}").json()["data"]
    checks = {check["name"]: check for check in detail["verificationResult"]["checks"]}
    assert detail["status"] == "succeeded", (detail.get("error"), checks.get("unittest", {}).get("output"))
    assert events[-1]["event"] == "RUN_COMPLETED"

    unittest_check = checks["unittest"]
    assert unittest_check["passed"] is True
    # The probe's three tests ran with the generated project's own, and looked at their parent.
    assert unittest_check["tests"]["run"] >= 4 and unittest_check["tests"]["failures"] == 0
    assert "probe: /proc/" in unittest_check["output"]
    assert local_cloud.admin_key not in unittest_check["output"]
