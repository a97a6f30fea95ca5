"""Archives over HTTP against the local cloud: imports (synchronous and from an upload),
exports in every format downloaded through presigned URLs, the export.kiln shortcut, legacy
routes, conversions, the strict v2 status, and hostile archives that must change nothing."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zipfile

import pytest
import requests

from tests.unit.kiln.domain import hostile_archives as hostile

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

TREE = {
    "README.md": b"# Imported\n",
    "app/main.py": b"print('hello')\n",
    "app/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
}
SPEC_DOCUMENTS = {
    "SPEC.md": "# Spec\n",
    "ACCEPTANCE.md": "# Acceptance\n",
    "ROUTES.md": "# Routes\n",
    "DATA.md": "# Data model\n",
}


def zipped(files: dict[str, bytes], root: str = "project-main/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(root + path, data)
    return buffer.getvalue()


def tarred(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack(data: bytes, format: str) -> dict[str, bytes]:
    if format == "tar.gz":
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def import_sync(api, url: str, body: bytes, content_type: str = "application/zip", **params) -> requests.Response:
    return api.post(
        f"{url}/v1/projects/import", data=body, params=params or None, headers={"Content-Type": content_type}
    )


def project_count(api, url: str) -> int:
    return api.get(f"{url}/v1/projects", params={"pageSize": 1}).json()["pagination"]["total"]


def wait(api, url: str, path: str, deadline: float = 60) -> requests.Response:
    """Polls a v2 operation until it is not 202."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        response = api.get(f"{url}{path}")
        if response.status_code != 202:
            return response
        assert int(response.headers["Retry-After"]) >= 1
        time.sleep(0.2)
    raise AssertionError(f"{path} still pending after {deadline} s")


def export(api, url: str, project_id: str, format: str, **body) -> dict:
    response = api.post(f"{url}/v1/projects/{project_id}/exports", json={"format": format, **body})
    assert response.status_code == 202, response.text
    started = response.json()["data"]
    assert started["status"] == "processing" and started["format"] == format
    assert response.headers["Location"] == f"/v1/projects/{project_id}/exports/{started['id']}"
    assert wait(api, url, f"/v2/operations/{started['callbackId']}").status_code == 200
    return api.get(f"{url}/v1/projects/{project_id}/exports/{started['id']}").json()["data"]


def upload(api, url: str, data: bytes, filename: str, content_type: str = "application/zip") -> str:
    response = api.post(
        f"{url}/v1/uploads", json={"filename": filename, "contentType": content_type, "sizeBytes": len(data)}
    )
    assert response.status_code == 201, response.text
    presigned = response.json()["data"]
    assert presigned["method"] == "POST"
    posted = requests.post(presigned["url"], data=presigned["fields"], files={"file": (filename, data)})
    assert posted.status_code in (200, 201, 204), posted.text
    return presigned["uploadId"]


@pytest.fixture
def imported(local_cloud, api) -> str:
    response = import_sync(api, local_cloud.url, zipped(TREE), name="Imported")
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def test_sync_import_strips_the_top_directory_and_files_read_back(local_cloud, api):
    response = import_sync(api, local_cloud.url, zipped(TREE))
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["name"] == "project-main" and data["status"] == "draft" and data["files"] == 3
    assert response.headers["Location"] == f"/v1/projects/{data['id']}"
    read = api.get(f"{local_cloud.url}/v1/projects/{data['id']}/files/app/main.py").json()["data"]
    assert read["content"] == "print('hello')\n"


