"""Resources as the reference documents shape them, over HTTP against the local cloud: what a
client written from those documents (and from the served OpenAPI document) relies on.

Directory entries say `directory`; an export's or conversion's v1 status reads `processing`,
`completed` or `failed` while the strict v2 endpoint keeps the precise state; every answer of
a deprecated route carries its deprecation headers, errors included; a run lists task
summaries, each definition once; a key's creation and its replay both match the document;
a project with nothing built exports as what it is; an upload feeds one operation only.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.integration.test_archives_api import TREE, import_sync, tarred, upload, wait, zipped
from tests.integration.test_spec_workflow import _spec_review

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

TABLE = "kiln-local"
DEPRECATION = ("Deprecation", "Sunset", "Link")
MISSING_PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
MISSING_UPLOAD = "upl_01m885m8rskqxxjknrtpgbxm1p"
MISSING_CONVERSION = "conv_01m885m8rskqxxjknrtpgbxm1p"


@pytest.fixture(scope="module")
def document(local_cloud) -> dict[str, Any]:
    """The OpenAPI document the API serves about itself."""
    response = requests.get(f"{local_cloud.url}/v1/openapi.json", timeout=30)
    assert response.status_code == 200
    return response.json()


def validator(document: dict[str, Any], pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:kiln:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"urn:kiln:openapi#{pointer}"}, registry=registry)


def response_schema(document: dict[str, Any], path: str, method: str, status: int) -> str:
    """JSON pointer of an operation's documented JSON body for a status."""
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"


