"""The built-in generator follows the description, over HTTP against the local cloud.

For descriptions from domains the catalogues do not know: clarify -> answer every question by
its type -> the spec's DATA.md names the things the description names -> approve -> build ->
the run succeeds, which means the generated service's own unittest suite passed in
verification. Three descriptions are built end to end (a build takes 10-40 s here); the others
stop at the approved spec. One more shows that the answers change the model.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from kiln.domain.spec_documents import parse_data_model
from tests.integration.test_builds import follow

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

# (description, entities DATA.md must name, build it end to end)
CASES = [
    ("A URL shortener with custom aliases and click analytics per link", {"Link", "Click"}, True),
    (
        "A library lending system: members borrow book copies with due dates and pay fines",
        {"Member", "Book", "Copy", "Loan", "Fine"},
        True,
    ),
    (
        "A recipe sharing site where cooks post recipes with ingredients and steps, and others rate and review them",
        {"Recipe", "Ingredient", "Step", "Review"},
        True,
    ),
    (
        "Purchase orders sent to suppliers, with approval by a manager before they go out.",
        {"PurchaseOrder", "Supplier"},
        False,
    ),
    (
        "A veterinary clinic's appointments and pets, with owners and vaccination records.",
        {"Appointment", "Pet", "Owner", "Vaccination"},
        False,
    ),
    (
        "A fleet's vehicles and maintenance logs, with fuel costs per vehicle.",
        {"Vehicle", "MaintenanceLog", "FuelCost"},
        False,
    ),
    (
        "An event ticketing platform: organizers create events at venues, and attendees buy tickets with seat numbers.",
        {"Organizer", "Event", "Venue", "Attendee", "Ticket"},
        False,
    ),
]


def _answer(question: dict[str, Any]) -> Any:
    """Every question answered by its type, as a client that reads nothing but the types would."""
    if question["type"] == "boolean":
        return True
    if question["type"] == "single_choice":
        return question["options"][0]
    if question["type"] == "multi_choice":
        return question["options"][:2]
    return "Nothing more for now."


def _to_review(
    url: str, api: requests.Session, description: str, answers: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    response = api.post(f"{url}/v1/projects", json={"name": "Follow", "description": description})
    assert response.status_code == 201, response.text
    project_id = response.json()["data"]["id"]
    response = api.post(f"{url}/v1/projects/{project_id}/clarify")
    assert response.status_code == 200, response.text
    questions = response.json()["data"]["questions"]
    given = [{"questionId": q["id"], "answer": (answers or {}).get(q["id"], _answer(q))} for q in questions]
    response = api.post(f"{url}/v1/projects/{project_id}/answers", json={"answers": given})
    assert response.status_code == 200, response.text
    return project_id, response.json()["data"]["spec"], questions


@pytest.mark.parametrize("description, named, build", CASES, ids=[case[0][:24] for case in CASES])
def test_the_spec_names_what_the_description_names_and_builds(local_cloud, api, description, named, build):
    url = local_cloud.url
    project_id, spec, questions = _to_review(url, api, description)
    # The model is asked about first, with the things it understood offered by name.
    model_question = questions[0]
    assert model_question["id"] == "data_model" and model_question["type"] == "multi_choice"
    assert named <= set(model_question["options"])
    entities = {entity.name for entity in parse_data_model(spec["documents"]["DATA.md"])}
    assert named <= entities, f"missing {named - entities} in {sorted(entities)}"
    assert not {"Item", "Post"} & entities  # nothing generic in place of the user's things

    response = api.post(f"{url}/v1/projects/{project_id}/approve", json={"version": 1})
    assert response.status_code == 200, response.text
    if not build:
        return
    response = api.post(f"{url}/v1/projects/{project_id}/runs", json={"trigger": "manual"})
    assert response.status_code == 201, response.text
    run_id = response.json()["data"]["id"]
    events = follow(api, f"{url}/v1/projects/{project_id}/runs/{run_id}/events/stream")
    assert events[-1]["event"] == "RUN_COMPLETED", [e["event"] for e in events]
    run = api.get(f"{url}/v1/projects/{project_id}/runs/{run_id}").json()["data"]
    assert run["status"] == "succeeded"
    assert run["verificationResult"]["passed"] is True  # the generated unittest suite passed
    listing = api.get(f"{url}/v1/projects/{project_id}/files", params={"ref": "main", "path": "/tests"})
    tests = {entry["name"] for entry in listing.json()["data"]["entries"]}
    for name in named:
        module = "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")
        assert f"test_{module}.py" in tests, (name, sorted(tests))


def test_answers_drop_rename_and_add_things(local_cloud, api):
    url = local_cloud.url
    _, spec, _ = _to_review(
        url,
        api,
        CASES[0][0],
        {
            "data_model": ["Link"],
            "data_model_more": "Link -> ShortLink. We also keep campaigns with a budget.",
        },
    )
    entities = {entity.name: entity for entity in parse_data_model(spec["documents"]["DATA.md"])}
    assert "Click" not in entities and "Link" not in entities
    assert {"ShortLink", "Campaign"} <= set(entities)
    assert any(field.name == "budget" and field.type == "decimal" for field in entities["Campaign"].fields)
    assert "/short-links/{shortLinkId}" in spec["documents"]["ROUTES.md"]