@pytest.mark.parametrize("format", ["zip", "tar.gz", "kiln"])
def test_export_in_each_format_downloads_the_same_tree(local_cloud, api, imported, format):
    url = local_cloud.url
    done = export(api, url, imported, format)
    assert done["status"] == "completed" and done["sizeBytes"] > 0 and len(done["sha256"]) == 64
    assert done["objectExpiresAt"] and done["downloadUrl"] and done["expiresAt"]
    redirect = api.get(f"{url}/v1/projects/{imported}/exports/{done['id']}/download", allow_redirects=False)
    assert redirect.status_code == 302
    body = requests.get(redirect.headers["Location"])
    assert body.status_code == 200
    assert hashlib.sha256(body.content).hexdigest() == done["sha256"]
    assert len(body.content) == done["sizeBytes"]
    files = unpack(body.content, format)
    if format == "kiln":
        document = json.loads(files.pop("kiln.json"))
        assert document["formatVersion"].startswith("1.") and document["project"]["name"] == "Imported"
        assert {f["path"]: f["size"] for f in document["files"]} == {p: len(d) for p, d in TREE.items()}
        files = {path.removeprefix("files/"): data for path, data in files.items()}
    assert files == TREE
    if format == "zip":
        with zipfile.ZipFile(io.BytesIO(body.content)) as archive:
            assert archive.getinfo("app/logo.png").compress_type == zipfile.ZIP_STORED
            assert archive.getinfo("app/main.py").compress_type == zipfile.ZIP_DEFLATED
    # Same tree, same bytes.
    again = export(api, url, imported, format)
    assert again["sha256"] == done["sha256"]


def test_export_kiln_shortcut_starts_then_redirects(local_cloud, api, imported):
    url = local_cloud.url
    first = api.get(f"{url}/v1/projects/{imported}/export.kiln", allow_redirects=False)
    assert first.status_code == 202, first.text
    callback = first.json()["data"]["callbackId"]
    assert wait(api, url, f"/v2/operations/{callback}").status_code == 200
    second = api.get(f"{url}/v1/projects/{imported}/export.kiln", allow_redirects=False)
    assert second.status_code == 302
    assert "response-content-disposition" in second.headers["Location"]


def test_legacy_export_route_carries_deprecation_headers(local_cloud, api, imported):
    response = api.post(f"{local_cloud.url}/v1/projects/{imported}/export", json={"format": "zip"})
    assert response.status_code == 202
    assert response.headers["Deprecation"].startswith("@")
    assert response.headers["Sunset"].endswith("GMT")
    assert response.headers["Link"] == f'</v1/projects/{imported}/exports>; rel="successor-version"'


def test_kiln_round_trip_keeps_tree_spec_and_metadata(local_cloud, api):
    url = local_cloud.url
    document = hostile.kiln_document(
        TREE,
        project={"name": "Round trip", "description": "kept as is"},
        spec={
            "versions": [
                {"version": 1, "createdAt": "2026-11-01T10:00:00.000Z", "documents": SPEC_DOCUMENTS},
                {
                    "version": 2,
                    "createdAt": "2026-11-02T10:00:00.000Z",
                    "feedback": "More tests.",
                    "approvedAt": "2026-11-03T10:00:00.000Z",
                    "documents": {**SPEC_DOCUMENTS, "SPEC.md": "# Spec v2\n"},
                },
            ],
            "latestVersion": 2,
        },
    )
    response = import_sync(api, url, hostile.kiln_zip(document, TREE), "application/vnd.kiln+zip")
    assert response.status_code == 201, response.text
    first = response.json()["data"]
    assert first["status"] == "approved" and first["specVersions"] == 2
    spec = api.get(f"{url}/v1/projects/{first['id']}/spec").json()["data"]
    assert spec["spec"]["version"] == 2 and spec["spec"]["documents"]["SPEC.md"] == "# Spec v2\n"

    done = export(api, url, first["id"], "kiln")
    archive = requests.get(done["downloadUrl"]).content
    second = import_sync(api, url, archive, "application/vnd.kiln+zip").json()["data"]
    exported = json.loads(unpack(archive, "kiln")["kiln.json"])
    assert exported["project"] == {"name": "Round trip", "description": "kept as is"}
    assert [(v["version"], v.get("feedback"), v.get("approvedAt")) for v in exported["spec"]["versions"]] == [
        (1, None, None),
        (2, "More tests.", "2026-11-03T10:00:00.000Z"),
    ]
    again = export(api, url, second["id"], "kiln")
    reexported = json.loads(unpack(requests.get(again["downloadUrl"]).content, "kiln")["kiln.json"])
    for key in ("project", "spec", "files"):
        assert reexported[key] == exported[key]


