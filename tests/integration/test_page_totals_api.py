"""Page mode's `total` over HTTP: what a client counts by walking every cursor page, kept by
the workspace's counts as projects are created and archived, in a new workspace and in one
whose projects predate the counts."""

from __future__ import annotations

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

TABLE = "kiln-local"


def call(cloud, method: str, path: str, key: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {key or cloud.admin_key}"}
    return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


def new_writer(cloud) -> tuple[str, str]:
    """A key of a workspace of its own (enterprise: no daily quota in the way), and that workspace."""
    workspace = call(cloud, "POST", "/v1/workspaces", json={"name": "Totals", "tier": "enterprise"})
    assert workspace.status_code == 201, workspace.text
    workspace_id = workspace.json()["data"]["id"]
    minted = call(
        cloud,
        "POST",
        "/v1/api-keys",
        json={"name": "totals", "scopes": ["project:read", "project:write"], "workspaceId": workspace_id},
    )
    assert minted.status_code == 201, minted.text
    return minted.json()["data"]["secret"], workspace_id


@pytest.fixture
def writer(local_cloud) -> str:
    """A key of an empty workspace of its own."""
    return new_writer(local_cloud)[0]


def walked(cloud, key: str, **query: str) -> list[str]:
    """Every project id, one cursor page after another."""
    ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": "7", **query, **({"cursor": cursor} if cursor else {})}
        page = call(cloud, "GET", "/v1/projects", key, params=params)
        assert page.status_code == 200, page.text
        ids += [project["id"] for project in page.json()["data"]]
        cursor = page.json()["pagination"].get("nextCursor")
        if not cursor:
            return ids


def total(cloud, key: str, **query: str) -> int:
    page = call(cloud, "GET", "/v1/projects", key, params={"page": "2", "pageSize": "4", **query})
    assert page.status_code == 200, page.text
    return page.json()["pagination"]["total"]


def test_page_totals_follow_creations_and_archives(local_cloud, writer):
    assert total(local_cloud, writer) == 0
    created = []
    for number in range(9):
        answer = call(
            local_cloud,
            "POST",
            "/v1/projects",
            writer,
            json={"name": f"Counted {number}", "description": "A project whose count the total keeps."},
        )
        assert answer.status_code == 201, answer.text
        created.append(answer.json()["data"]["id"])
    assert total(local_cloud, writer) == 9 == len(walked(local_cloud, writer))

    for project_id in created[:3]:
        archived = call(local_cloud, "DELETE", f"/v1/projects/{project_id}", writer)
        assert archived.status_code == 200 and archived.json()["data"]["status"] == "archived"
    assert call(local_cloud, "DELETE", f"/v1/projects/{created[0]}", writer).status_code == 200  # again: no change

    assert total(local_cloud, writer) == 6 == len(walked(local_cloud, writer))
    assert total(local_cloud, writer, status="archived") == 3 == len(walked(local_cloud, writer, status="archived"))
    page = call(local_cloud, "GET", "/v1/projects", writer, params={"page": "2", "pageSize": "4"}).json()
    assert [p["id"] for p in page["data"]] == walked(local_cloud, writer)[4:6]
    assert page["pagination"]["totalPages"] == 2
    # A search is counted by reading what it matches.
    assert total(local_cloud, writer, search="counted 8") == 1


def create(cloud, key: str, count: int) -> list[str]:
    made = []
    for number in range(count):
        answer = call(cloud, "POST", "/v1/projects", key, json={"name": f"P{number}", "description": "Counted."})
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["data"]["id"])
    return made


def test_a_workspace_whose_projects_predate_the_counts_gets_whole_totals(local_cloud):
    key, workspace_id = new_writer(local_cloud)
    made = create(local_cloud, key, 5)
    assert call(local_cloud, "DELETE", f"/v1/projects/{made[0]}", key).status_code == 200
    # As a deployment from before the counts left it: the projects, and no counts item. The
    # next creation's transaction then makes one holding only itself.
    counts_key = {"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "COUNT#PROJECTS"}}
    dynamodb = local_cloud.aws("dynamodb")
    dynamodb.delete_item(TableName=TABLE, Key=counts_key)
    made += create(local_cloud, key, 1)

    assert total(local_cloud, key) == 5 == len(walked(local_cloud, key))
    assert total(local_cloud, key, status="archived") == 1
    # Counted once, and complete from then on: later changes keep it right.
    item = dynamodb.get_item(TableName=TABLE, Key=counts_key, ConsistentRead=True)["Item"]
    assert item["complete"] == {"BOOL": True} and item["live"] == {"N": "5"} and item["archived"] == {"N": "1"}
    assert call(local_cloud, "DELETE", f"/v1/projects/{made[1]}", key).status_code == 200
    made += create(local_cloud, key, 2)
    assert total(local_cloud, key) == 6 == len(walked(local_cloud, key))
    assert total(local_cloud, key, status="archived") == 2 == len(walked(local_cloud, key, status="archived"))
