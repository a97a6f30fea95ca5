"""The specification workflow over HTTP against the local cloud, as a client lives it:
create -> clarify -> answers -> regenerate (with feedback) -> approve, then the races."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from kiln.domain.spec_documents import parse_data_model

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

EXAMPLE = "A project management tool with team collaboration features, task boards, and time tracking"


def _answer_for(question: dict[str, Any]) -> Any:
    if question["type"] == "boolean":
        return True
    if question["type"] == "single_choice":
        return question["options"][0]
    if question["type"] == "multi_choice":
        return question["options"][:2]
    return "Invoices are exported monthly."


def _spec_review(url: str, api: requests.Session, description: str = EXAMPLE) -> str:
    project = api.post(f"{url}/v1/projects", json={"name": "Teamwork", "description": description}).json()["data"]
    questions = api.post(f"{url}/v1/projects/{project['id']}/clarify").json()["data"]["questions"]
    answers = [{"questionId": q["id"], "answer": _answer_for(q)} for q in questions]
    response = api.post(f"{url}/v1/projects/{project['id']}/answers", json={"answers": answers})
    assert response.status_code == 200, response.text
    return project["id"]


def test_description_to_approved_spec(local_cloud, api):
    url = local_cloud.url
    response = api.post(f"{url}/v1/projects", json={"name": "Teamwork", "description": EXAMPLE})
    assert response.status_code == 201
    project_id = response.json()["data"]["id"]

    response = api.post(f"{url}/v1/projects/{project_id}/clarify")
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-Id"]
    questions = response.json()["data"]["questions"]
    ids = {q["id"] for q in questions}
    assert questions and len(ids) == len(questions)

    # A wrong answer names the problem and changes nothing.
    bad = api.post(
        f"{url}/v1/projects/{project_id}/answers", json={"answers": [{"questionId": "no_such_question", "answer": "x"}]}
    )
    assert bad.status_code == 400
    assert any(f["field"] == "answers.0.questionId" for f in bad.json()["error"]["details"]["fields"])

    answers = [{"questionId": q["id"], "answer": _answer_for(q)} for q in questions]
    response = api.post(f"{url}/v1/projects/{project_id}/answers", json={"answers": answers})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "spec_review" and data["spec"]["version"] == 1
    documents = data["spec"]["documents"]
    assert set(documents) == {"SPEC.md", "ACCEPTANCE.md", "ROUTES.md", "DATA.md"}
    # The entities the description speaks of are in the data model, which parses.
    entities = {entity.name for entity in parse_data_model(documents["DATA.md"])}
    assert {"Task", "Board", "TimeEntry", "User"} <= entities
    assert "/tasks" in documents["ROUTES.md"]

    feedback = "Add CSV export of time entries per project for monthly invoicing."
    response = api.post(f"{url}/v1/projects/{project_id}/regenerate", json={"feedback": feedback})
    assert response.status_code == 200, response.text
    second = response.json()["data"]["spec"]
    assert second["version"] == 2 and second["feedback"] == feedback
    assert feedback in second["documents"]["SPEC.md"]
    assert feedback not in documents["SPEC.md"]
    assert second["documents"]["ACCEPTANCE.md"] != documents["ACCEPTANCE.md"]

    response = api.post(f"{url}/v1/projects/{project_id}/approve", json={"version": 2})
    assert response.status_code == 200, response.text
    approved = response.json()["data"]
    assert approved["status"] == "approved" and approved["approvedAt"]

    view = api.get(f"{url}/v1/projects/{project_id}/spec").json()["data"]
    assert view["projectStatus"] == "approved" and view["spec"]["version"] == 2
    assert [(v["version"], v["feedback"], v["approvedAt"]) for v in view["versions"]] == [
        (1, None, None),
        (2, feedback, approved["approvedAt"]),
    ]
    first = api.get(f"{url}/v1/projects/{project_id}/spec", params={"version": 1}).json()["data"]["spec"]
    assert first["documents"] == documents

    project = api.get(f"{url}/v1/projects/{project_id}").json()["data"]
    assert project["status"] == "approved" and project["specVersion"] == 2

    # Approving twice is an illegal transition, answered with the states.
    again = api.post(f"{url}/v1/projects/{project_id}/approve")
    assert again.status_code == 409
    assert again.json()["error"]["details"] == {"currentStatus": "approved", "allowedFrom": ["spec_review"]}


def test_overlapping_approve_and_regenerate_never_both_win(local_cloud, api):
    """Fired together, the two either overlap (exactly one wins, the other gets 409) or land
    one after the other (both win, in an order the status machine allows). Never a mix."""
    url = local_cloud.url
    for _ in range(3):
        project_id = _spec_review(url, api)
        barrier = threading.Barrier(2)
        results: dict[str, requests.Response] = {}

        def fire(name: str, path: str) -> None:
            session = local_cloud.session()
            barrier.wait()
            results[name] = session.post(f"{url}/v1/projects/{project_id}/{path}")

        threads = [
            threading.Thread(target=fire, args=("approve", "approve")),
            threading.Thread(target=fire, args=("regenerate", "regenerate")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        codes = {name: response.status_code for name, response in results.items()}
        view = api.get(f"{url}/v1/projects/{project_id}/spec").json()["data"]
        versions = [v["version"] for v in view["versions"]]
        if codes == {"approve": 200, "regenerate": 409}:
            assert view["projectStatus"] == "approved" and versions == [1]
        elif codes == {"approve": 409, "regenerate": 200}:
            assert view["projectStatus"] == "spec_review" and versions == [1, 2]
            assert view["versions"][0]["approvedAt"] is None
        else:
            # Sequential: approve first, then regenerate withdrew the approval.
            assert codes == {"approve": 200, "regenerate": 200}, codes
            assert view["projectStatus"] == "spec_review" and versions == [1, 2]
            assert view["versions"][0]["approvedAt"] is not None


def test_concurrent_approvals_over_http_have_one_winner(local_cloud, api):
    url = local_cloud.url
    project_id = _spec_review(url, api)
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def fire() -> None:
        session = local_cloud.session()
        barrier.wait()
        codes.append(session.post(f"{url}/v1/projects/{project_id}/approve").status_code)

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(codes) == [200, 409, 409, 409]