def test_upload_then_import_a_large_archive_asynchronously(local_cloud, api):
    url = local_cloud.url
    big = {"data/blob.bin": os.urandom(5 * 1024 * 1024), **TREE}
    archive = zipped(big, root="")
    assert len(archive) > 4 * 1024 * 1024
    too_big = import_sync(api, url, archive)
    assert too_big.status_code == 413 and too_big.json()["error"]["details"]["limitBytes"] == 4 * 1024 * 1024
    upload_id = upload(api, url, archive, "big.zip")
    response = api.post(f"{url}/v1/projects/import", json={"uploadId": upload_id, "name": "Big"})
    assert response.status_code == 202, response.text
    callback = response.json()["data"]["callbackId"]
    done = wait(api, url, f"/v2/operations/{callback}")
    assert done.status_code == 200, done.text
    project_id = done.json()["data"]["projectId"]
    listing = api.get(f"{url}/v1/projects/{project_id}/files", params={"path": "/data"}).json()["data"]
    assert listing["entries"] == [{"name": "blob.bin", "type": "file", "size": 5 * 1024 * 1024}]


def test_conversion_and_both_status_endpoints(local_cloud, api):
    url = local_cloud.url
    upload_id = upload(api, url, tarred(TREE), "tree.tar.gz", "application/gzip")
    response = api.post(f"{url}/v1/conversions", json={"uploadId": upload_id, "to": "zip"})
    assert response.status_code == 202, response.text
    callback = response.json()["data"]["callbackId"]
    assert response.headers["Location"] == f"/v1/conversions/{callback}"
    assert wait(api, url, f"/v2/operations/{callback}").status_code == 200
    status = api.get(f"{url}/v1/conversions/{callback}")
    assert status.status_code == 200 and status.json()["data"]["status"] == "completed"
    assert unpack(requests.get(status.json()["data"]["downloadUrl"]).content, "zip") == TREE
    legacy = api.get(f"{url}/v1/converter/status/{callback}")
    assert legacy.status_code == 200 and legacy.headers["Deprecation"].startswith("@")


def test_a_failed_import_answers_its_own_code_in_v2_and_200_in_v1_and_changes_nothing(local_cloud, api):
    url = local_cloud.url
    before = project_count(api, url)
    evil = hostile.zip_of({"../escape.txt": b"x"})
    upload_id = upload(api, url, evil, "evil.zip")
    response = api.post(f"{url}/v1/projects/import", json={"uploadId": upload_id})
    callback = response.json()["data"]["callbackId"]
    failed = wait(api, url, f"/v2/operations/{callback}")
    assert failed.status_code == 422, failed.text
    error = failed.json()["error"]
    assert error["code"] == "INVALID_ARCHIVE" and error["details"]["reason"] == "path_traversal"
    assert project_count(api, url) == before