def conforms(document: dict[str, Any], pointer: str, body: Any) -> None:
    errors = sorted(validator(document, pointer).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


# --- 1. directory entries ---------------------------------------------------------------------------


def test_directory_entries_say_directory(local_cloud, api, document):
    url = local_cloud.url
    imported = import_sync(api, url, zipped(TREE, root=""), name="Listing")
    assert imported.status_code == 201, imported.text
    project_id = imported.json()["data"]["id"]
    listing = api.get(f"{url}/v1/projects/{project_id}/files", params={"ref": "main", "path": "/"})
    assert listing.status_code == 200, listing.text
    assert listing.json()["data"]["entries"] == [
        {"name": "app", "type": "directory"},
        {"name": "README.md", "type": "file", "size": len(TREE["README.md"])},
    ]
    conforms(document, response_schema(document, "/v1/projects/{projectId}/files", "get", 200), listing.json())
    entry = document["components"]["schemas"]["Directory"]["properties"]["entries"]["items"]
    entry = document["components"]["schemas"][entry["$ref"].rsplit("/", 1)[-1]] if "$ref" in entry else entry
    assert entry["properties"]["type"]["enum"] == ["directory", "file"]


# --- 2. the v1 vocabulary of asynchronous operations ---------------------------------------------------


def test_an_export_reads_processing_then_completed_on_v1_and_succeeded_on_v2(local_cloud, api, document):
    url = local_cloud.url
    project_id = import_sync(api, url, zipped(TREE), name="Vocabulary").json()["data"]["id"]
    for path in (f"/v1/projects/{project_id}/exports", f"/v1/projects/{project_id}/export"):  # legacy too
        started = api.post(url + path, json={"format": "zip"})
        assert started.status_code == 202, started.text
        assert started.json()["data"]["status"] == "processing"
        export_id = started.json()["data"]["id"]
        strict = wait(api, url, f"/v2/operations/{export_id}")
        assert strict.status_code == 200 and strict.json()["data"]["status"] == "succeeded"
        resource = api.get(f"{url}/v1/projects/{project_id}/exports/{export_id}")
        assert resource.status_code == 200 and resource.json()["data"]["status"] == "completed"
        assert resource.json()["data"]["downloadUrl"]
        conforms(
            document,
            response_schema(document, "/v1/projects/{projectId}/exports/{exportId}", "get", 200),
            resource.json(),
        )
        conforms(document, response_schema(document, "/v2/operations/{callbackId}", "get", 200), strict.json())


def test_a_conversion_reads_completed_or_failed_on_v1_and_on_the_legacy_status(local_cloud, api, document):
    url = local_cloud.url
    good = api.post(
        f"{url}/v1/conversions",
        json={"uploadId": upload(api, url, tarred(TREE), "t.tar.gz", "application/gzip"), "to": "zip"},
    )
    bad = api.post(
        f"{url}/v1/conversions", json={"uploadId": upload(api, url, b"not an archive at all", "x.zip"), "to": "tar.gz"}
    )
    for started, v1, v2 in ((good, "completed", "succeeded"), (bad, "failed", None)):
        assert started.status_code == 202 and started.json()["data"]["status"] == "processing", started.text
        callback = started.json()["data"]["callbackId"]
        strict = wait(api, url, f"/v2/operations/{callback}")
        if v2 is not None:
            assert strict.status_code == 200 and strict.json()["data"]["status"] == v2
        else:
            assert strict.status_code == 422 and strict.json()["error"]["details"]["operation"]["status"] == "failed"
        for path in (f"/v1/conversions/{callback}", f"/v1/converter/status/{callback}"):
            status = api.get(url + path)
            assert status.status_code == 200 and status.json()["data"]["status"] == v1, (path, status.text)
            conforms(document, response_schema(document, "/v1/conversions/{callbackId}", "get", 200), status.json())


# --- 3. deprecation headers on every answer of a legacy route -------------------------------------------


def deprecated(response: requests.Response, successor: str) -> None:
    assert response.headers["Deprecation"].startswith("@"), response.headers
    assert response.headers["Sunset"].endswith(" GMT")
    assert response.headers["Link"] == f'<{successor}>; rel="successor-version"'


def test_errors_of_legacy_routes_carry_the_deprecation_headers(local_cloud, api, document):
    url = local_cloud.url
    unknown = api.post(f"{url}/v1/converter/convert", json={"uploadId": MISSING_UPLOAD, "to": "zip"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "VALIDATION_ERROR"
    deprecated(unknown, "/v1/conversions")
    invalid = api.post(f"{url}/v1/converter/convert", json={"to": "rar", "extra": 1})
    assert invalid.status_code == 400 and {f["field"] for f in invalid.json()["error"]["details"]["fields"]} >= {
        "uploadId",
        "to",
        "extra",
    }
    deprecated(invalid, "/v1/conversions")
    missing = api.get(f"{url}/v1/converter/status/{MISSING_CONVERSION}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    deprecated(missing, f"/v1/conversions/{MISSING_CONVERSION}")
    no_project = api.post(f"{url}/v1/projects/{MISSING_PROJECT}/export", json={"format": "zip"})
    assert no_project.status_code == 404
    deprecated(no_project, f"/v1/projects/{MISSING_PROJECT}/exports")
    # The successors themselves are not deprecated.
    successor = api.post(f"{url}/v1/conversions", json={"uploadId": MISSING_UPLOAD, "to": "zip"})
    assert successor.status_code == 400 and not set(DEPRECATION) & set(successor.headers)
    # ... and the document says so.
    for path, method in (
        ("/v1/converter/convert", "post"),
        ("/v1/converter/status/{callbackId}", "get"),
        ("/v1/projects/{projectId}/export", "post"),
    ):
        operation = document["paths"][path][method]
        assert operation["deprecated"] is True
        for status in ("400", "404", "429"):
            ref = operation["responses"][status]["$ref"].rsplit("/", 1)[-1]
            assert set(DEPRECATION) <= set(document["components"]["responses"][ref]["headers"]), (path, status)


def test_a_429_of_the_pipeline_on_a_legacy_route_carries_the_deprecation_headers(local_cloud, api):
    url = local_cloud.url
    minted = api.post(f"{url}/v1/api-keys", json={"name": "spent", "scopes": ["project:read", "project:write"]})
    assert minted.status_code == 201, minted.text
    key = minted.json()["data"]
    # The key's write window, spent: what its earlier requests would have written.
    start = int(time.time() // 60 * 60)
    local_cloud.aws("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"RATE#{key['id']}"},
            "sk": {"S": "write"},
            **{name: {"N": str(value)} for name, value in {"win": start, "prev": 10**6, "cur": 10**6}.items()},
        },
    )
    session = local_cloud.session(key["secret"])
    refused = session.post(f"{url}/v1/converter/convert", json={"uploadId": MISSING_UPLOAD, "to": "zip"})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED", refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    deprecated(refused, "/v1/conversions")


# --- 4. a run lists task summaries --------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_run(local_cloud) -> tuple[str, str]:
    """(project id, run id) of a finished build of the example project."""
    api = local_cloud.session()
    url = local_cloud.url
    project_id = _spec_review(url, api)
    assert api.post(f"{url}/v1/projects/{project_id}/approve").status_code == 200
    run = api.post(f"{url}/v1/projects/{project_id}/runs", json={"trigger": "manual"})
    assert run.status_code == 201, run.text
    run_id = run.json()["data"]["id"]
    done = wait(api, url, f"/v2/operations/{run_id}", deadline=240)
    assert done.status_code == 200, done.text
    return project_id, run_id


def test_a_run_carries_task_summaries_and_each_definition_once(local_cloud, api, document, built_run):
    url = local_cloud.url
    project_id, run_id = built_run
    response = api.get(f"{url}/v1/projects/{project_id}/runs/{run_id}")
    assert response.status_code == 200, response.text
    run = response.json()["data"]
    plan = run["tasksJson"]["tasks"]
    assert len(plan) >= 3
    assert run["tasks"] == [
        {"id": definition["id"], "slug": definition["slug"], "status": "succeeded", "sequence": index}
        for index, definition in enumerate(plan, start=1)
    ]
    for definition in plan:  # each definition's text appears once in the whole answer
        assert response.text.count(json.dumps(definition["instructions"], ensure_ascii=False)) == 1, definition["id"]
    conforms(document, response_schema(document, "/v1/projects/{projectId}/runs/{runId}", "get", 200), response.json())
    # The whole task is one request away.
    first = api.get(f"{url}/v1/projects/{project_id}/runs/{run_id}/tasks/{plan[0]['id']}").json()["data"]
    assert first["definition"] == plan[0] and first["branchName"].startswith(f"feat/{plan[0]['id']}-")
    assert first["result"]["commitSha"]
    # The generated tree lists its directories with the documented word.
    root = api.get(f"{url}/v1/projects/{project_id}/files", params={"path": "/"}).json()["data"]["entries"]
    assert {"directory"} <= {entry["type"] for entry in root} <= {"directory", "file"}


# --- 5. a key's secret, and its replay, as documented ----------------------------------------------------


def test_key_creation_and_rotation_and_their_replays_match_the_document(local_cloud, api, document):
    url = local_cloud.url
    create = {"name": "replayed", "scopes": ["project:read"]}
    first = api.post(f"{url}/v1/api-keys", json=create, headers={"Idempotency-Key": "conformance-create"})
    again = api.post(f"{url}/v1/api-keys", json=create, headers={"Idempotency-Key": "conformance-create"})
    key_id = first.json()["data"]["id"]
    rotate = f"{url}/v1/api-keys/{key_id}/rotate"
    rotated = api.post(rotate, headers={"Idempotency-Key": "conformance-rotate"})
    rotated_again = api.post(rotate, headers={"Idempotency-Key": "conformance-rotate"})
    for path, answer, replay in (
        ("/v1/api-keys", first, again),
        ("/v1/api-keys/{keyId}/rotate", rotated, rotated_again),
    ):
        assert answer.status_code == replay.status_code == 201, (answer.text, replay.text)
        assert "Idempotent-Replayed" not in answer.headers and replay.headers["Idempotent-Replayed"] == "true"
        assert answer.json()["data"]["secret"].startswith("kiln_")
        assert "secret" not in replay.json()["data"]  # never stored, so never replayed
        assert replay.json()["data"] == {k: v for k, v in answer.json()["data"].items() if k != "secret"}
        pointer = response_schema(document, path, "post", 201)
        conforms(document, pointer, answer.json())
        conforms(document, pointer, replay.json())
    # The new secret works; the replay did not rotate a second time.
    assert (
        requests.get(
            f"{url}/v1/projects", headers={"Authorization": f"Bearer {rotated.json()['data']['secret']}"}, timeout=30
        ).status_code
        == 200
    )


# --- 6. a project with nothing built exports as what it is ---------------------------------------------


def test_a_new_project_exports_as_its_spec_with_no_files(local_cloud, api):
    url = local_cloud.url
    created = api.post(f"{url}/v1/projects", json={"name": "Just Created", "description": "Nothing built yet."})
    project_id = created.json()["data"]["id"]
    first = api.get(f"{url}/v1/projects/{project_id}/export.kiln", allow_redirects=False)
    assert first.status_code == 202, first.text
    assert wait(api, url, f"/v2/operations/{first.json()['data']['callbackId']}").status_code == 200
    current = api.get(f"{url}/v1/projects/{project_id}/export.kiln", allow_redirects=False)
    assert current.status_code == 302, current.text
    archive = requests.get(current.headers["Location"], timeout=30)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as kiln:
        assert kiln.namelist() == ["kiln.json"]
        manifest = json.loads(kiln.read("kiln.json"))
    assert manifest["project"] == {"name": "Just Created", "description": "Nothing built yet."}
    assert manifest["files"] == [] and "spec" not in manifest
    # The archive imports again: the same project, with nothing built.
    back = import_sync(api, url, archive.content, "application/vnd.kiln+zip")
    assert back.status_code == 201 and back.json()["data"]["name"] == "Just Created", back.text
    assert back.json()["data"]["files"] == 0

    # A tree format has nothing to hold: a clear 409 naming what is missing, and nothing starts.
    for body in ({}, {"format": "zip"}, {"format": "tar.gz", "ref": "main"}):
        refused = api.post(f"{url}/v1/projects/{project_id}/exports", json=body)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["code"] == "CONFLICT" and error["details"]["reason"] == "no_main"
        assert "no 'main' branch" in error["message"]
    unknown = api.post(f"{url}/v1/projects/{project_id}/exports", json={"format": "zip", "ref": "feature"})
    assert unknown.status_code == 404 and unknown.json()["error"]["details"] == {"resource": "ref", "id": "feature"}
    explicit = api.post(f"{url}/v1/projects/{project_id}/exports", json={"format": "kiln"})
    assert explicit.status_code == 202 and explicit.json()["data"]["source"] == {"ref": "main", "commit": None}


# --- 7. an upload feeds one operation ----------------------------------------------------------------


def test_a_used_upload_is_refused_at_once_and_the_workers_stay_quiet(local_cloud, api):
    url = local_cloud.url
    log_start = len(local_cloud.log())
    upload_id = upload(api, url, zipped(TREE), "once.zip")
    imported = api.post(f"{url}/v1/projects/import", json={"uploadId": upload_id})
    assert imported.status_code == 202, imported.text
    first = imported.json()["data"]["callbackId"]
    assert wait(api, url, f"/v2/operations/{first}").status_code == 200
    for path, body in (
        ("/v1/projects/import", {"uploadId": upload_id}),
        ("/v1/conversions", {"uploadId": upload_id, "to": "tar.gz"}),
        ("/v1/converter/convert", {"uploadId": upload_id, "to": "kiln"}),
    ):
        again = api.post(url + path, json=body)
        assert again.status_code == 409, (path, again.text)
        error = again.json()["error"]
        assert error["code"] == "CONFLICT" and "already used" in error["message"]
        assert error["details"] == {"reason": "upload_consumed", "uploadId": upload_id, "consumedBy": first}
    # A conversion consumes its upload the same way.
    converted = api.post(
        f"{url}/v1/conversions", json={"uploadId": upload(api, url, zipped(TREE), "c.zip"), "to": "kiln"}
    )
    callback = converted.json()["data"]["callbackId"]
    assert wait(api, url, f"/v2/operations/{callback}").status_code == 200
    reused = api.post(f"{url}/v1/projects/import", json={"uploadId": converted.json()["data"]["uploadId"]})
    assert reused.status_code == 409 and reused.json()["error"]["details"]["consumedBy"] == callback
    time.sleep(0.5)  # let the workers' last log lines land
    assert "Traceback" not in local_cloud.log()[log_start:]