HOSTILE = {
    "path_traversal": lambda: hostile.zip_of({"../x": b"x"}),
    "absolute_path": lambda: hostile.zip_of({"/etc/passwd": b"x"}),
    "backslash": lambda: hostile.build_zip([hostile.RawEntry(name=b"a\\b.txt", data=b"x")]),
    "symlink": lambda: hostile.build_zip(
        [hostile.RawEntry(name=b"link", data=b"/etc/passwd", external_attr=0o120777 << 16)]
    ),
    "duplicate_name": lambda: hostile.zip_of({"A.txt": b"1", "a.txt": b"2"}),
    "encrypted": lambda: hostile.build_zip([hostile.RawEntry(name=b"secret.txt", data=b"x", flags=1)]),
    "corrupt": lambda: hostile.build_zip([hostile.RawEntry(name=b"bad.txt", data=b"hello", crc=1)]),
    # kiln.json describes other content than the archive holds.
    "manifest_mismatch": lambda: hostile.kiln_zip(hostile.kiln_document({"a.txt": b"fake"}), {"a.txt": b"real"}),
    "unsupported_version": lambda: hostile.kiln_zip(
        hostile.kiln_document({"a.txt": b"x"}, formatVersion="2.0"), {"a.txt": b"x"}
    ),
    "compression_ratio": lambda: hostile.build_zip(
        [
            hostile.RawEntry(
                name=b"zeros.bin",
                method=8,
                usize=8 << 20,
                compressed=hostile.deflated_zeros(8 << 20)[0],
                crc=hostile.deflated_zeros(8 << 20)[1],
            )
        ]
    ),
    # What git itself refuses: a path it reads as .git, a submodule url that is an option.
    "git_path": lambda: hostile.zip_of({"README.md": b"x", ".git./config": b"[core]\n\thooksPath = /tmp\n"}),
    "gitmodules_url": lambda: hostile.zip_of(
        {
            "README.md": b"x",
            ".gitmodules": (b'[submodule "lib"]\n\tpath = lib\n\turl = --upload-pack=touch /tmp/pwned\n'),
        }
    ),
}


@pytest.mark.parametrize("reason", sorted(HOSTILE))
def test_hostile_archives_are_rejected_precisely_and_write_nothing(local_cloud, api, reason):
    url = local_cloud.url
    before = project_count(api, url)
    response = import_sync(api, url, HOSTILE[reason]())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "INVALID_ARCHIVE"
    assert response.json()["error"]["details"]["reason"] == reason
    assert project_count(api, url) == before
    # Nothing under repos/ belongs to a project that does not exist.
    s3 = local_cloud.aws("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "bucket" in b["Name"] or "kiln" in b["Name"])
    projects = {p["id"] for p in api.get(f"{url}/v1/projects", params={"pageSize": 100}).json()["data"]}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="repos/").get("Contents", [])]
    assert {key.split("/")[2] for key in keys} <= projects | _archived(api, url)


@pytest.mark.parametrize("path", [".git /config", "git~1/config", ".g\u200cit/config", "src/.GIT./hooks/x"])
def test_every_alias_git_reads_as_dotgit_is_refused_with_its_entry(local_cloud, api, path):
    url = local_cloud.url
    before = project_count(api, url)
    response = import_sync(api, url, zipped({"README.md": b"x", path: b"[core]\n"}))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["reason"]) == ("INVALID_ARCHIVE", "git_path")
    assert error["details"]["entry"] == "project-main/" + path
    assert "git refuses" in error["message"]
    assert project_count(api, url) == before


def test_look_alikes_of_git_files_are_imported(local_cloud, api):
    files = {
        ".github/workflows/ci.yml": b"on: push\n",
        ".gitignore": b"*.pyc\n",
        ".gitattributes": b"* text\n",
        "git.txt": b"x",
        ".gitkeep": b"",
        "digit~1/x": b"x",
        ".gitmodules": b'[submodule "lib"]\n\tpath = lib\n\turl = https://example.com/lib.git\n',
    }
    response = import_sync(api, local_cloud.url, zipped(files))
    assert response.status_code == 201, response.text
    project_id = response.json()["data"]["id"]
    listing = api.get(f"{local_cloud.url}/v1/projects/{project_id}/files").json()["data"]["entries"]
    assert {entry["name"] for entry in listing} == {
        ".github",
        "digit~1",
        ".gitignore",
        ".gitattributes",
        "git.txt",
        ".gitkeep",
        ".gitmodules",
    }


def _archived(api, url) -> set[str]:
    listed = api.get(f"{url}/v1/projects", params={"pageSize": 100, "status": "archived"}).json()["data"]
    return {p["id"] for p in listed}


def test_gzip_body_is_accepted_for_tar_archives(local_cloud, api):
    response = import_sync(api, local_cloud.url, tarred(TREE), "application/gzip")
    assert response.status_code == 201, response.text
    assert gzip.decompress(tarred(TREE))  # the fixture really is gzip
